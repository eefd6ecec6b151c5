"""What flowsim knows about each route it hands to the core, indexed by the core's handle.

The core sees only pools and durations; this registry remembers whose route it is, why it
started and what happened on it, as growable numpy columns (one row per handle).
"""

from __future__ import annotations

import numpy as np

# Why a route started.
AE_ADMISSION, DIRECT_ADMISSION, ELECTIVE, HOME_CARE_START, CARE_HOME_ENTRY, VIRTUAL_WARD, RESIDENT = range(7)
KIND_NAMES = (
    "ae_admission",
    "direct_admission",
    "elective",
    "home_care_start",
    "care_home_entry",
    "virtual_ward",
    "resident",
)
NO_PATHWAY = -1

_COLUMNS = {
    "person": (np.int64, -1),
    "person_id": (np.int64, -1),
    "episode": (np.int32, -1),
    "kind": (np.int8, -1),
    "pathway": (np.int8, NO_PATHWAY),
    "site": (np.int16, -1),
    "acute_pool": (np.int32, -1),  # the acute pool of leg 0, or -1 for routes outside hospital
    "dies": (np.bool_, False),  # dies at the end of the acute stay
    "deconditions": (np.bool_, False),
    "request_h": (np.float64, np.nan),  # bed request (decision to admit, or booked time)
    "bed_start_h": (np.float64, np.nan),
    "fit_h": (np.float64, np.nan),
    "bed_end_h": (np.float64, np.nan),
    "ready_h": (np.float64, 0.0),  # assessment hours between fit and onward request
    "ae_row": (np.int64, -1),  # row in the A&E attendance log, if the route came from A&E
}


class RouteRegistry:
    """Columns indexed by core handle; handles are dense 0, 1, 2, … in admission order."""

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self._cap = capacity
        for name, (dtype, fill) in _COLUMNS.items():
            setattr(self, name, np.full(capacity, fill, dtype=dtype))

    def add(self, handle: int, **values) -> None:
        if handle != self.n:
            raise RuntimeError(f"core handle {handle} out of step with registry row {self.n}")
        if handle >= self._cap:
            self._grow()
        for name, value in values.items():
            getattr(self, name)[handle] = value
        self.n += 1

    def _grow(self) -> None:
        new_cap = self._cap * 2
        for name, (dtype, fill) in _COLUMNS.items():
            old = getattr(self, name)
            new = np.full(new_cap, fill, dtype=dtype)
            new[: self._cap] = old
            setattr(self, name, new)
        self._cap = new_cap
