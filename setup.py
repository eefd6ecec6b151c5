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



def core_module(name: str) -> Extension:
    """flowsim/_core/NAME.pyx as C++ (every compiled module of the core is built alike)."""
    return Extension(
        f"flowsim._core.{name}",
        [f"flowsim/_core/{name}.pyx"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        language="c++",
        extra_compile_args=["-O2"],
    )


extensions = cythonize(
    [core_module(name) for name in ("board", "keyed", "department")],
    compiler_directives={"language_level": "3"},
)
# cythonize() drops Extension(optional=...), so set it afterwards.
for ext in extensions:
    ext.optional = not REQUIRE_EXT

setup(ext_modules=extensions)
