"""Acute hospital: emergency and elective admissions on the core, and what follows them.

The core decides when beds are granted and freed; this module hands it routes and reads
back what happened on the acute legs to update people: a discharge raises readmission risk
for a while, a long stay may decondition an older person, and some people die in hospital.
(What a discharge into a care home or a package means for where a person lives is social
care's rule: see social_care.py.)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from flowsim.catchment import Catchment
from flowsim.clock import CoreClock
from flowsim.config.schema import AcuteConfig
from flowsim.dates import Dates
from flowsim.ledger import Ledger
from flowsim.pools import Pools
from flowsim.population import Population
from flowsim.services.pathways import RouteBuilder, Routes
from flowsim.services.virtual_ward import VirtualWard
from flowsim.vocabulary import AGE_BANDS, MOST_FRAIL, CoreEvent, Origin, Residence


class Hospital:
    def __init__(
        self,
        cfg: AcuteConfig,
        *,
        recent_discharge_days: float,
        clock: CoreClock,
        dates: Dates,
        population: Population,
        pools: Pools,
        catchment: Catchment,
        routes: RouteBuilder,
        ledger: Ledger,
        report_deaths: Callable[[np.ndarray], None],
        virtual_ward: VirtualWard | None = None,
    ):
        self.cfg = cfg
        self.recent_discharge_h = recent_discharge_days * 24.0
        self.clock = clock
        self.dates = dates
        self.population = population
        self.pools = pools
        self.catchment = catchment
        self.routes = routes
        self.ledger = ledger
        self.report_deaths = report_deaths
        self.virtual_ward = virtual_ward
        self.cancellations_h: list[float] = []
        self.site_of_pool = pools.site_of_pool()
        self.escalated = np.zeros(pools.n_sites, dtype=bool)  # escalation beds open, by site
        shares = np.array([cfg.elective_age_shares[b] for b in AGE_BANDS])
        self.elective_band_p = shares / shares.sum()

    # -- admissions -----------------------------------------------------------------------
    def admit(
        self,
        person: int,
        routes: Routes,
        i: int,
        origin: Origin,
        *,
        priority: int,
        max_wait: float = math.inf,
        ae_row: int = -1,
        t_offset: float = 0.0,
    ) -> int:
        """Request an acute bed for route i of `routes`; the person is in hospital from now."""
        pools, stays, readies, lags = routes.legs(i)
        stays = stays.copy()
        stays[0] = max(0.0, stays[0] - t_offset)
        priorities = np.zeros(pools.size, dtype=np.int64)
        priorities[0] = priority
        # The stay itself is never cut short (shield 1); a move into a care home, or a
        # death at its end, ends the person's other places at that moment.
        handle = self.clock.admit(
            pools,
            priorities,
            stays,
            readies,
            lags,
            max_wait,
            holder=self.ledger.holder(person),
            shield=1,
            ends_others=int(routes.ends_others[i]),
        )
        self.ledger.register(
            handle,
            person,
            origin,
            pathway=routes.pathway[i],
            site=self.site_of_pool[pools[0]],
            ward_pool=pools[0],
            dies=routes.dies[i],
            deconditions=routes.deconditions[i],
            service_kind=routes.service_kind[i],
            elapsed_h=t_offset,
            last_pool=pools[-1],
            request_h=self.clock.env.now,
            onward_request_h=readies[1] if pools.size > 1 else np.nan,
            ae_row=ae_row,
        )
        self.population.in_hospital[person] = True
        return handle

    def admit_batch(self, people: np.ndarray, request_h: np.ndarray, elective: bool, origin: Origin) -> None:
        """Direct (GP) admissions or the day's elective list, each at its own hour."""
        if people.size == 0:
            return
        pop = self.population
        routes = self.routes.acute_routes(
            pop.person_id[people],
            pop.episodes[people],
            pop.age_band[people],
            pop.frailty[people],
            pop.residence[people],
            self.catchment.site_of(people),
            request_h,
            np.full(people.size, elective),
        )
        priority = 1 if elective else 0
        max_wait = self.cfg.elective_max_wait_hours if elective else math.inf
        vw = self.virtual_ward
        if origin == Origin.DIRECT_ADMISSION and vw is not None and vw.takes_direct_admissions:
            # A GP's direct admission that a virtual ward could take goes there if a slot is free.
            pid, episode = pop.person_id[people], pop.episodes[people]
            avoidable = vw.avoidable(pid, episode, pop.age_band[people], request_h // 24.0, from_ae=False)
            stay_h = vw.stay_hours(pid, episode)

            def admit_or_avoid(i: int) -> None:
                if not (avoidable[i] and vw.take(int(people[i]), float(stay_h[i]))):
                    self.admit(int(people[i]), routes, i, origin, priority=priority, max_wait=max_wait)

            self.clock.at_times(request_h, admit_or_avoid)
            return
        self.clock.at_times(
            request_h,
            lambda i: self.admit(int(people[i]), routes, i, origin, priority=priority, max_wait=max_wait),
        )

    def electives(self, day: int, rng: np.random.Generator, busy: np.ndarray) -> None:
        """The day's booked elective list (weekdays only), leaving out people `busy` today."""
        if self.dates.weekday(day) >= 5:
            return
        n = int(round(self.cfg.elective_admissions_per_weekday))
        pop = self.population
        bands = rng.choice(len(AGE_BANDS), size=n, p=self.elective_band_p)
        picked = []
        for b in range(len(AGE_BANDS)):
            k = int(np.count_nonzero(bands == b))
            eligible = lambda i, b=b: (
                (pop.age_band[i] == b) & ~pop.is_busy(i) & (pop.residence[i] != Residence.CARE_HOME)
            )  # noqa: E731
            picked.append(pop.pick(rng, eligible, k, max(1, int(np.count_nonzero(pop.age_band == b)))))
        people = np.concatenate(picked)
        people = people[~np.isin(people, busy)]
        pop.episodes[people] += 1
        spread = rng.random(people.size) * self.cfg.elective_arrival_spread_hours
        hours = day * 24.0 + self.cfg.elective_arrival_hour + spread
        esc = self.cfg.escalation
        if esc is not None and esc.elective_cancel_share > 0.0:
            # A site in escalation at midnight cancels part of the day's list in advance.
            pressed = self.escalated[self.catchment.site_of(people)]
            cancel = pressed & (rng.random(people.size) < esc.elective_cancel_share)
            self.cancellations_h.extend(hours[cancel].tolist())
            people, hours = people[~cancel], hours[~cancel]
        self.admit_batch(people, hours, elective=True, origin=Origin.ELECTIVE)

    # -- escalation ------------------------------------------------------------------------
    def start_escalation(self) -> None:
        """Review each site's pressure at the configured hours every day (if configured)."""
        if self.cfg.escalation is not None:
            self.clock.env.process(self._reviews(sorted(self.cfg.escalation.review_hours)))

    def _reviews(self, hours: list[float]):
        env = self.clock.env
        day = 0
        while True:
            for hour in hours:
                t = day * 24.0 + hour
                if t > env.now:
                    yield env.timeout(t - env.now)
                self.review_escalation()
            day += 1

    def review_escalation(self) -> None:
        """Open a site's escalation beds when its wards are full enough, counting patients
        waiting for a bed; close them when occupancy has fallen (their patients stay)."""
        esc = self.cfg.escalation
        if esc is None:
            return
        clock, board, pools = self.clock, self.clock.board, self.pools
        clock.pump()
        changed = False
        for s in range(pools.n_sites):
            groups = pools.group_pools(s)
            beds = sum(board.capacity(p) for p in groups)
            occupied = sum(board.occupied(p) for p in groups)
            waiting = sum(board.queue_length(p) for p in groups)
            pool = pools.escalation_pool(s)
            if not self.escalated[s] and occupied + waiting >= esc.open_at * beds:
                board.schedule_capacity(clock.env.now, pool, round(esc.beds_share * beds))
                self.escalated[s] = changed = True
            elif self.escalated[s] and occupied < esc.close_below * beds:
                board.schedule_capacity(clock.env.now, pool, 0)
                self.escalated[s] = False
                changed = True
        if changed:
            clock.pump()  # beds opened now go to the patients waiting now

    def prefill(self, rng: np.random.Generator, candidates: np.ndarray) -> None:
        """Occupy each site's beds near the expected level at the start (a warm start).

        A ward's census over-represents long stays (a patient is there in proportion to
        their length of stay), so the starting patients are drawn length-biased from
        the candidates' routes and are a uniform part of the way through their stay.
        """
        pop = self.population
        episode = pop.episodes[candidates] + 1
        routes = self.routes.acute_routes(
            pop.person_id[candidates],
            episode,
            pop.age_band[candidates],
            pop.frailty[candidates],
            pop.residence[candidates],
            self.catchment.site_of(candidates),
            np.zeros(candidates.size),
            np.zeros(candidates.size, bool),
        )
        stay = routes.stays[:, 0]
        ward = routes.pools[:, 0]
        chosen_by_site: list[np.ndarray] = []
        # Each ward group is filled to the starting occupancy with its own patients.
        for pool in range(self.pools.n_acute):
            at_ward = np.flatnonzero(ward == pool)
            n = min(int(round(self.cfg.initial_occupancy * self.pools.capacities[pool])), at_ward.size)
            if n == 0:
                continue
            weight = stay[at_ward] / stay[at_ward].sum()
            chosen_by_site.append(np.sort(rng.choice(at_ward, size=n, replace=False, p=weight)))
        chosen = np.concatenate(chosen_by_site) if chosen_by_site else np.empty(0, dtype=np.int64)
        pop.episodes[candidates[chosen]] += 1
        elapsed = rng.random(chosen.size) * stay[chosen]  # part of the stay already done
        for i, offset in zip(chosen.tolist(), elapsed.tolist()):
            self.admit(int(candidates[i]), routes, i, Origin.RESIDENT, priority=0, t_offset=offset)

    # -- what the core did today ----------------------------------------------------------
    def on_events(self, ev: dict[str, np.ndarray]) -> None:
        """Apply the core's events on acute legs: admissions, fitness, cancellations, leaving."""
        if ev["time"].size == 0:
            return
        routes, pop = self.ledger.routes, self.population
        t, kind, h, leg = ev["time"], ev["kind"], ev["route"], ev["leg"]
        acute = routes.site[h] >= 0

        granted = acute & (kind == CoreEvent.GRANTED) & (leg == 0)
        routes.bed_pool[h[granted]] = ev["pool"][granted]
        start = acute & (kind == CoreEvent.MOVED) & (leg == 0)
        routes.bed_start_h[h[start]] = t[start] - routes.elapsed_h[h[start]]
        fit = acute & (kind == CoreEvent.FIT) & (leg == 0)
        routes.fit_h[h[fit]] = t[fit]
        routes.onward_request_h[h[fit]] += t[fit]
        # A bed request withdrawn before it was granted: an elective cancelled on the day.
        lost = (kind == CoreEvent.LOST) & acute & (leg == 0)
        routes.lost[h[lost]] = True
        self.cancellations_h.extend(t[lost & (routes.origin[h] == Origin.ELECTIVE)].tolist())
        same = pop.person_id[routes.person[h]] == routes.person_id[h]
        pop.in_hospital[routes.person[h[lost & same]]] = False

        # Leaving the acute bed: home (P0 or death) at the end of leg 0, or onward at leg 1.
        single = acute & (kind == CoreEvent.DEPARTED) & (leg == 0)
        routes.fit_h[h[single]] = t[single]
        left = single | (acute & (kind == CoreEvent.MOVED) & (leg == 1))
        left_h, left_t = h[left], t[left]
        routes.bed_end_h[left_h] = left_t
        people = routes.person[left_h]
        pop.in_hospital[people] = False
        dies = routes.dies[left_h]
        alive, alive_t = people[~dies], left_t[~dies]
        pop.recent_until_h[alive] = alive_t + self.recent_discharge_h
        worse = alive[routes.deconditions[left_h[~dies]]]
        pop.frailty[worse] = np.minimum(pop.frailty[worse] + 1, MOST_FRAIL)
        pop.refresh(worse)
        self.report_deaths(people[dies])
