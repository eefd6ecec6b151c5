"""Acute hospital: emergency and elective admissions on the core, and what follows them.

The core decides when beds are granted and freed; this module hands it routes and, once a
day, reads back what happened to update people: a discharge raises readmission risk for a
while, a long stay may decondition an older person, a placement makes someone a
care-home resident, and some people die in hospital.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from flowsim._core import DEPARTED, FIT, LOST, MOVED
from flowsim.config.schema import AGE_BANDS
from flowsim.episodes import ELECTIVE, RESIDENT
from flowsim.population import CARE_HOME, HOME, HOME_CARE
from flowsim.services.pathways import Routes

if TYPE_CHECKING:
    from flowsim.model import WholeSystemModel

_PLACE_ENDS_IN_DEATH = 40  # keyed-draw slot (see pathways.py and emergency.py for the others)


class Hospital:
    def __init__(self, model: WholeSystemModel):
        self.model = model
        self.cfg = model.config.acute
        self.cancellations_h: list[float] = []
        self.care_home_entries_h: list[float] = []
        shares = np.array([self.cfg.elective_age_shares[b] for b in AGE_BANDS])
        self.elective_band_p = shares / shares.sum()

    # -- admissions -----------------------------------------------------------------------
    def register(self, handle: int, person: int, kind: int, **values) -> None:
        pop = self.model.population
        self.model.routes.append(
            person=person,
            person_id=pop.person_id[person],
            episode=pop.episodes[person],
            age_band=pop.age_band[person],
            frailty=pop.frailty[person],
            kind=kind,
            **values,
        )
        if self.model.routes.n != handle + 1:
            raise RuntimeError(f"core handle {handle} out of step with the route registry")
        self.model.open_routes.add(person, handle)

    def admit(
        self,
        person: int,
        routes: Routes,
        i: int,
        kind: int,
        *,
        priority: int,
        max_wait: float = math.inf,
        ae_row: int = -1,
        t_offset: float = 0.0,
    ) -> int:
        """Request an acute bed for route i of `routes`; the person is in hospital from now."""
        m = self.model
        pools, stays, readies, lags = routes.legs(i)
        stays = stays.copy()
        stays[0] = max(0.0, stays[0] - t_offset)
        priorities = np.zeros(pools.size, dtype=np.int64)
        priorities[0] = priority
        handle = m.clock.admit(pools, priorities, stays, readies, lags, max_wait)
        self.register(
            handle,
            person,
            kind,
            pathway=routes.pathway[i],
            site=pools[0],
            dies=routes.dies[i],
            deconditions=routes.deconditions[i],
            elapsed_h=t_offset,
            last_pool=pools[-1],
            request_h=m.env.now,
            onward_request_h=readies[1] if pools.size > 1 else np.nan,
            ae_row=ae_row,
        )
        m.population.in_hospital[person] = True
        return handle

    def admit_batch(self, people: np.ndarray, request_h: np.ndarray, elective: bool, kind: int) -> None:
        """Direct (GP) admissions or the day's elective list, each at its own hour."""
        m = self.model
        if people.size == 0:
            return
        pop = m.population
        routes = m.routes_builder.acute_routes(
            pop.person_id[people],
            pop.episodes[people],
            pop.age_band[people],
            pop.frailty[people],
            pop.residence[people],
            m.site_of(people),
            request_h,
            np.full(people.size, elective),
        )
        priority = 1 if elective else 0
        max_wait = self.cfg.elective_max_wait_hours if elective else math.inf
        m.clock.at_times(
            request_h,
            lambda i: self.admit(int(people[i]), routes, i, kind, priority=priority, max_wait=max_wait),
        )

    def electives(self, day: int, rng: np.random.Generator, busy: np.ndarray) -> None:
        """The day's booked elective list (weekdays only), leaving out people `busy` today."""
        m = self.model
        if m.weekday(day) >= 5:
            return
        n = int(round(self.cfg.elective_admissions_per_weekday))
        pop = m.population
        bands = rng.choice(len(AGE_BANDS), size=n, p=self.elective_band_p)
        picked = []
        for b in range(len(AGE_BANDS)):
            k = int(np.count_nonzero(bands == b))
            eligible = lambda i, b=b: (
                (pop.age_band[i] == b) & ~pop.is_busy(i) & (pop.residence[i] != CARE_HOME)
            )  # noqa: E731
            picked.append(pop.pick(rng, eligible, k, max(1, int(np.count_nonzero(pop.age_band == b)))))
        people = np.concatenate(picked)
        people = people[~np.isin(people, busy)]
        pop.episodes[people] += 1
        hours = day * 24.0 + self.cfg.elective_arrival_hour + rng.random(people.size) * 0.5
        self.admit_batch(people, hours, elective=True, kind=ELECTIVE)

    def prefill(self, rng: np.random.Generator, candidates: np.ndarray) -> None:
        """Occupy each site's beds near the expected level at the start (a warm start).

        A ward's census over-represents long stays (a patient is there in proportion to
        their length of stay), so the starting patients are drawn length-biased from
        the candidates' routes and are a uniform part of the way through their stay.
        """
        m = self.model
        pop = m.population
        episode = pop.episodes[candidates] + 1
        routes = m.routes_builder.acute_routes(
            pop.person_id[candidates],
            episode,
            pop.age_band[candidates],
            pop.frailty[candidates],
            pop.residence[candidates],
            m.site_of(candidates),
            np.zeros(candidates.size),
            np.zeros(candidates.size, bool),
        )
        stay = routes.stays[:, 0]
        site = routes.pools[:, 0]
        chosen_by_site: list[np.ndarray] = []
        for s, beds in enumerate(m.pools.capacities[: m.pools.n_sites]):
            at_site = np.flatnonzero(site == s)
            n = min(int(round(self.cfg.initial_occupancy * beds)), at_site.size)
            if n == 0:
                continue
            weight = stay[at_site] / stay[at_site].sum()
            chosen_by_site.append(np.sort(rng.choice(at_site, size=n, replace=False, p=weight)))
        chosen = np.concatenate(chosen_by_site) if chosen_by_site else np.empty(0, dtype=np.int64)
        pop.episodes[candidates[chosen]] += 1
        elapsed = rng.random(chosen.size) * stay[chosen]  # part of the stay already done
        for i, offset in zip(chosen.tolist(), elapsed.tolist()):
            self.admit(int(candidates[i]), routes, i, RESIDENT, priority=0, t_offset=offset)

    # -- what the core did today ----------------------------------------------------------
    def on_events(self, ev: dict[str, np.ndarray]) -> None:
        m = self.model
        routes, pop = m.routes, m.population
        if ev["time"].size == 0:
            return
        t, kind, h, pool, leg = ev["time"], ev["kind"], ev["route"], ev["pool"], ev["leg"]
        over = (kind == DEPARTED) | (kind == LOST)
        m.open_routes.close(routes.person[h[over]], h[over])
        acute = routes.site[h] >= 0
        n_sites = m.pools.n_sites

        start = acute & (kind == MOVED) & (leg == 0)
        routes.bed_start_h[h[start]] = t[start] - routes.elapsed_h[h[start]]
        fit = acute & (kind == FIT) & (leg == 0)
        routes.fit_h[h[fit]] = t[fit]
        routes.onward_request_h[h[fit]] += t[fit]
        # A bed request withdrawn before it was granted: an elective cancelled on the day.
        lost = (kind == LOST) & acute & (leg == 0)
        routes.lost[h[lost]] = True
        self.cancellations_h.extend(t[lost & (routes.kind[h] == ELECTIVE)].tolist())
        same = pop.person_id[routes.person[h]] == routes.person_id[h]
        pop.in_hospital[routes.person[h[lost & same]]] = False

        # Leaving the acute bed: home (P0 or death) at the end of leg 0, or onward at leg 1.
        single = acute & (kind == DEPARTED) & (leg == 0)
        routes.fit_h[h[single]] = t[single]
        left = single | (acute & (kind == MOVED) & (leg == 1))
        left_h, left_t = h[left], t[left]
        routes.bed_end_h[left_h] = left_t
        people = routes.person[left_h]
        pop.in_hospital[people] = False
        dies = routes.dies[left_h]
        alive, alive_t = people[~dies], left_t[~dies]
        pop.recent_until_h[alive] = alive_t + m.config.population.demand.recent_discharge_days * 24.0
        worse = alive[routes.deconditions[left_h[~dies]]]
        pop.frailty[worse] = np.minimum(pop.frailty[worse] + 1, 3)
        pop.refresh(worse)
        m.deaths.append(people[dies])

        # Moving into a long-term place changes where the person lives.
        same_person = pop.person_id[routes.person[h]] == routes.person_id[h]
        into = (kind == MOVED) & same_person
        ch = into & (pool == m.pools.index("care_home"))
        self.care_home_entries_h.extend(t[ch & (routes.kind[h] != RESIDENT)].tolist())
        people = routes.person[h[ch]]
        for person, handle in zip(people.tolist(), h[ch].tolist()):
            m.end_routes(person, keep=handle)  # a package at home is no longer needed
        pop.residence[people] = CARE_HOME
        pop.refresh(people)
        hc = into & (pool == m.pools.index("home_care"))
        people = routes.person[h[hc]]
        people = people[pop.residence[people] == HOME]
        pop.residence[people] = HOME_CARE
        pop.refresh(people)

        # The end of a care-home stay is a death; the end of a package, a death or a return
        # to independence. Someone in A&E or hospital at that moment loses the place, and
        # their hospital route decides what happens next.
        ended = (kind == DEPARTED) & same_person & (pool >= n_sites) & ~routes.ended_early[h]
        for pool_name, residence, p_death in (
            ("care_home", CARE_HOME, 1.0),
            ("home_care", HOME_CARE, m.config.social_care.home_care_ends_in_death),
        ):
            sel = ended & (pool == m.pools.index(pool_name))
            holders = routes.person[h[sel]]
            holders = holders[pop.residence[holders] == residence]
            busy = pop.is_busy(holders)
            at_home = holders[~busy]
            u = m.keyed.uniform(pop.person_id[at_home], pop.episodes[at_home], _PLACE_ENDS_IN_DEATH)
            m.deaths.append(at_home[u < p_death])
            moved_out = np.concatenate([holders[busy], at_home[u >= p_death]])
            pop.residence[moved_out] = HOME
            pop.refresh(moved_out)
