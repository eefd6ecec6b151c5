"""What flowsim knows about each route it hands to the core, indexed by the core's handle.

The core sees only pools and durations; this registry remembers whose route it is, why it
started and what happened on it (one row per handle: handles are dense 0, 1, 2, …).
"""

from __future__ import annotations

import numpy as np

from flowsim.tables import Columns

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


def route_registry() -> Columns:
    return Columns(
        capacity=4096,
        fill={"pathway": NO_PATHWAY, "elapsed_h": 0.0},
        person=np.int64,
        person_id=np.int64,
        episode=np.int32,
        kind=np.int8,
        age_band=np.int8,  # at the start of the route
        frailty=np.int8,
        pathway=np.int8,
        site=np.int16,  # acute site of leg 0, or -1 for routes outside hospital
        dies=np.bool_,  # dies at the end of the acute stay
        deconditions=np.bool_,
        lost=np.bool_,  # an elective cancelled on the day
        ended_early=np.bool_,  # ended by the model: its holder died or moved to a care home
        last_pool=np.int32,
        elapsed_h=np.float64,  # of a stay already under way when the run started
        request_h=np.float64,  # bed requested (decision to admit, or booked time)
        bed_start_h=np.float64,
        fit_h=np.float64,
        onward_request_h=np.float64,  # fit + assessment: the onward request joins a queue
        bed_end_h=np.float64,
        ae_row=np.int64,  # row of the A&E attendance the route came from
    )


class OpenRoutes:
    """The routes each person still holds, so a death or a move can end them."""

    def __init__(self) -> None:
        self._by_person: dict[int, list[int]] = {}

    def add(self, person: int, handle: int) -> None:
        self._by_person.setdefault(person, []).append(handle)

    def close(self, people: np.ndarray, handles: np.ndarray) -> None:
        for person, handle in zip(people.tolist(), handles.tolist()):
            held = self._by_person.get(person)
            if held is not None and handle in held:
                held.remove(handle)
                if not held:
                    del self._by_person[person]

    def take(self, person: int, keep: int = -1) -> list[int]:
        """Forget and return the person's open routes, all but `keep`."""
        held = self._by_person.pop(person, [])
        if keep in held:
            self._by_person[person] = [keep]
        return [h for h in held if h != keep]
