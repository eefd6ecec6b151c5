"""The ledger: who holds which place, and why each route handed to the core started.

The core sees only pools and durations. The ledger keeps one row per route (rows are the
core's route handles: dense 0, 1, 2, ...) recording whose route it is, its origin and what
happened on it, and, per person, the routes still open, so that a death or a move to a
care home can end the places a person holds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from flowsim.clock import CoreClock
from flowsim.population import Population
from flowsim.tables import Columns
from flowsim.vocabulary import NO_PATHWAY, CoreEvent, Origin


def route_registry() -> Columns:
    """One row per route; a column is filled by the service that knows it."""
    return Columns(
        capacity=4096,
        fill={"pathway": NO_PATHWAY, "elapsed_h": 0.0, "ward_pool": -1, "bed_pool": -1, "service_kind": -1},
        person=np.int64,
        person_id=np.int64,
        episode=np.int32,
        origin=np.int8,  # an Origin
        age_band=np.int8,  # at the start of the route
        frailty=np.int8,
        pathway=np.int8,
        site=np.int16,  # acute site of leg 0, or -1 for routes outside hospital
        ward_pool=np.int32,  # pool of the patient's own ward group (leg 0), or -1
        bed_pool=np.int32,  # pool of the bed granted: another group's for an outlier, or -1
        dies=np.bool_,  # dies at the end of the acute stay
        deconditions=np.bool_,
        service_kind=np.int8,  # kind of the first onward service (pathways.delay_reasons), or -1
        lost=np.bool_,  # a bed request withdrawn before it was granted (an elective cancelled)
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
    """The routes each person still holds."""

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


class Ledger:
    def __init__(self, clock: CoreClock, population: Population):
        self.clock = clock
        self.population = population
        self.routes = route_registry()
        self.open = OpenRoutes()

    def holder(self, person: int) -> int:
        """The core's group for a person's routes (rule 9): their id, never reused, unlike
        their slot in the population, which a newcomer takes after a death."""
        return int(self.population.person_id[person])

    def register(self, handle: int, person: int, origin: Origin, **values: Any) -> None:
        """Record the route the core has just numbered `handle`."""
        pop = self.population
        self.routes.append(
            person=person,
            person_id=pop.person_id[person],
            episode=pop.episodes[person],
            age_band=pop.age_band[person],
            frailty=pop.frailty[person],
            origin=origin,
            **values,
        )
        if self.routes.n != handle + 1:
            raise RuntimeError(f"core route handle {handle} out of step with the ledger")
        self.open.add(person, handle)

    def start_places(
        self,
        people: np.ndarray,
        pool: int,
        stay_h: np.ndarray,
        *,
        origin: Origin = Origin.RESIDENT,
        at_h: np.ndarray | None = None,
        priority: int = 0,
        max_wait_h: float = math.inf,
        ends_others: bool = False,
    ) -> None:
        """One-leg routes into a pool (a care-home place, a package, a community bed),
        now or each at its own hour. Priority 1 waits behind hospital discharges (0); a
        request not granted within `max_wait_h` is withdrawn. With `ends_others` (a
        care-home place), moving in ends the person's other places at that moment."""
        place = (pool, origin, priority, max_wait_h, ends_others)
        if at_h is None:
            for person, stay in zip(people.tolist(), stay_h.tolist()):
                self._start_place(person, stay, *place)
        else:
            self.clock.at_times(at_h, lambda i: self._start_place(int(people[i]), float(stay_h[i]), *place))

    def _start_place(
        self,
        person: int,
        stay_h: float,
        pool: int,
        origin: Origin,
        priority: int,
        max_wait_h: float,
        ends_others: bool,
    ) -> None:
        handle = self.clock.admit(
            [pool],
            [priority],
            [stay_h],
            [0.0],
            [0.0],
            max_wait_h,
            holder=self.holder(person),
            ends_others=0 if ends_others else -1,
        )
        self.register(handle, person, origin)

    def close(self, events: dict[str, np.ndarray]) -> None:
        """Forget routes the core has finished (departed or withdrawn)."""
        if events["time"].size == 0:
            return
        over = (events["kind"] == CoreEvent.DEPARTED) | (events["kind"] == CoreEvent.LOST)
        handles = events["route"][over]
        # Some were ended by the core itself, when their holder died or moved (rule 9).
        self.routes.ended_early[handles] |= self.clock.ended_early(handles)
        self.open.close(self.routes.person[handles], handles)

    def end_places(self, person: int, keep: int = -1) -> None:
        """End the places a person still holds (a package, a community bed), but `keep`.

        A hospital stay under way is never cut short: it ends by its own route.
        """
        routes = self.routes
        for handle in self.open.take(person, keep):
            if routes.site[handle] >= 0 and np.isnan(routes.bed_end_h[handle]) and not routes.lost[handle]:
                self.open.add(person, handle)
                continue
            self.end(handle)

    def end(self, handle: int) -> None:
        """End one route now, wherever it is, as ended by the model (not by its own course)."""
        self.clock.end(handle)
        self.routes.ended_early[handle] = True
