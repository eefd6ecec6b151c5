"""The synthetic population of a footprint, held as columns of numpy arrays.

A Python object per person is far too slow at 1-3 million people, so each attribute is
one array indexed by person slot. A death frees a slot for a newcomer (a birth or an
in-migrant) with a new `person_id`, so the footprint keeps its size and every person is
counted every day.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flowsim.arrays import unique_ids
from flowsim.config.schema import PopulationConfig
from flowsim.vocabulary import AGE_BANDS, OLDER_BANDS, Residence

N_BANDS = len(AGE_BANDS)
# One array per person, each indexed by slot: all grow together (Population.grow).
PERSON_COLUMNS = (
    "age_band",
    "sex",
    "frailty",
    "residence",
    "practice",
    "locality",
    "person_id",
    "episodes",
    "in_hospital",
    "in_ae",
    "recent_until_h",
    "code",
)
N_CODES = N_BANDS * 4 * 3  # age band x frailty x residence
BAND_YEARS = np.array([16.0, 29.0, 20.0, 10.0, 10.0, np.inf])  # width of each age band, years


def cohort_code(band: np.ndarray, frailty: np.ndarray, residence: np.ndarray) -> np.ndarray:
    return (band.astype(np.int16) * 12 + frailty.astype(np.int16) * 3 + residence).astype(np.int16)


def code_parts(code: Any) -> tuple[Any, Any, Any]:
    """(band, frailty, residence) of a cohort code."""
    return code // 12, (code // 3) % 4, code % 3


class Population:
    """Everyone in the footprint, with the state that drives their demand for care."""

    def __init__(self, config: PopulationConfig, rng: np.random.Generator):
        self.config = config
        n = config.size
        self.size = n
        band_shares = np.array([config.age_shares[b] for b in AGE_BANDS])
        self.age_band = rng.choice(N_BANDS, size=n, p=band_shares / band_shares.sum()).astype(np.int8)
        self.sex = (rng.random(n) < config.male_share).astype(np.int8)
        self.frailty = self._initial_frailty(self.age_band, rng)
        self.residence = np.full(n, Residence.HOME, dtype=np.int8)
        u = rng.random(n)
        care_home = np.array([config.care_home_share[b] for b in AGE_BANDS])[self.age_band]
        home_care = np.array([config.home_care_share[b] for b in AGE_BANDS])[self.age_band]
        self.residence[u < care_home] = Residence.CARE_HOME
        self.residence[(u >= care_home) & (u < care_home + home_care)] = Residence.HOME_CARE
        self.practice = rng.integers(0, config.practices, size=n).astype(np.int32)
        self.locality = (self.practice % config.localities).astype(np.int16)
        self.person_id = np.arange(n, dtype=np.int64)
        self.next_person_id = n
        self.episodes = np.zeros(n, dtype=np.int32)
        self.in_hospital = np.zeros(n, dtype=bool)  # on an acute route (boarding, in a bed)
        self.in_ae = np.zeros(n, dtype=bool)  # due in, or in, A&E today
        self.recent_until_h = np.full(n, -np.inf)
        self.code = cohort_code(self.age_band, self.frailty, self.residence)
        # People per cohort code, kept up to date by refresh(): the daily draws need the
        # counts, and counting 1.2 million codes every day would cost more than the draws.
        self.cohort_counts = np.bincount(self.code, minlength=N_CODES)

        self._mortality_fit = self._fit_rates(
            np.array([config.mortality_per_1000_py[b] for b in AGE_BANDS]) / 1000.0,
            np.asarray(config.mortality_hr_by_frailty),
        )
        self._frailty_step = np.array([config.frailty_step_per_1000_py[b] for b in AGE_BANDS]) / 1000.0
        self._frailty_recovery = np.asarray(config.frailty_recovery_per_1000_py, dtype=np.float64) / 1000.0
        self._newcomer_bands = self._stationary_inflow(band_shares)
        self._buffers: dict[str, np.ndarray] = {}  # room for newcomers (see _add_newcomers)

    # -- set-up -------------------------------------------------------------------------
    def _initial_frailty(self, band: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        shares: dict[str, list[float]] = self.config.frailty_shares
        table = np.array([shares[b] for b in AGE_BANDS])
        cum = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
        u = np.asarray(rng.random(size=(band.shape[0],)))
        return (u[:, None] > cum[band]).sum(axis=1).clip(0, 3).astype(np.int8)

    def band_mean_multiplier(self, by_frailty: np.ndarray, by_residence: np.ndarray) -> np.ndarray:
        """Each age band's mean of a frailty x residence multiplier, at this moment."""
        m = by_frailty[self.frailty] * by_residence[self.residence]
        total = np.bincount(self.age_band, weights=m, minlength=N_BANDS)
        count = np.bincount(self.age_band, minlength=N_BANDS)
        return total / np.maximum(count, 1)

    def _fit_rates(self, band_rate: np.ndarray, hr: np.ndarray) -> np.ndarray:
        """Yearly rates for fit people such that each band's average is `band_rate`."""
        return band_rate / self.band_mean_multiplier(hr, np.ones(3))

    def _stationary_inflow(self, shares: np.ndarray) -> np.ndarray:
        """Age bands of newcomers that keep the age structure steady as people age and die."""
        ageing = 1.0 / BAND_YEARS
        deaths = np.array([self.config.mortality_per_1000_py[b] for b in AGE_BANDS]) / 1000.0
        outflow = shares * (ageing + deaths)
        inflow = outflow - np.concatenate([[0.0], (shares * ageing)[:-1]])
        inflow = np.clip(inflow, 0.0, None)
        return inflow / inflow.sum()

    # -- daily change ---------------------------------------------------------------------
    def pick(self, rng: np.random.Generator, eligible, k: int, n_eligible: int) -> np.ndarray:
        """k distinct people drawn uniformly from the `n_eligible` for whom `eligible` holds.

        Rejection sampling from the whole population: cheap for the few events a day.
        """
        k = min(int(k), int(n_eligible))
        if k <= 0:
            return np.empty(0, dtype=np.int64)
        chosen: list[np.ndarray] = []
        got = 0
        batch = int(min(self.size, 64 + 3 * k * self.size / n_eligible))
        for _ in range(1000):
            proposal = rng.integers(0, self.size, size=batch)
            hits = unique_ids(proposal[eligible(proposal)])
            if chosen:
                hits = np.setdiff1d(hits, np.concatenate(chosen), assume_unique=True)  # both distinct
            chosen.append(hits)
            got += hits.size
            if got >= k:
                break
        idx = np.concatenate(chosen)
        return rng.permutation(idx)[:k]

    def pick_for_place(
        self, rng: np.random.Generator, n: int, *, min_band: int, residence: int
    ) -> np.ndarray:
        """n people of at least an age band, living as given, not in hospital, each starting
        an episode of care (a new place)."""
        eligible = lambda i: (
            (self.age_band[i] >= min_band) & (self.residence[i] == residence) & ~self.is_busy(i)
        )
        n_eligible = int(np.count_nonzero(self.age_band >= min_band))
        people = self.pick(rng, eligible, n, max(n_eligible, 1))
        self.episodes[people] += 1
        return people

    def _counts_by_code(self) -> np.ndarray:
        """People in each cohort, as [age band, frailty, residence]."""
        return self.cohort_counts.reshape(N_BANDS, 4, 3).copy()

    def age_and_frailty(self, rng: np.random.Generator, days: float = 1.0) -> np.ndarray:
        """Birthdays that cross a band edge, and frailty worsening or improving by one level
        (frailty is a dynamic state: Gill et al. 2006)."""
        by_code = self._counts_by_code()
        counts = by_code.sum(axis=(1, 2))
        changed = []
        for b in range(N_BANDS - 1):
            k = rng.poisson(counts[b] * days / (BAND_YEARS[b] * 365.0))
            idx = self.pick(rng, lambda i, b=b: self.age_band[i] == b, k, counts[b])
            self.age_band[idx] = b + 1
            changed.append(idx)
        by_level = by_code.sum(axis=2)  # [band, frailty]
        for b in range(N_BANDS):
            for level in range(3):  # fit -> mild -> moderate -> severe, one step at a time
                rate = self._frailty_step[b] * self.config.frailty_step_factor_by_level[level]
                changed.append(self._move_frailty(rng, by_level, b, level, rate, days, +1))
        for b in range(N_BANDS):
            for level in range(1, 4):  # mild -> fit, moderate -> mild, severe -> moderate
                rate = self._frailty_recovery[level - 1]
                if rate > 0.0:
                    changed.append(self._move_frailty(rng, by_level, b, level, rate, days, -1))
        idx = np.concatenate(changed) if changed else np.empty(0, dtype=np.int64)
        self.refresh(idx)
        return idx

    def _move_frailty(
        self, rng, by_level: np.ndarray, band: int, level: int, rate: float, days: float, step: int
    ) -> np.ndarray:
        """A Poisson number of the band's people at `level` (at `rate` a year, over `days`)
        move one level up (+1) or down (-1); returns who moved."""
        k = rng.poisson(by_level[band, level] * rate * days / 365.0)
        eligible = lambda i: (self.age_band[i] == band) & (self.frailty[i] == level)  # noqa: E731
        idx = self.pick(rng, eligible, k, by_level[band, level])
        self.frailty[idx] += step
        return idx

    def deaths(self, rng: np.random.Generator, days: float = 1.0) -> np.ndarray:
        """Deaths of people living at home and not in hospital.

        Care-home residents and people with a home-care package die at the end of their
        place or package (their stay in that pool), so the pool frees the place.
        """
        busy = np.flatnonzero(self.busy)
        counts = self.cohort_counts - np.bincount(self.code[busy], minlength=N_CODES)
        dead = []
        for code in np.flatnonzero(counts):
            band, frailty, residence = code_parts(code)
            if residence != Residence.HOME:
                continue
            rate = self._mortality_fit[band] * self.config.mortality_hr_by_frailty[frailty]
            k = rng.poisson(counts[code] * rate * days / 365.0)
            if k:
                eligible = lambda i, c=code: (self.code[i] == c) & ~self.is_busy(i)  # noqa: E731
                dead.append(self.pick(rng, eligible, k, counts[code]))
        idx = np.concatenate(dead) if dead else np.empty(0, dtype=np.int64)
        return idx

    def replace(self, idx: np.ndarray, rng: np.random.Generator) -> None:
        """Newcomers take the slots of people who died: the footprint keeps its size."""
        k = idx.size
        if k == 0:
            return
        self.age_band[idx] = rng.choice(N_BANDS, size=k, p=self._newcomer_bands).astype(np.int8)
        self._start_lives(idx, rng)
        self.episodes[idx] = 0
        self.in_hospital[idx] = False
        self.in_ae[idx] = False
        self.refresh(idx)

    def _start_lives(self, idx: np.ndarray, rng: np.random.Generator) -> None:
        """A newcomer's frailty (for their age band), sex, home, practice and new person id."""
        k = idx.size
        self.frailty[idx] = self._initial_frailty(self.age_band[idx], rng)
        self.sex[idx] = (rng.random(k) < self.config.male_share).astype(np.int8)
        self.residence[idx] = Residence.HOME
        self.practice[idx] = rng.integers(0, self.config.practices, size=k)
        self.locality[idx] = self.practice[idx] % self.config.localities
        self.person_id[idx] = np.arange(self.next_person_id, self.next_person_id + k)
        self.next_person_id += k
        self.recent_until_h[idx] = -np.inf

    def grow(self, rng: np.random.Generator, growth_per_year: np.ndarray, days: float = 1.0) -> np.ndarray:
        """Demographic change: each age band grows by its yearly rate (a projection's).

        Every band above the youngest gets its growth from extra people ageing into it from
        the band below (a larger cohort reaching that age, with this band's frailty mix), so the band below must grow
        by its own rate plus what it passes up; the youngest band's total comes from
        newcomers (births and net migration), who join the footprint in new slots. A band
        shrinking faster than what it passes up is held at its natural change (deaths and
        ageing), as the model never removes people. Returns the newcomers' slots.
        """
        counts = np.bincount(self.age_band, minlength=N_BANDS).astype(np.float64)
        wanted = counts * np.asarray(growth_per_year, dtype=np.float64) * days / 365.0
        up = np.zeros(N_BANDS + 1)  # up[b]: extra people ageing from band b - 1 into b
        for b in range(N_BANDS - 1, 0, -1):
            up[b] = max(0.0, wanted[b] + up[b + 1])
        changed = []
        for b in range(N_BANDS - 1, 0, -1):
            k = rng.poisson(up[b])
            idx = self.pick(
                rng, lambda i, b=b: (self.age_band[i] == b - 1) & ~self.is_busy(i), k, counts[b - 1]
            )
            self.age_band[idx] = b
            # They stand for the larger cohort now at this age: its frailty, not the band below's.
            self.frailty[idx] = self._initial_frailty(self.age_band[idx], rng)
            changed.append(idx)
        self.refresh(np.concatenate(changed))
        newcomers = rng.poisson(max(0.0, wanted[0] + up[1]))
        return self._add_newcomers(newcomers, rng)

    def _add_newcomers(self, k: int, rng: np.random.Generator) -> np.ndarray:
        """k people born or moved in, in new slots at the end of every column (aged 0-15)."""
        if k == 0:
            return np.empty(0, dtype=np.int64)
        n = self.size
        idx = np.arange(n, n + k)
        for name in PERSON_COLUMNS:
            # Each column is a view of a buffer with room to spare (1% more people at a
            # time), so a day's few newcomers cost no copy of millions of rows.
            column = getattr(self, name)
            buffer = self._buffers.get(name)
            if buffer is None or column.base is not buffer or buffer.size < n + k:
                buffer = np.zeros(n + k + n // 100, dtype=column.dtype)
                buffer[:n] = column
                self._buffers[name] = buffer
            setattr(self, name, buffer[: n + k])
        self.size = n + k
        self.age_band[idx] = 0
        self._start_lives(idx, rng)
        self.code[idx] = cohort_code(self.age_band[idx], self.frailty[idx], self.residence[idx])
        self.cohort_counts += np.bincount(self.code[idx], minlength=N_CODES)
        return idx

    @property
    def busy(self) -> np.ndarray:
        """People already in an episode of urgent care, who cannot start another."""
        return self.in_hospital | self.in_ae

    def is_busy(self, idx: np.ndarray) -> np.ndarray:
        return self.in_hospital[idx] | self.in_ae[idx]

    def refresh(self, idx: np.ndarray) -> None:
        """Recompute the cohort code of people whose age band, frailty or residence changed."""
        if idx.size:
            idx = unique_ids(idx)  # counted once each, however often they are listed
            new = cohort_code(self.age_band[idx], self.frailty[idx], self.residence[idx])
            self.cohort_counts += np.bincount(new, minlength=N_CODES)
            self.cohort_counts -= np.bincount(self.code[idx], minlength=N_CODES)
            self.code[idx] = new

    def older_people(self) -> int:
        return int(np.count_nonzero(self.age_band >= OLDER_BANDS))

    # -- demand -------------------------------------------------------------------------
    def sample_by_rate(
        self,
        rng: np.random.Generator,
        rate_by_code: np.ndarray,
        days: float = 1.0,
        ceiling: float | None = None,
    ) -> np.ndarray:
        """People with a need today, each drawn with probability proportional to their rate.

        Thinning of a Poisson process: propose people uniformly at the highest rate and
        keep each with probability (their rate / the highest). Exact, and far cheaper than
        a cumulative sum over millions of people. `ceiling` (a rate per year at least the
        highest) fixes the proposals, so runs that differ only in rates share them.
        """
        rate = np.asarray(rate_by_code, dtype=np.float64) * (days / 365.0)
        top = float(rate.max()) if rate.size else 0.0
        if ceiling is not None:
            top = max(top, ceiling * days / 365.0)
        if top <= 0:
            return np.empty(0, dtype=np.int64)
        k = rng.poisson(self.size * top)
        proposed = rng.integers(0, self.size, size=k)
        keep = rng.random(k) * top < rate[self.code[proposed]]
        return proposed[keep].astype(np.int64)

    def sample_recent(
        self, rng: np.random.Generator, now_h: float, extra_rate_by_code: np.ndarray, days: float = 1.0
    ) -> np.ndarray:
        """Extra needs of people recently discharged (their readmission risk is raised)."""
        recent = np.flatnonzero(self.recent_until_h > now_h)
        if recent.size == 0:
            return recent.astype(np.int64)
        lam = extra_rate_by_code[self.code[recent]] * (days / 365.0)
        n = rng.poisson(lam)
        return np.repeat(recent, n).astype(np.int64)
