"""Community services: intermediate-care beds (P2) and reablement (P1).

Patients reach them from hospital on their routes (see pathways.py), and from home on a
GP's or community team's referral ("step-up"). Services take hospital discharges first
(a delayed discharge holds an acute bed), so people referred from home wait longest: the
national audit's waits for intermediate care are of everyone referred, from either door.
"""

from __future__ import annotations

import numpy as np

from flowsim.config.schema import CommunityConfig
from flowsim.ledger import Ledger
from flowsim.pools import Pools
from flowsim.population import Population
from flowsim.rng import lognormal_from_normal
from flowsim.services.pathways import stationary_residual
from flowsim.vocabulary import OLDER_BANDS, CoreEvent, Origin, Residence

STEP_UP_PRIORITY = 1  # behind hospital discharges (priority 0)


class Community:
    def __init__(self, cfg: CommunityConfig, *, population: Population, pools: Pools, ledger: Ledger):
        self.cfg = cfg
        self.population = population
        self.pools = pools
        self.ledger = ledger
        self.services = (
            (pools.index("community_beds"), cfg.community_bed_step_up_per_1000_65_py, cfg.community_bed_days),
            (pools.index("reablement"), cfg.reablement_step_up_per_1000_65_py, cfg.reablement_days),
        )

    def prefill(self, rng: np.random.Generator) -> None:
        for pool, slots, stay in (
            ("community_beds", self.cfg.community_beds, self.cfg.community_bed_days),
            ("reablement", self.cfg.reablement_slots, self.cfg.reablement_days),
        ):
            n = int(round(self.cfg.initial_occupancy * slots))
            people = self.population.pick_for_place(rng, n, min_band=OLDER_BANDS, residence=Residence.HOME)
            stay_h = stationary_residual(rng.standard_normal(n), rng.random(n), stay.mean, stay.cv) * 24.0
            self.ledger.start_places(people, self.pools.index(pool), stay_h)

    def step_ups(self, day: int, rng: np.random.Generator) -> None:
        """The day's referrals from home of people 65+, in office hours."""
        pop = self.population
        older = pop.older_people()
        first_h, last_h = self.cfg.step_up_hours
        for pool, rate, stay in self.services:
            if rate <= 0.0:
                continue
            n = rng.poisson(rate * older / 1000.0 / 365.0)
            people = pop.pick_for_place(rng, n, min_band=OLDER_BANDS, residence=Residence.HOME)
            stay_h = lognormal_from_normal(rng.standard_normal(people.size), stay.mean, stay.cv) * 24.0
            at_h = day * 24.0 + first_h + (last_h - first_h) * rng.random(people.size)
            self.ledger.start_places(
                people,
                pool,
                stay_h,
                origin=Origin.STEP_UP,
                at_h=at_h,
                priority=STEP_UP_PRIORITY,
                max_wait_h=self.cfg.step_up_max_wait_days * 24.0,
            )

    def on_events(self, ev: dict[str, np.ndarray]) -> None:
        """A step-up place that comes while its holder is in hospital is no longer wanted:
        the hospital's discharge decides what they need next."""
        if ev["time"].size == 0:
            return
        routes, pop = self.ledger.routes, self.population
        h = ev["route"]
        moved = (ev["kind"] == CoreEvent.MOVED) & (routes.origin[h] == Origin.STEP_UP)
        moved &= pop.person_id[routes.person[h]] == routes.person_id[h]
        for person, handle in zip(routes.person[h[moved]].tolist(), h[moved].tolist()):
            if pop.in_hospital[person]:
                self.ledger.end(handle)
