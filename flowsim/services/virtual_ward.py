"""Virtual wards and rapid response: a would-be emergency admission cared for at home.

Whether an admission could be avoided is a draw keyed to the person's episode: A&E's own
share by age band (`emergency.avoidance_share`), plus the share made eligible by any
admission-avoidance lever from its start (from A&E, from a GP's direct admission or both).
An eligible patient takes a free slot of the virtual-ward pool; when every slot is taken
(or someone is already waiting for one), they are admitted as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flowsim.clock import CoreClock
from flowsim.config.schema import AdmissionAvoidance, EmergencyConfig
from flowsim.draw_slots import EpisodeDraw
from flowsim.ledger import Ledger
from flowsim.rng import KeyedUniforms, lognormal_from_normal
from flowsim.vocabulary import AGE_BANDS, Origin


class VirtualWard:
    def __init__(
        self,
        cfg: EmergencyConfig,
        levers: Sequence[AdmissionAvoidance],
        *,
        clock: CoreClock,
        ledger: Ledger,
        keyed: KeyedUniforms,
        pool: int,
    ):
        self.cfg = cfg
        self.levers = list(levers)
        self.clock = clock
        self.ledger = ledger
        self.keyed = keyed
        self.pool = pool
        self.ae_share = np.array([cfg.avoidance_share[b] for b in AGE_BANDS])

    @property
    def takes_direct_admissions(self) -> bool:
        return any(lever.from_gp for lever in self.levers)

    def avoidable(
        self, person_id: np.ndarray, episode: np.ndarray, band: np.ndarray, day: np.ndarray, *, from_ae: bool
    ) -> np.ndarray:
        """Which of these would-be admissions a free slot could take, each on its day."""
        share = self.ae_share[band] if from_ae else np.zeros(band.size)
        for lever in self.levers:
            if not (lever.from_ae if from_ae else lever.from_gp):
                continue
            eligible = band >= AGE_BANDS.index(lever.min_age_band)
            share = share + (1.0 - share) * lever.eligible_share * lever.effect(day) * eligible
        return self.keyed.uniform(person_id, episode, EpisodeDraw.AE_AVOIDABLE) < share

    def stay_hours(self, person_id: np.ndarray, episode: np.ndarray) -> np.ndarray:
        days = self.cfg.virtual_ward_days
        z = self.keyed.normal(person_id, episode, EpisodeDraw.VIRTUAL_WARD_STAY)
        return lognormal_from_normal(z, days.mean, days.cv) * 24.0

    def take(self, person: int, stay_h: float, ae_row: int = -1) -> bool:
        """Give the person a slot now if one is free; False if every slot is taken.

        `ae_row` is the A&E attendance the patient comes from; -1 for a GP's direct admission.
        """
        if not self.clock.has_free_slot(self.pool):
            return False
        handle = self.clock.admit(
            [self.pool], [0], [stay_h], [0.0], [0.0], 0.0, now=True, holder=self.ledger.holder(person)
        )
        self.ledger.register(handle, person, Origin.VIRTUAL_WARD, request_h=self.clock.env.now, ae_row=ae_row)
        return True
