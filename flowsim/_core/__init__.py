"""The bed-and-transfer core: the compiled board when it is built, else its Python twin.

See docs/core.md for the semantics both implementations share.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from flowsim._core.department_reference import Department as PythonDepartment
from flowsim._core.kinds import DEPARTED, FIT, GRANTED, LOST, MOVED, CoreEvent
from flowsim._core.reference import Board as PythonBoard

CompiledBoard: Any = None
CompiledDepartment: Any = None
compiled_keyed_uniform: Any = None
_import_error: Exception | None = None
if os.environ.get("FLOWSIM_PURE_PYTHON") != "1":
    try:
        from flowsim._core.board import Board as _board
        from flowsim._core.department import Department as _department
        from flowsim._core.keyed import keyed_uniform as _keyed_uniform
    except ImportError as exc:  # no compiler on this machine, or not built yet
        _import_error = exc
    else:  # all or nothing: never a compiled board beside a twin's department
        CompiledBoard, CompiledDepartment, compiled_keyed_uniform = _board, _department, _keyed_uniform

if CompiledBoard is not None:
    Board = CompiledBoard
    Department = CompiledDepartment
    CORE = "compiled"
else:
    Board = PythonBoard
    Department = PythonDepartment
    CORE = "python"
    if os.environ.get("FLOWSIM_PURE_PYTHON") != "1":
        warnings.warn(
            f"flowsim's compiled core is not available ({_import_error}); using the "
            "pure-Python twin, which gives identical results but runs far slower. "
            "Reinstall with a C++ compiler present to build it.",
            RuntimeWarning,
            stacklevel=2,
        )

__all__ = [
    "Board",
    "Department",
    "CompiledDepartment",
    "compiled_keyed_uniform",
    "PythonDepartment",
    "CompiledBoard",
    "PythonBoard",
    "CORE",
    "CoreEvent",
    "GRANTED",
    "MOVED",
    "FIT",
    "DEPARTED",
    "LOST",
]
