"""Community services: intermediate-care beds (P2) and reablement (P1).

Patients reach them from hospital on their routes (see pathways.py); here they are only
warm-started, with people already part-way through a stay when the run begins.
"""

from __future__ import annotations

import numpy as np

from flowsim.config.schema import CommunityConfig
from flowsim.ledger import Ledger
from flowsim.pools import Pools
from flowsim.population import Population
from flowsim.services.pathways import stationary_residual
from flowsim.vocabulary import OLDER_BANDS, Residence


class Community:
    def __init__(self, cfg: CommunityConfig, *, population: Population, pools: Pools, ledger: Ledger):
        self.cfg = cfg
        self.population = population
        self.pools = pools
        self.ledger = ledger

    def prefill(self, rng: np.random.Generator) -> None:
        for pool, slots, stay in (
            ("community_beds", self.cfg.community_beds, self.cfg.community_bed_days),
            ("reablement", self.cfg.reablement_slots, self.cfg.reablement_days),
        ):
            n = int(round(self.cfg.initial_occupancy * slots))
            people = self.population.pick_for_place(rng, n, min_band=OLDER_BANDS, residence=Residence.HOME)
            stay_h = stationary_residual(rng.standard_normal(n), rng.random(n), stay.mean, stay.cv) * 24.0
            self.ledger.start_places(people, self.pools.index(pool), stay_h)
