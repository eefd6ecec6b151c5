"""Each day's needs for urgent care: who calls an ambulance, walks into A&E or sees a GP.

Yearly rates by age band are spread across each band's people by frailty and residence
(keeping the band's starting average), then shaped by month and weekday, by scenario
levers, and by a raised risk for a while after a discharge.
"""

from __future__ import annotations

import numpy as np

from flowsim.arrays import stable_argsort, unique_ids
from flowsim.config.schema import CareHomeSupport, DemandChange, FlowsimConfig, ProactiveCare
from flowsim.dates import Dates
from flowsim.draw_slots import DailyDraw
from flowsim.population import N_CODES, Population, code_parts
from flowsim.rng import KeyedUniforms, Streams
from flowsim.vocabulary import AGE_BANDS, FRAILTY_LEVELS, RESIDENCES, Need, Residence
from flowsim.winter import WinterWave


def day_factors(days: int, sd: float, autocorrelation: float, rng: np.random.Generator) -> np.ndarray:
    """Multipliers of each day's emergency demand: lognormal with mean 1, AR(1) on the log
    scale, so that a busy day tends to be followed by another."""
    e = rng.standard_normal(days)
    z = np.empty(days)
    z[0] = e[0]
    scale = np.sqrt(1.0 - autocorrelation**2)
    for d in range(1, days):
        z[d] = autocorrelation * z[d - 1] + scale * e[d]
    return np.exp(sd * z - 0.5 * sd * sd)


class Demand:
    def __init__(
        self,
        config: FlowsimConfig,
        dates: Dates,
        population: Population,
        day_effect_rng: np.random.Generator | None = None,
        wave: WinterWave | None = None,
    ):
        d = config.population.demand
        self.config = config
        self.dates = dates
        self.wave = wave if wave is not None else WinterWave(config.winter, dates, config.total_days)
        self.frailty_m = np.asarray(d.frailty_multiplier, dtype=np.float64)
        self.residence_m = np.array([1.0, d.home_care_multiplier, d.care_home_multiplier])
        norm = population.band_mean_multiplier(self.frailty_m, self.residence_m)
        band_rates = np.array(
            [
                [d.walk_in_per_1000_py[b] / 1000.0 for b in AGE_BANDS],
                [d.ambulance_per_1000_py[b] / 1000.0 for b in AGE_BANDS],
                [d.gp_contacts_per_person_py[b] for b in AGE_BANDS],
            ]
        ) / np.maximum(norm, 1e-12)
        band, frailty, residence = code_parts(np.arange(N_CODES))
        person_m = self.frailty_m[frailty] * self.residence_m[residence]
        self.base = band_rates[:, band] * person_m  # [need, code], per person-year
        self.code_band, self.code_frailty, self.code_residence = band, frailty, residence
        hours = np.asarray(d.hour_profile, dtype=np.float64)
        self.hour_cdf = np.cumsum(hours) / hours.sum()
        self.weekday = np.asarray(d.weekday_factor) / np.mean(d.weekday_factor)
        self.month_walk_in = np.asarray(d.month_factor_walk_in) / np.mean(d.month_factor_walk_in)
        self.month_ambulance = np.asarray(d.month_factor_ambulance) / np.mean(d.month_factor_ambulance)
        w = config.primary_care.weekend_demand_factor
        self.gp_weekday = np.array([7.0 / (5.0 + 2.0 * w)] * 5 + [7.0 * w / (5.0 + 2.0 * w)] * 2)
        self.changes = [c for c in config.interventions if isinstance(c, DemandChange)]
        counts = np.bincount(population.code, minlength=N_CODES)
        self.cohorts = [
            (c, self._cohort(c, counts))
            for c in config.interventions
            if isinstance(c, ProactiveCare | CareHomeSupport)
        ]
        effect = d.day_effect
        self.day_factor: np.ndarray | None = None
        if effect is not None and effect.sd > 0.0:
            if day_effect_rng is None:  # built alone (not by the model): replication 0's stream
                day_effect_rng = Streams(config.run.seed, 0).generator("day-effect")
            self.day_factor = day_factors(
                config.total_days, effect.sd, effect.autocorrelation, day_effect_rng
            )

    def _cohort(self, lever: ProactiveCare | CareHomeSupport, counts: np.ndarray) -> np.ndarray:
        """The cohort codes a service lever reaches: the frail or those most at risk that
        proactive care targets, or care-home residents. `counts`: people by code at the start."""
        if isinstance(lever, CareHomeSupport):
            return self.code_residence == Residence.CARE_HOME
        if lever.top_risk_share is not None:
            # Risk stratification: cohorts by emergency rate, highest first, until they
            # hold the share of the population (at least the riskiest cohort).
            risk = self.base[Need.WALK_IN] + self.base[Need.AMBULANCE]
            order = np.argsort(-risk, kind="stable")
            held = np.cumsum(counts[order]) / max(int(counts.sum()), 1)
            n = max(1, int(np.searchsorted(held, lever.top_risk_share + 1e-12, side="right")))
            hit = np.zeros(N_CODES, dtype=bool)
            hit[order[:n]] = True
        else:
            hit = self.code_frailty >= FRAILTY_LEVELS.index(lever.min_frailty)
        hit &= self.code_band >= AGE_BANDS.index(lever.min_age_band)
        if lever.residence is not None:
            hit &= self.code_residence == RESIDENCES.index(lever.residence)
        return hit

    def lever(self, day: int) -> np.ndarray:
        """Scenario changes to emergency demand on this day: [walk-in, ambulance] x cohort code."""
        factor = np.ones((2, N_CODES))
        for c in self.changes:
            if day < c.start_day:
                continue
            ramp = min(1.0, (day - c.start_day + 1) / max(c.ramp_days, 1))
            hit = self.code_band >= AGE_BANDS.index(c.min_age_band)
            if c.residence is not None:
                hit &= self.code_residence == RESIDENCES.index(c.residence)
            factor[:, hit] *= 1.0 + c.relative_change * ramp
        for lever, hit in self.cohorts:
            share = lever.effect(day)
            if share == 0.0:
                continue
            if isinstance(lever, ProactiveCare):
                change = np.array([lever.walk_in_change, lever.ambulance_change])
            else:
                change = np.array([lever.attendance_change, lever.attendance_change])
            factor[:, hit] *= (1.0 + change * share)[:, None]
        return factor

    def rates(self, day: int, levers: bool = True) -> np.ndarray:
        """Rates per person-year by [need, cohort code] for this day."""
        date = self.dates.date(day)
        wd, month = date.weekday(), date.month - 1
        lever = self.lever(day) if levers else np.ones((2, N_CODES))
        if self.day_factor is not None:  # a busy or quiet day for everyone (not a lever)
            lever = lever * self.day_factor[day]
        rates = self.base.copy()
        rates[Need.WALK_IN] *= self.month_walk_in[month] * self.weekday[wd] * lever[0]
        rates[Need.AMBULANCE] *= self.month_ambulance[month] * self.weekday[wd] * lever[1]
        if self.wave.ambulance_rise > 0.0:  # winter illness among older people
            rates[Need.AMBULANCE] *= self.wave.by_band(self.wave.ambulance_rise, day)[self.code_band]
        rates[Need.GP] *= self.gp_weekday[wd]
        return rates

    def draw(
        self,
        day: int,
        population: Population,
        rng: np.random.Generator,
        recent_multiplier: float,
        keyed: KeyedUniforms,
    ):
        """Today's needs: (people, need), each person at most once, nobody already in hospital.

        Who has a need comes from the day's stream; what kind of need, and the order within
        the day, are keyed by person and day, so a scenario that changes who is busy does
        not reshuffle everyone else's luck.
        """
        rates = self.rates(day)
        total = rates.sum(axis=0)
        # Thin from the same ceiling as a scenario without levers, so that a lever that
        # lowers demand removes needs from the same draw rather than redrawing everyone.
        ceiling = max(float(total.max()), float(self.rates(day, levers=False).sum(axis=0).max()))
        people = population.sample_by_rate(rng, total, ceiling=ceiling)
        extra = population.sample_recent(rng, day * 24.0, total * (recent_multiplier - 1.0))
        people = unique_ids(np.concatenate([people, extra]))
        people = people[~population.is_busy(people)]
        pid, days = population.person_id[people], np.full(people.size, day)
        people = people[stable_argsort(keyed.uniform(pid, days, DailyDraw.ORDER))]
        pid = population.person_id[people]
        code = population.code[people]
        cum = np.cumsum(rates[:, code], axis=0)
        u = keyed.uniform(pid, days, DailyDraw.NEED) * cum[-1]
        need = (u[None, :] >= cum).sum(axis=0).clip(0, 2).astype(np.int8)
        return people, need

    def arrival_hours(self, day: int, person_id: np.ndarray, keyed: KeyedUniforms) -> np.ndarray:
        days = np.full(person_id.size, day)
        hour = np.searchsorted(
            self.hour_cdf, keyed.uniform(person_id, days, DailyDraw.ARRIVAL_HOUR), side="right"
        ).clip(0, 23)
        return day * 24.0 + hour + keyed.uniform(person_id, days, DailyDraw.ARRIVAL_MINUTE)
