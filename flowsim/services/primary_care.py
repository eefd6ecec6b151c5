"""General practice: appointments by practice, overflow when full, and referrals on.

Need beyond a practice's capacity is partly deferred to the next working day, partly
goes to A&E, and the rest is met elsewhere (pharmacy, self-care). Of the people seen, a
few are sent to A&E and a few are admitted directly (to an assessment unit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.rng import KeyedUniforms
from flowsim.services.emergency import GP_REFERRAL, WALK_IN

# Slots of the draws keyed by (person, day); 0-3 belong to demand.py.
_OVERFLOW, _REFERRAL, _HOUR, _MINUTE = 10, 11, 12, 13

if TYPE_CHECKING:
    from flowsim.model import WholeSystemModel


class PrimaryCare:
    def __init__(self, model: WholeSystemModel):
        self.model = model
        cfg = model.config.primary_care
        self.cfg = cfg
        list_size = np.bincount(model.population.practice, minlength=model.config.population.practices)
        self.capacity = np.floor(list_size * cfg.appointments_per_1000_weekday / 1000.0).astype(np.int64)
        hours = np.asarray(cfg.gp_referral_hour_profile, dtype=np.float64)
        self.hour_cdf = np.cumsum(hours) / hours.sum()
        self.deferred = np.empty(0, dtype=np.int64)
        self.deferred_id = np.empty(0, dtype=np.int64)
        self.consultations_today = 0

    def day(self, day: int, people: np.ndarray, keyed: KeyedUniforms):
        """See today's patients; return (to A&E: people, route, hour) and direct admissions.

        Every choice is keyed by (person, day), so scenarios share each person's luck.
        """
        m = self.model
        pop = m.population
        # A deferred request whose person has died (their slot reused) lapses.
        deferred = self.deferred[pop.person_id[self.deferred] == self.deferred_id]
        wanting = np.concatenate([deferred, people])
        _, first = np.unique(wanting, return_index=True)  # a deferred patient asking again is one
        wanting = wanting[np.sort(first)]
        wanting = wanting[~pop.is_busy(wanting)]
        self.deferred = np.empty(0, dtype=np.int64)
        if m.weekday(day) < 5:
            # Within a practice, first come first served: the deferred and today's in order.
            practice = pop.practice[wanting]
            order = np.argsort(practice, kind="stable")
            rank = np.empty(wanting.size, dtype=np.int64)
            counts = np.bincount(practice, minlength=self.capacity.size)
            starts = np.cumsum(counts) - counts
            rank[order] = np.arange(wanting.size) - np.repeat(starts, counts)
            seen_mask = rank < self.capacity[practice]
        else:
            seen_mask = np.ones(wanting.size, dtype=bool)  # out-of-hours cover at weekends
        seen, overflow = wanting[seen_mask], wanting[~seen_mask]
        days = np.full(wanting.size, day)
        u_all = keyed.uniform(pop.person_id[wanting], days, _OVERFLOW)
        u = u_all[~seen_mask]
        cfg = self.cfg
        self.deferred = overflow[u < cfg.overflow_deferred_share]
        self.deferred_id = pop.person_id[self.deferred]
        overflow_ae = overflow[
            (u >= cfg.overflow_deferred_share) & (u < cfg.overflow_deferred_share + cfg.overflow_to_ae_share)
        ]
        self.consultations_today = seen.size

        u = keyed.uniform(pop.person_id[wanting], days, _REFERRAL)[seen_mask]
        to_ae = seen[u < cfg.referral_to_ae_share]
        direct = seen[
            (u >= cfg.referral_to_ae_share) & (u < cfg.referral_to_ae_share + cfg.direct_admission_share)
        ]
        ae_people = np.concatenate([to_ae, overflow_ae])
        ae_route = np.concatenate(
            [np.full(to_ae.size, GP_REFERRAL, np.int8), np.full(overflow_ae.size, WALK_IN, np.int8)]
        )
        ae_hours = self.referral_hours(day, pop.person_id[ae_people], keyed)
        # A referral later the same day is a new episode of care.
        pop.episodes[ae_people] += 1
        pop.episodes[direct] += 1
        return ae_people, ae_route, ae_hours, direct, self.referral_hours(day, pop.person_id[direct], keyed)

    def referral_hours(self, day: int, person_id: np.ndarray, keyed: KeyedUniforms) -> np.ndarray:
        days = np.full(person_id.size, day)
        hour = np.searchsorted(self.hour_cdf, keyed.uniform(person_id, days, _HOUR), side="right")
        return (
            day * 24.0 + hour.clip(0, 23) + keyed.uniform(person_id, days, _MINUTE) + 1.0
        )  # an hour to get there
