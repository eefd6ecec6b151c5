"""General practice: appointments by practice, overflow when full, and referrals on.

Need beyond a practice's capacity is partly deferred to the next working day, partly
goes to A&E, and the rest is met elsewhere (pharmacy, self-care). Of the people seen, a
few are sent to A&E and a few are admitted directly (to an assessment unit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flowsim.arrays import first_occurrences, stable_argsort
from flowsim.config.schema import CareHomeSupport, PrimaryCareConfig, ProactiveCare
from flowsim.dates import Dates
from flowsim.draw_slots import DailyDraw
from flowsim.population import Population
from flowsim.rng import KeyedUniforms
from flowsim.vocabulary import Arrival, Residence


@dataclass(frozen=True)
class Referrals:
    """What general practice sends on today: to A&E (how they arrive, and when) and
    straight to an acute bed (direct admissions, and when their bed is requested)."""

    ae_people: np.ndarray
    ae_arrival: np.ndarray
    ae_hours: np.ndarray
    direct: np.ndarray
    direct_hours: np.ndarray


class PrimaryCare:
    def __init__(
        self,
        cfg: PrimaryCareConfig,
        dates: Dates,
        population: Population,
        practices: int,
        levers: Sequence[ProactiveCare | CareHomeSupport] = (),
    ):
        self.cfg = cfg
        # Proactive care adds appointments; care-home support admits fewer residents.
        self.more_capacity = [c for c in levers if isinstance(c, ProactiveCare)]
        self.care_home_support = [c for c in levers if isinstance(c, CareHomeSupport)]
        self.dates = dates
        self.population = population
        list_size = np.bincount(population.practice, minlength=practices)
        self.capacity = np.floor(list_size * cfg.appointments_per_1000_weekday / 1000.0).astype(np.int64)
        hours = np.asarray(cfg.gp_referral_hour_profile, dtype=np.float64)
        self.hour_cdf = np.cumsum(hours) / hours.sum()
        self.deferred = np.empty(0, dtype=np.int64)
        self.deferred_id = np.empty(0, dtype=np.int64)
        self.consultations_today = 0

    def day(self, day: int, people: np.ndarray, keyed: KeyedUniforms) -> Referrals:
        """See today's patients; return who is sent to A&E and who is admitted directly.

        Every choice is keyed by (person, day), so scenarios share each person's luck.
        """
        pop = self.population
        # A deferred request whose person has died (their slot reused) lapses.
        deferred = self.deferred[pop.person_id[self.deferred] == self.deferred_id]
        wanting = np.concatenate([deferred, people])
        first = first_occurrences(wanting)  # a deferred patient asking again is one
        wanting = wanting[np.sort(first)]
        wanting = wanting[~pop.is_busy(wanting)]
        self.deferred = np.empty(0, dtype=np.int64)
        if self.dates.weekday(day) < 5:
            # Within a practice, first come first served: the deferred and today's in order.
            capacity = self.capacity
            if self.more_capacity:
                factor = np.prod([1.0 + c.gp_capacity_change * c.effect(day) for c in self.more_capacity])
                capacity = np.floor(capacity * factor).astype(np.int64)
            practice = pop.practice[wanting]
            order = stable_argsort(practice)
            rank = np.empty(wanting.size, dtype=np.int64)
            counts = np.bincount(practice, minlength=self.capacity.size)
            starts = np.cumsum(counts) - counts
            rank[order] = np.arange(wanting.size) - np.repeat(starts, counts)
            seen_mask = rank < capacity[practice]
        else:
            seen_mask = np.ones(wanting.size, dtype=bool)  # out-of-hours cover at weekends
        seen, overflow = wanting[seen_mask], wanting[~seen_mask]
        days = np.full(wanting.size, day)
        u_all = keyed.uniform(pop.person_id[wanting], days, DailyDraw.GP_OVERFLOW)
        u = u_all[~seen_mask]
        cfg = self.cfg
        self.deferred = overflow[u < cfg.overflow_deferred_share]
        self.deferred_id = pop.person_id[self.deferred]
        overflow_ae = overflow[
            (u >= cfg.overflow_deferred_share) & (u < cfg.overflow_deferred_share + cfg.overflow_to_ae_share)
        ]
        self.consultations_today = seen.size

        u = keyed.uniform(pop.person_id[wanting], days, DailyDraw.GP_REFERRAL)[seen_mask]
        to_ae = seen[u < cfg.referral_to_ae_share]
        direct_share = np.full(seen.size, cfg.direct_admission_share)
        if self.care_home_support:
            factor = np.prod([1.0 + c.admission_change * c.effect(day) for c in self.care_home_support])
            resident = pop.residence[seen] == Residence.CARE_HOME
            direct_share[resident] = np.minimum(
                direct_share[resident] * factor, 1.0 - cfg.referral_to_ae_share
            )
        direct = seen[(u >= cfg.referral_to_ae_share) & (u < cfg.referral_to_ae_share + direct_share)]
        ae_people = np.concatenate([to_ae, overflow_ae])
        ae_arrival = np.concatenate(
            [
                np.full(to_ae.size, Arrival.GP_REFERRAL, np.int8),
                np.full(overflow_ae.size, Arrival.WALK_IN, np.int8),
            ]
        )
        ae_hours = self.referral_hours(day, pop.person_id[ae_people], keyed)
        # A referral later the same day is a new episode of care.
        pop.episodes[ae_people] += 1
        pop.episodes[direct] += 1
        return Referrals(
            ae_people, ae_arrival, ae_hours, direct, self.referral_hours(day, pop.person_id[direct], keyed)
        )

    def referral_hours(self, day: int, person_id: np.ndarray, keyed: KeyedUniforms) -> np.ndarray:
        days = np.full(person_id.size, day)
        hour = np.searchsorted(
            self.hour_cdf, keyed.uniform(person_id, days, DailyDraw.REFERRAL_HOUR), side="right"
        )
        minute = keyed.uniform(person_id, days, DailyDraw.REFERRAL_MINUTE)
        return day * 24.0 + hour.clip(0, 23) + minute + self.cfg.travel_to_ae_hours
