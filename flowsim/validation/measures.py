"""What the validation report measures in one replication: a kpis column, or one of the
report's own measures read off the daily and episode tables, converted to the unit of the
national figure it is set beside.

The report's own measures are seasonal, weekly and year-on-year views of the daily table
(the kpis table holds whole-window figures only), shares of kpis columns, and the hour of
A&E arrivals. None of them recomputes a KPI: each KPI is read from the kpis table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["CONVERSIONS", "MEASURES", "PEOPLE", "Convert", "Replication", "value"]

# The national figures are scaled to an average footprint (STP) of 1.2 million people.
PEOPLE = 1_200_000
DAYS_A_YEAR = 365.0
WINTER, SUMMER = (1, 2, 3), (6, 7, 8)  # January-March and June-August
NOV_MAR = (11, 12, 1, 2, 3)  # the months of NHS England's winter reporting
DRIFT_DAYS = 30  # the days compared with the same days a year before

Convert = Literal["as_is", "percent", "per_1.2_million", "a_year_per_1.2_million", "a_year_per_person"]


@dataclass(frozen=True)
class Replication:
    """One replication as the report reads it back from the results store."""

    replication: int
    kpis: Mapping[str, float]
    daily: Mapping[str, np.ndarray]  # every day of the run, warm-up included (`warmup` says which)
    ae_arrival_h: np.ndarray  # hours from the start of the run of the window's A&E arrivals
    wall_seconds: float = math.nan


CONVERSIONS: dict[str, Callable[[float, Mapping[str, float]], float]] = {
    "as_is": lambda x, k: x,
    "percent": lambda x, k: 100.0 * x,
    "per_1.2_million": lambda x, k: x * PEOPLE / k["population"],
    "a_year_per_1.2_million": lambda x, k: x * DAYS_A_YEAR / k["days"] * PEOPLE / k["population"],
    "a_year_per_person": lambda x, k: x * DAYS_A_YEAR / k["days"] / k["population"],
}


# --------------------------------------------------------------------------------------
# The report's own measures


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def _change_pct(new: float, old: float) -> float:
    return 100.0 * (new / old - 1.0) if old and np.isfinite(old) and np.isfinite(new) else math.nan


class _Window:
    """The measured days of a replication (warm-up dropped), with month and weekday."""

    def __init__(self, rep: Replication):
        keep = ~np.asarray(rep.daily["warmup"], dtype=bool)
        self.daily = rep.daily
        self.keep = keep
        dates = np.asarray(rep.daily["date"]).astype("datetime64[D]")[keep]
        self.month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
        self.weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0

    def column(self, name: str) -> np.ndarray:
        return np.asarray(self.daily[name], dtype=np.float64)[self.keep]

    def months(self, months: tuple[int, ...]) -> np.ndarray:
        return np.isin(self.month, months)

    def mean(self, name: str, mask: np.ndarray) -> float:
        return float(np.mean(self.column(name)[mask])) if mask.any() else math.nan

    def ratio(self, numerator: str, denominator: str, mask: np.ndarray) -> float:
        if not mask.any():
            return math.nan
        return _ratio(
            float(np.sum(self.column(numerator)[mask])), float(np.sum(self.column(denominator)[mask]))
        )


def _occupancy_pct(rep: Replication, months: tuple[int, ...]) -> float:
    w = _Window(rep)
    return 100.0 * w.ratio("acute_bed_days", "acute_beds", w.months(months))


def _ae_4h_pct(rep: Replication, months: tuple[int, ...]) -> float:
    w = _Window(rep)
    return 100.0 * w.ratio("ae_within_4h", "ae_4h_known", w.months(months))


def _dta_12h_nov_mar_share_pct(rep: Replication) -> float:
    w = _Window(rep)
    waits = w.column("ae_12h_dta_waits")
    return 100.0 * _ratio(float(waits[w.months(NOV_MAR)].sum()), float(waits.sum()))


def _days_above_95pct_jan_mar(rep: Replication) -> float:
    w = _Window(rep)
    winter = w.months(WINTER)
    return float(np.count_nonzero(w.column("acute_occupancy")[winter] > 0.95)) if winter.any() else math.nan


def _ae_summer_vs_january_pct(rep: Replication) -> float:
    w = _Window(rep)
    return _change_pct(w.mean("ae_attendances", w.months(SUMMER)), w.mean("ae_attendances", w.month == 1))


def _ae_monday_vs_friday_pct(rep: Replication) -> float:
    w = _Window(rep)
    return _change_pct(w.mean("ae_attendances", w.weekday == 0), w.mean("ae_attendances", w.weekday == 4))


def _admissions_winter_vs_summer_pct(rep: Replication) -> float:
    w = _Window(rep)
    return _change_pct(
        w.mean("emergency_admissions", w.months(WINTER)), w.mean("emergency_admissions", w.months(SUMMER))
    )


def _handovers_over_pct(minutes: int, months: tuple[int, ...] | None) -> Callable[[Replication], float]:
    def share(rep: Replication) -> float:
        w = _Window(rep)
        mask = np.ones(w.month.size, bool) if months is None else w.months(months)
        return 100.0 * w.ratio(f"ae_handovers_over_{minutes}min", "ae_handovers", mask)

    share.__doc__ = (
        f"Ambulance handovers over {minutes} minutes, % of handovers{' in ' + str(months) if months else ''}."
    )
    return share


def _dtoc_february_vs_year_pct(rep: Replication) -> float:
    w = _Window(rep)
    return _change_pct(w.mean("dtoc_beds", w.month == 2), w.mean("dtoc_beds", np.ones(w.month.size, bool)))


def _dtoc_share_pct(organisation: str) -> Callable[[Replication], float]:
    def share(rep: Replication) -> float:
        beds = {o: rep.kpis[f"dtoc_beds_{o}_mean"] for o in ("nhs", "social_care", "both")}
        return 100.0 * _ratio(beds[organisation], sum(beds.values()))

    share.__doc__ = f"Share of delayed beds attributed to {organisation}, %."
    return share


def _drift(rep: Replication, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The last DRIFT_DAYS days of the run and the same days a year earlier (in the
    warm-up when it is shorter than a year and DRIFT_DAYS), or None if the run is shorter."""
    x = np.asarray(rep.daily[name], dtype=np.float64)
    n = x.size
    if n < 365 + DRIFT_DAYS:
        return None
    return x[n - DRIFT_DAYS :], x[n - 365 - DRIFT_DAYS : n - 365]


def _drift_pct(name: str) -> Callable[[Replication], float]:
    def drift(rep: Replication) -> float:
        pair = _drift(rep, name)
        return math.nan if pair is None else _change_pct(float(pair[0].mean()), float(pair[1].mean()))

    drift.__doc__ = f"{name} a day, last {DRIFT_DAYS} days of the run vs the same days a year before, %."
    return drift


def _drift_occupancy_pp(rep: Replication) -> float:
    beds, occupied = _drift(rep, "acute_beds"), _drift(rep, "acute_bed_days")
    if beds is None or occupied is None:
        return math.nan
    late, early = (100.0 * _ratio(float(occupied[i].sum()), float(beds[i].sum())) for i in (0, 1))
    return late - early


def _ae_hour_share_pct(first: int, last: int) -> Callable[[Replication], float]:
    def share(rep: Replication) -> float:
        hour = np.floor(np.mod(rep.ae_arrival_h, 24.0))
        return 100.0 * float(np.mean((hour >= first) & (hour < last))) if hour.size else math.nan

    share.__doc__ = f"A&E arrivals from {first:02d}:00 to {last:02d}:00, % of the window's arrivals."
    return share


# name -> measure of one replication. Names must not be kpis columns.
MEASURES: dict[str, Callable[[Replication], float]] = {
    "occupancy_jan_mar_pct": lambda rep: _occupancy_pct(rep, WINTER),
    "occupancy_jun_aug_pct": lambda rep: _occupancy_pct(rep, SUMMER),
    "occupancy_winter_minus_summer_pp": lambda rep: _occupancy_pct(rep, WINTER) - _occupancy_pct(rep, SUMMER),
    "days_above_95pct_jan_mar": _days_above_95pct_jan_mar,
    "ae_4h_jan_mar_pct": lambda rep: _ae_4h_pct(rep, WINTER),
    "ae_4h_jun_aug_pct": lambda rep: _ae_4h_pct(rep, SUMMER),
    "ae_4h_january_pct": lambda rep: _ae_4h_pct(rep, (1,)),
    "dta_12h_nov_mar_share_pct": _dta_12h_nov_mar_share_pct,
    "ae_4h_summer_minus_winter_pp": lambda rep: _ae_4h_pct(rep, SUMMER) - _ae_4h_pct(rep, WINTER),
    "ae_summer_vs_january_pct": _ae_summer_vs_january_pct,
    "ae_monday_vs_friday_pct": _ae_monday_vs_friday_pct,
    "admissions_winter_vs_summer_pct": _admissions_winter_vs_summer_pct,
    "dtoc_february_vs_year_pct": _dtoc_february_vs_year_pct,
    "handovers_over_30min_pct": _handovers_over_pct(30, None),
    "handovers_over_60min_pct": _handovers_over_pct(60, None),
    "handovers_over_30min_january_pct": _handovers_over_pct(30, (1,)),
    "handovers_over_60min_january_pct": _handovers_over_pct(60, (1,)),
    "dtoc_nhs_share_pct": _dtoc_share_pct("nhs"),
    "dtoc_social_care_share_pct": _dtoc_share_pct("social_care"),
    "dtoc_both_share_pct": _dtoc_share_pct("both"),
    "direct_admissions_share_pct": lambda rep: (
        100.0 * _ratio(rep.kpis["direct_admissions"], rep.kpis["emergency_admissions"])
    ),
    "drift_emergency_admissions_pct": _drift_pct("emergency_admissions"),
    "drift_ae_attendances_pct": _drift_pct("ae_attendances"),
    "drift_care_home_residents_pct": _drift_pct("care_home_residents"),
    "drift_occupancy_pp": _drift_occupancy_pp,
    "ae_arrivals_09_18_pct": _ae_hour_share_pct(9, 18),
    "ae_arrivals_00_06_pct": _ae_hour_share_pct(0, 6),
}


def value(rep: Replication, name: str, convert: Convert = "as_is") -> float:
    """The measure `name` (a kpis column or one of MEASURES) of one replication, converted."""
    raw = float(rep.kpis[name]) if name in rep.kpis else MEASURES[name](rep)
    return float(CONVERSIONS[convert](raw, rep.kpis))


# The year's shape, month by month: (column of the table, label, how to read it off a month).
MONTHLY: tuple[tuple[str, str], ...] = (
    ("occupancy_pct", "G&A occupancy, %"),
    ("ae_4h_pct", "4-hour performance, %"),
    ("dtoc_beds", "Delayed beds a day, per 1.2 million"),
    ("emergency_admissions", "Emergency admissions a day, per 1.2 million"),
)


def monthly(rep: Replication) -> dict[int, dict[str, float]]:
    """Each calendar month of the measured window (month 1-12 -> measure -> value)."""
    w = _Window(rep)
    scale = PEOPLE / float(rep.kpis["population"])
    out: dict[int, dict[str, float]] = {}
    for m in sorted(set(w.month.tolist())):
        mask = w.month == m
        out[m] = {
            "occupancy_pct": 100.0 * w.ratio("acute_bed_days", "acute_beds", mask),
            "ae_4h_pct": 100.0 * w.ratio("ae_within_4h", "ae_4h_known", mask),
            "dtoc_beds": w.mean("dtoc_beds", mask) * scale,
            "emergency_admissions": w.mean("emergency_admissions", mask) * scale,
        }
    return out
