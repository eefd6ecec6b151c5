"""Declares the Cython core (beds and transfers, the A&E department, keyed draws); everything else is in pyproject.toml.

The extension is optional so that a machine without a compiler still installs flowsim
(it then runs on the pure-Python twin). FLOWSIM_REQUIRE_EXT=1 makes a failed compile an
error, which CI sets.
"""

import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

REQUIRE_EXT = os.environ.get("FLOWSIM_REQUIRE_EXT") == "1"

extensions = cythonize(
    [
        Extension(
            "flowsim._core.board",
            ["flowsim/_core/board.pyx"],
            include_dirs=[numpy.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            language="c++",
            extra_compile_args=["-O2"],
        ),
        Extension(
            "flowsim._core.keyed",
            ["flowsim/_core/keyed.pyx"],
            include_dirs=[numpy.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            language="c++",
            extra_compile_args=["-O2"],
        ),
        Extension(
            "flowsim._core.department",
            ["flowsim/_core/department.pyx"],
            include_dirs=[numpy.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            language="c++",
            extra_compile_args=["-O2"],
        ),
    ],
    compiler_directives={"language_level": "3"},
)
# cythonize() drops Extension(optional=...), so set it afterwards.
for ext in extensions:
    ext.optional = not REQUIRE_EXT

setup(ext_modules=extensions)
