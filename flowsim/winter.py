"""Winter as a mechanism: a wave of respiratory illness among older people, and outbreaks
of diarrhoea and vomiting that close hospital beds.

Month factors on outputs cannot make winter hard for the right reason. Here the wave
raises what older people need — more ambulance calls, more of them admitted, longer
stays — and norovirus closes bays of medical beds, so that occupancy, A&E waits and
delays worsen in winter through the same capacity mechanism as every other change.

The wave is a bell curve of the day of the year around a peak date, scaled so that the
year's average is unchanged: a calibrated annual rate stays calibrated, and winter
takes from the summer what it adds to the winter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from flowsim.config.schema import FlowsimConfig, WinterConfig
from flowsim.dates import Dates
from flowsim.pools import Pools
from flowsim.vocabulary import AGE_BANDS

YEAR_DAYS = 365


def wave_shape(dates: Dates, days: int, peak_month: int, peak_day: int, spread_days: float) -> np.ndarray:
    """The wave's height, 0 to 1, on each run day (1 on the peak date of each winter)."""
    shape = np.empty(days)
    for d in range(days):
        date = dates.date(d)
        # The nearest peak, this year's or a neighbouring year's.
        gap = min(abs((date - dt.date(date.year + k, peak_month, peak_day)).days) for k in (-1, 0, 1))
        shape[d] = np.exp(-0.5 * (gap / spread_days) ** 2)
    return shape


def _mean_over_year(spread_days: float) -> float:
    """The wave's average height over a whole year (a full cycle, whatever the run's dates)."""
    gap = np.minimum(np.arange(YEAR_DAYS), YEAR_DAYS - np.arange(YEAR_DAYS))
    return float(np.mean(np.exp(-0.5 * (gap / spread_days) ** 2)))


class WinterWave:
    """Multipliers of older people's ambulance calls, admissions and stays, by run day.

    A multiplier is (1 + rise x height) / (1 + rise x the year's mean height): `rise` is
    the peak's excess over a day with no winter illness, and the year's mean is 1.
    """

    def __init__(self, winter: WinterConfig | None, dates: Dates, days: int):
        self.winter = winter
        self.first_band = AGE_BANDS.index(winter.min_age_band) if winter is not None else len(AGE_BANDS)
        if winter is None:
            self.height = np.zeros(days + 2)
            self.mean_height = 0.0
        else:
            self.height = wave_shape(dates, days + 2, winter.peak_month, winter.peak_day, winter.spread_days)
            self.mean_height = _mean_over_year(winter.spread_days)

    def factor(self, rise: float, day: int | np.ndarray) -> np.ndarray:
        """The multiplier of a rate with this rise at its peak, on the given day(s)."""
        return (1.0 + rise * self.height[day]) / (1.0 + rise * self.mean_height)

    def by_band(self, rise: float, day: int) -> np.ndarray:
        """The multiplier on this day for each age band (1 for the bands the wave spares)."""
        f = np.ones(len(AGE_BANDS))
        f[self.first_band :] = self.factor(rise, day)
        return f

    def for_people(self, rise: float, band: np.ndarray, t_hours: np.ndarray) -> np.ndarray:
        """The multiplier for each person, at their own time (hours)."""
        if self.winter is None or rise == 0.0:
            return np.ones(np.shape(band))
        day = (np.asarray(t_hours) // 24).astype(np.int64)
        return np.where(np.asarray(band) >= self.first_band, self.factor(rise, day), 1.0)

    @property
    def ambulance_rise(self) -> float:
        return 0.0 if self.winter is None else self.winter.ambulance_rise

    @property
    def admission_rise(self) -> float:
        return 0.0 if self.winter is None else self.winter.admission_rise

    @property
    def stay_rise(self) -> float:
        return 0.0 if self.winter is None else self.winter.stay_rise

    def peak_factor(self) -> float:
        """The largest multiplier of ambulance calls on any day (for the draws' bounds)."""
        if self.winter is None:
            return 1.0
        return (1.0 + self.winter.ambulance_rise) / (1.0 + self.winter.ambulance_rise * self.mean_height)


def outbreak_closures(
    config: FlowsimConfig, pools: Pools, wave: WinterWave, rng: np.random.Generator
) -> np.ndarray:
    """Beds closed by outbreaks, by [day, acute pool]: each outbreak closes a bay of the
    first ward group (medicine) at one site for some days; outbreaks start more often as
    the wave rises. Drawn once at the start of a run from the run's own stream."""
    days = config.total_days
    closed = np.zeros((days + 1, pools.n_acute), dtype=np.int64)
    winter = config.winter
    if winter is None or winter.outbreaks is None:
        return closed
    o = winter.outbreaks
    per_bed = (
        (o.per_100_beds_per_year_base + o.per_100_beds_per_year_at_peak * wave.height[:days])
        / 100
        / YEAR_DAYS
    )
    # Outbreaks strike the beds planned for each day: a site closed by a consolidation has
    # none, the sites receiving its beds have more (the interventions' timetable).
    steps = pools.capacity_schedule(config)
    cap = np.zeros((days + 1, pools.n_acute), dtype=np.int64)
    for site in range(pools.n_sites):
        pool = int(pools.acute(site, 0))
        beds = planned_capacity(steps, pools.capacities, pool, days + 1)
        starts = rng.poisson(per_bed * beds[:days])
        for day in np.flatnonzero(starts):
            for _ in range(int(starts[day])):
                lasts = max(1, int(round(rng.exponential(o.closure_days_mean))))
                size = min(int(beds[day]), int(round(o.beds_per_closure)))
                closed[day : min(days + 1, day + lasts), pool] += size
        # A site never closes more than a stated share of its medical beds at once.
        cap[:, pool] = np.floor(beds * o.max_closed_share).astype(np.int64)
    return np.minimum(closed, cap)


def planned_capacity(
    steps: list[tuple[float, int, int]], capacities: Sequence[int], pool: int, days: int
) -> np.ndarray:
    """A pool's planned places on each day: its capacity, then the timetable's steps."""
    planned = np.full(days, capacities[pool], dtype=np.int64)
    for t, _pool, capacity in sorted(s for s in steps if s[1] == pool):
        planned[int(t // 24) :] = capacity
    return planned


def with_closures(
    steps: list[tuple[float, int, int]], capacities: Sequence[int], closed: np.ndarray
) -> list[tuple[float, int, int]]:
    """The capacity timetable with outbreak closures taken off each day's beds.

    `steps` are the interventions' (time, pool, capacity) steps; the result has a step at
    each midnight where a pool's open beds change, and the steps of pools without
    closures as they were.
    """
    days, n = closed.shape
    touched = [p for p in range(n) if closed[:, p].any()]
    if not touched:
        return steps
    kept = [s for s in steps if s[1] not in touched]
    for pool in touched:
        planned = planned_capacity(steps, capacities, pool, days)
        open_beds = np.maximum(planned - closed[:, pool], 0)
        previous = capacities[pool]
        for day in range(days):
            if open_beds[day] != previous:
                kept.append((day * 24.0, pool, int(open_beds[day])))
                previous = int(open_beds[day])
    return sorted(kept)
