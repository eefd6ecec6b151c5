"""Community services: intermediate-care beds (P2) and reablement (P1).

Patients reach them from hospital on their routes (see pathways.py); here they are only
warm-started, with people already part-way through a stay when the run begins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.population import HOME, OLDER_BANDS
from flowsim.services.pathways import stationary_residual

if TYPE_CHECKING:
    from flowsim.model import WholeSystemModel


class Community:
    def __init__(self, model: WholeSystemModel):
        self.model = model
        self.cfg = model.config.community

    def prefill(self, rng: np.random.Generator) -> None:
        m = self.model
        for pool, slots, stay in (
            ("community_beds", self.cfg.community_beds, self.cfg.community_bed_days),
            ("reablement", self.cfg.reablement_slots, self.cfg.reablement_days),
        ):
            n = int(round(self.cfg.initial_occupancy * slots))
            people = m.pick_people(rng, n, min_band=OLDER_BANDS, residence=HOME)
            stay_h = stationary_residual(rng.standard_normal(n), rng.random(n), stay.mean, stay.cv) * 24.0
            m.start_routes(people, pool, stay_h)
