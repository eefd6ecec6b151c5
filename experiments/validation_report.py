"""The validation report: the default footprint against the national figures of its era,
and the bed-and-transfer core against queueing theory.

    python experiments/validation_report.py [--config configs/footprint.yaml]
        [--replications N] [--out docs/validation.md] [--workers 2] [--quick]

1. Runs N replications of the config (in parallel, `--workers` processes) and tabulates
   every target of /work/shared/CALIBRATION.md ("What the default footprint must
   reproduce") against the model, per 1.2 million people, with a 95% t interval over
   replications and a pass/fail verdict; then other published features of the era the
   model is not tuned to, beside their reference values.
2. Runs analytic checks of the core live: Erlang C, Erlang B, Little's law per pool on a
   multi-pool stream, the sample-path identity of the integrals, the compiled core against
   its Python twin; and reads the conservation KPI of every replication.
3. Draws figures (PNG, next to the report in a folder named after it).
4. Writes the Markdown report. Everything in it is deterministic for a given config and
   code, apart from the lines giving the date, the machine and the timings.

`--quick` runs configs/small.yaml over a short horizon with two replications and short
analytic streams: for tests, a minute's check that the report still builds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PER = 1_200_000  # the calibration figures are per 1.2 million people
DEFAULT_CONFIG = REPO / "configs" / "footprint.yaml"
QUICK_CONFIG = REPO / "configs" / "small.yaml"
QUICK_OVERRIDES = {"run.warmup_days": 30, "run.horizon_days": 60}
OLDER = ("65-74", "75-84", "85+")
INF = math.inf

# Daily columns the report reads (the rest of the daily table stays in the worker).
DAILY_COLUMNS = (
    "date",
    "warmup",
    "population",
    "ae_attendances",
    "ae_departures",
    "ae_within_4h",
    "emergency_admissions",
    "acute_beds",
    "acute_bed_days",
    "acute_occupancy",
    "dtoc_beds",
    "dtoc_beds_p1",
    "dtoc_beds_p2",
    "dtoc_beds_p3",
    "dtoc_beds_nhs",
    "dtoc_beds_social_care",
    "dtoc_beds_both",
    "care_home_residents",
)


# ----------------------------------------------------------------------------- running


def run_replication(job: tuple[str, int]) -> dict[str, Any]:
    """One replication, in a worker: the KPIs, the daily columns the report needs, and a
    few features read off the episodes (which are too big to send back whole). The config
    travels as its canonical JSON, so every replication runs exactly the hashed config."""
    from flowsim.config import config_from_canonical
    from flowsim.model import simulate

    canonical, replication = job
    config = config_from_canonical(canonical)
    t0 = time.perf_counter()
    out = simulate(config, replication, record_episodes=True)
    wall = time.perf_counter() - t0
    kpis = out.tables["kpis"].to_pylist()[0]
    daily = {name: out.tables["daily"].column(name).to_numpy(zero_copy_only=False) for name in DAILY_COLUMNS}
    w0 = config.run.warmup_days
    window = (w0 * 24.0, (w0 + config.run.horizon_days) * 24.0)
    extras = episode_features(out.tables["episodes"], window)
    return {"replication": replication, "kpis": kpis, "daily": daily, "extras": extras, "wall_s": wall}


def episode_features(episodes, window: tuple[float, float]) -> dict[str, float]:
    """Arrival hours of A&E attendances, and 28-day readmissions of people aged 65+."""
    t0, t1 = window

    def col(name):
        return episodes.column(name).to_numpy(zero_copy_only=False)

    def hours(name):
        return np.asarray(
            episodes.column(name).fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float64
        )

    out: dict[str, float] = {}
    arrival = hours("ae_arrival_h")
    arrival = arrival[np.isfinite(arrival) & (arrival >= t0) & (arrival < t1)]
    hour = np.floor(np.mod(arrival, 24.0))
    out["ae_share_09_18"] = float(np.mean((hour >= 9) & (hour < 18))) if arrival.size else math.nan
    out["ae_share_00_06"] = float(np.mean(hour < 6)) if arrival.size else math.nan

    # Readmission as the KPI counts it (metrics.py), at 28 days and for people aged 65+ at
    # the episode: a discharge alive in the window followed by an emergency admission of
    # the same person within 28 days.
    person = col("person_id").astype(np.int64)
    route = col("route").astype(str)
    older = np.isin(col("age_band").astype(str), OLDER)
    request, start, end = hours("bed_request_h"), hours("bed_start_h"), hours("bed_end_h")
    died = col("died_in_hospital").astype(bool)
    emergency = np.isfinite(start) & (route != "elective")
    adm_pid, adm_t = person[emergency], request[emergency]
    order = np.lexsort((adm_t, adm_pid))
    adm_pid, adm_t = adm_pid[order], adm_t[order]
    days28 = 28 * 24.0
    for label, who in (
        ("readmissions_28d_65plus_pct", older),
        ("readmissions_28d_all_pct", np.ones_like(older)),
    ):
        discharged = who & np.isfinite(end) & ~died & (end >= t0) & (end < t1 - days28)
        d_pid, d_t = person[discharged], end[discharged]
        # first emergency admission of the same person after the discharge (as metrics.py)
        key_adm = adm_pid.astype(np.float64) * 1e7 + adm_t
        key_dis = d_pid.astype(np.float64) * 1e7 + d_t
        j = np.searchsorted(key_adm, key_dis, side="right")
        jj = np.where(j < adm_pid.size, j, 0)
        readmitted = (j < adm_pid.size) & (adm_pid[jj] == d_pid) & (adm_t[jj] - d_t <= days28)
        out[label] = 100.0 * float(readmitted.mean()) if readmitted.size else math.nan
    return out


def run_all(config, replications: int, workers: int) -> list[dict[str, Any]]:
    from flowsim.config import canonical_json

    canonical = canonical_json(config)
    jobs = [(canonical, r) for r in range(replications)]
    if workers <= 1 or replications <= 1:
        results = [run_replication(j) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=min(workers, replications)) as pool:
            results = list(pool.map(run_replication, jobs))
    return sorted(results, key=lambda r: r["replication"])


# ------------------------------------------------------------------------ statistics


def mean_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% t interval over replications (NaN bounds with fewer than two)."""
    from scipy import stats

    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if x.size < 2:
        return m, math.nan, math.nan
    sem = float(x.std(ddof=1) / math.sqrt(x.size))
    if sem == 0.0:
        return m, m, m
    lo, hi = stats.t.interval(0.95, x.size - 1, loc=m, scale=sem)
    return m, float(lo), float(hi)


# ------------------------------------------------------------- calibration targets


def per_year_per_million(k: dict[str, float], name: str) -> float:
    return k[name] * 365.0 / k["days"] * PER / k["population"]


@dataclass(frozen=True)
class Target:
    measure: str
    short: str  # for the summary's prose
    target: float
    tol: float
    relative: bool  # tolerance as a fraction of the target, else in the measure's units
    fmt: str  # format of values
    unit: str
    value: Callable[[dict[str, float]], float]

    @property
    def band(self) -> tuple[float, float]:
        half = self.tol * self.target if self.relative else self.tol
        return self.target - half, self.target + half

    def tolerance_text(self) -> str:
        lo, hi = self.band
        t = f"±{self.tol * 100:.0f}%" if self.relative else f"±{self.tol:g} {self.unit}".rstrip()
        return f"{t} ({fmt(lo, self.fmt)}–{fmt(hi, self.fmt)})"


def _pct(name: str) -> Callable[[dict[str, float]], float]:
    return lambda k: 100.0 * k[name]


TARGETS: tuple[Target, ...] = (
    Target(
        "A&E attendances a year, per 1.2 million",
        "A&E attendances",
        506_000,
        0.10,
        True,
        ",.0f",
        "",
        lambda k: per_year_per_million(k, "ae_attendances"),
    ),
    Target(
        "Emergency admissions per 1,000 a year",
        "emergency admissions per 1,000",
        105.0,
        0.10,
        True,
        ".1f",
        "",
        lambda k: k["emergency_admissions_per_1000"],
    ),
    Target(
        "A&E conversion to admission, all types (%)",
        "A&E conversion (%)",
        20.0,
        3.0,
        False,
        ".1f",
        "pp",
        lambda k: k["ae_conversion_pct"],
    ),
    Target(
        "Mean G&A occupancy (%)",
        "mean G&A occupancy (%)",
        90.0,
        2.0,
        False,
        ".1f",
        "pp",
        _pct("acute_occupancy_mean"),
    ),
    Target(
        "4-hour performance, all types (%)",
        "4-hour performance (%)",
        89.0,
        3.0,
        False,
        ".1f",
        "pp",
        lambda k: k["ae_4h_pct"],
    ),
    Target(
        "Delayed beds, % of G&A beds",
        "delayed beds (% of G&A beds)",
        4.0,
        1.0,
        False,
        ".2f",
        "pp",
        _pct("dtoc_share_of_beds"),
    ),
    Target(
        "Mean length of stay (days)",
        "mean length of stay (days)",
        4.9,
        0.5,
        False,
        ".2f",
        "days",
        lambda k: k["mean_los_days"],
    ),
    Target(
        "Discharges on pathway 0 (%)", "P0 share (%)", 50.0, 5.0, False, ".1f", "pp", _pct("pathway_share_p0")
    ),
    Target(
        "Discharges on pathway 1 (%)", "P1 share (%)", 40.0, 5.0, False, ".1f", "pp", _pct("pathway_share_p1")
    ),
    Target(
        "Discharges on pathway 2 (%)", "P2 share (%)", 5.0, 5.0, False, ".1f", "pp", _pct("pathway_share_p2")
    ),
    Target(
        "Discharges on pathway 3 (%)", "P3 share (%)", 5.0, 5.0, False, ".1f", "pp", _pct("pathway_share_p3")
    ),
)


def fmt(x: float, spec: str) -> str:
    if x is None or not np.isfinite(x):
        return "—"
    return format(x, spec)


def ci_text(lo: float, hi: float, spec: str) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "—"
    return f"{fmt(lo, spec)} – {fmt(hi, spec)}"


@dataclass
class TargetRow:
    target: Target
    values: list[float]
    mean: float
    lo: float
    hi: float
    passed: bool
    ci_inside: bool


def evaluate_targets(results: list[dict[str, Any]]) -> list[TargetRow]:
    rows = []
    for t in TARGETS:
        values = [float(t.value(r["kpis"])) for r in results]
        m, lo, hi = mean_ci(values)
        blo, bhi = t.band
        passed = bool(np.isfinite(m) and blo <= m <= bhi)
        inside = bool(np.isfinite(lo) and blo <= lo and hi <= bhi) if np.isfinite(lo) else passed
        rows.append(TargetRow(t, values, m, lo, hi, passed, inside))
    return rows


# --------------------------------------------------------------- features of the era


def _window(daily: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    keep = ~daily["warmup"].astype(bool)
    d = {k: np.asarray(v)[keep] for k, v in daily.items()}
    dates = np.asarray(d["date"]).astype("datetime64[D]")
    d["month"] = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d["weekday"] = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    return d


def _ratio_in(d, num: str, den: str, mask) -> float:
    s = float(np.sum(d[den][mask]))
    return float(np.sum(d[num][mask])) / s if mask.any() and s > 0 else math.nan


def _mean_in(d, name: str, mask) -> float:
    return float(np.mean(d[name][mask])) if mask.any() else math.nan


WINTER = (1, 2, 3)
SUMMER = (6, 7, 8)


def daily_features(daily: dict[str, np.ndarray]) -> dict[str, float]:
    d = _window(daily)
    winter, summer = np.isin(d["month"], WINTER), np.isin(d["month"], SUMMER)
    january, february = d["month"] == 1, d["month"] == 2
    f: dict[str, float] = {}
    f["occ_winter"] = 100.0 * _ratio_in(d, "acute_bed_days", "acute_beds", winter)
    f["occ_summer"] = 100.0 * _ratio_in(d, "acute_bed_days", "acute_beds", summer)
    f["occ_winter_minus_summer"] = f["occ_winter"] - f["occ_summer"]
    f["winter_days_above_95"] = (
        float(np.count_nonzero(d["acute_occupancy"][winter] > 0.95)) if winter.any() else math.nan
    )
    f["winter_max_occupancy"] = (
        100.0 * float(np.max(d["acute_occupancy"][winter])) if winter.any() else math.nan
    )
    f["ae_summer_vs_january"] = 100.0 * (
        _mean_in(d, "ae_attendances", summer) / _mean_in(d, "ae_attendances", january) - 1.0
    )
    f["ae_monday_vs_friday"] = 100.0 * (
        _mean_in(d, "ae_attendances", d["weekday"] == 0) / _mean_in(d, "ae_attendances", d["weekday"] == 4)
        - 1.0
    )
    f["adm_winter_vs_summer"] = 100.0 * (
        _mean_in(d, "emergency_admissions", winter) / _mean_in(d, "emergency_admissions", summer) - 1.0
    )
    f["ae4h_winter"] = 100.0 * _ratio_in(d, "ae_within_4h", "ae_departures", winter)
    f["ae4h_summer"] = 100.0 * _ratio_in(d, "ae_within_4h", "ae_departures", summer)
    f["dtoc_feb_vs_year"] = 100.0 * (
        _mean_in(d, "dtoc_beds", february) / float(np.mean(d["dtoc_beds"])) - 1.0
    )
    org = {o: float(np.mean(d[f"dtoc_beds_{o}"])) for o in ("nhs", "social_care", "both")}
    total = sum(org.values())
    for o, v in org.items():
        f[f"dtoc_{o}_share"] = 100.0 * v / total if total > 0 else math.nan
    for p in ("p1", "p2", "p3"):
        f[f"dtoc_{p}_beds_per_million"] = (
            float(np.mean(d[f"dtoc_beds_{p}"])) * PER / float(np.mean(d["population"]))
        )
    f.update(year_on_year(daily))
    return f


YOY_DAYS = 30


def year_on_year(daily: dict[str, np.ndarray]) -> dict[str, float]:
    """The last 30 days of the run against the same calendar days a year earlier (which
    fall in the warm-up when it is shorter than 30 days + a year): drift, not season."""
    n = len(daily["date"])
    names = ("yoy_admissions", "yoy_attendances", "yoy_occupancy_pp", "yoy_care_home_residents")
    if n < 365 + YOY_DAYS:
        return dict.fromkeys(names, math.nan)
    late, early = slice(n - YOY_DAYS, n), slice(n - 365 - YOY_DAYS, n - 365)

    def change(name):
        x = np.asarray(daily[name], dtype=np.float64)
        return 100.0 * (x[late].mean() / x[early].mean() - 1.0)

    def occupancy(sl):
        return 100.0 * np.sum(daily["acute_bed_days"][sl]) / np.sum(daily["acute_beds"][sl])

    return {
        "yoy_admissions": change("emergency_admissions"),
        "yoy_attendances": change("ae_attendances"),
        "yoy_occupancy_pp": occupancy(late) - occupancy(early),
        "yoy_care_home_residents": change("care_home_residents"),
    }


@dataclass(frozen=True)
class Feature:
    measure: str
    reference: str
    source: str  # how the model gets it: input, calibrated or emergent
    spec: str
    value: Callable[[dict[str, float]], float]


def _k(name: str, scale: float = 1.0) -> Callable[[dict[str, float]], float]:
    return lambda f: scale * f[name]


FEATURES: tuple[Feature, ...] = (
    Feature(
        "Ambulance arrivals, % of A&E attendances",
        "~23% (HES A&E 2014/15)",
        "input: ambulance rates by age",
        ".1f",
        _k("ae_ambulance_share", 100.0),
    ),
    Feature(
        "A&E arrivals 09–18h, %",
        "60% (HoC SN06964)",
        "input: hour profile",
        ".1f",
        _k("ae_share_09_18", 100.0),
    ),
    Feature(
        "A&E arrivals 00–06h, %",
        "9% (HoC SN06964)",
        "input: hour profile",
        ".1f",
        _k("ae_share_00_06", 100.0),
    ),
    Feature(
        "A&E attendances, summer (Jun–Aug) vs January, %",
        "+17% (HES A&E 2014/15)",
        "input: month factors (walk-in up, ambulance down in summer)",
        "+.1f",
        _k("ae_summer_vs_january"),
    ),
    Feature(
        "A&E attendances, Monday vs Friday, %",
        "+14% (HES A&E)",
        "input: weekday factors",
        "+.1f",
        _k("ae_monday_vs_friday"),
    ),
    Feature(
        "Emergency admissions aged 65+, % of emergency admissions",
        "~41% (Improvement Analytics Unit 2019)",
        "emergent",
        ".1f",
        _k("emergency_admissions_65plus_share", 100.0),
    ),
    Feature(
        "Emergency admissions per day, Jan–Mar vs Jun–Aug, %",
        "higher in winter (HES A&E 2014/15)",
        "emergent (admit and ambulance month factors are inputs)",
        "+.1f",
        _k("adm_winter_vs_summer"),
    ),
    Feature(
        "Zero-day stays, % of emergency admissions",
        "~33% (Health Foundation 2018)",
        "input: short-stay shares by age",
        ".1f",
        _k("zero_day_share", 100.0),
    ),
    Feature(
        "Emergency readmission within 28 days, aged 65+, %",
        "~15% (King's Fund)",
        "calibrated: recent-discharge multiplier",
        ".1f",
        _k("readmissions_28d_65plus_pct"),
    ),
    Feature(
        "Emergency readmission within 30 days, all ages, % (KPI `readmissions_30d_pct`)",
        "no national figure here; all ages runs below the 65+ figure",
        "emergent",
        ".1f",
        _k("readmissions_30d_pct"),
    ),
    Feature("G&A occupancy Jan–Mar, %", "91.4% (Jan–Mar 2017, KH03)", "emergent", ".1f", _k("occ_winter")),
    Feature(
        "G&A occupancy Jun–Aug, %",
        "below winter; 90.3% year average (KH03)",
        "emergent",
        ".1f",
        _k("occ_summer"),
    ),
    Feature(
        "G&A occupancy, winter minus summer, pp",
        "> 0 (winter higher)",
        "emergent",
        "+.1f",
        _k("occ_winter_minus_summer"),
    ),
    Feature(
        "Days above 95% occupancy in Jan–Mar",
        "some winter days above 95% (KH03)",
        "emergent",
        ".1f",
        _k("winter_days_above_95"),
    ),
    Feature(
        "4-hour performance Jan–Mar, %",
        "lower in winter (type 1 77–80% in winter months)",
        "emergent",
        ".1f",
        _k("ae4h_winter"),
    ),
    Feature("4-hour performance Jun–Aug, %", "higher than winter", "emergent", ".1f", _k("ae4h_summer")),
    Feature(
        "Delayed beds in February vs the year, %",
        "+7% (6,660 in Feb 2017 vs ~6,200 a day)",
        "emergent",
        "+.1f",
        _k("dtoc_feb_vs_year"),
    ),
    Feature(
        "Delayed beds attributed to the NHS, %",
        "~56% (NHS England DTOC 2016/17; conf. C)",
        "emergent (attribution rules are inputs)",
        ".1f",
        _k("dtoc_nhs_share"),
    ),
    Feature(
        "Delayed beds attributed to social care, %",
        "~36% (NHS England DTOC 2016/17; conf. C)",
        "emergent (attribution rules are inputs)",
        ".1f",
        _k("dtoc_social_care_share"),
    ),
    Feature(
        "Delayed beds attributed to both, %",
        "~8% (NHS England DTOC 2016/17; conf. C)",
        "input: none attributed to both",
        ".1f",
        _k("dtoc_both_share"),
    ),
    Feature(
        "Delayed beds awaiting P1 (home with support), per 1.2 million",
        "largest social-care reason: a care package at home",
        "emergent",
        ".1f",
        _k("dtoc_p1_beds_per_million"),
    ),
    Feature(
        "Delayed beds awaiting P2 (community bed), per 1.2 million",
        "largest NHS reason: further non-acute NHS care",
        "emergent",
        ".1f",
        _k("dtoc_p2_beds_per_million"),
    ),
    Feature(
        "Delayed beds awaiting P3 (care home), per 1.2 million",
        "—",
        "emergent",
        ".1f",
        _k("dtoc_p3_beds_per_million"),
    ),
    Feature(
        "People waiting for a community (intermediate-care) bed, mean, per 1.2 million",
        "a queue: bed-based intermediate care waited ~3 days (NAIC 2015)",
        "emergent",
        ".1f",
        lambda f: f["community_beds_waiting_mean"] * PER / f["population"],
    ),
    Feature(
        "People waiting for reablement, mean, per 1.2 million",
        "a queue: reablement waited ~8.7 days, home-based care ~6.3 (NAIC 2015)",
        "emergent",
        ".1f",
        lambda f: f["reablement_waiting_mean"] * PER / f["population"],
    ),
    Feature(
        "People waiting for home care, mean, per 1.2 million",
        "a queue: awaiting a care package at home was the largest social-care DTOC reason",
        "emergent",
        ".1f",
        lambda f: f["home_care_waiting_mean"] * PER / f["population"],
    ),
    Feature(
        "People waiting for a care-home place, mean, per 1.2 million",
        "—",
        "emergent",
        ".1f",
        lambda f: f["care_home_waiting_mean"] * PER / f["population"],
    ),
    Feature(
        "Community (intermediate-care) bed occupancy, %",
        "capacity at about half of need (NAIC)",
        "emergent",
        ".1f",
        _k("community_beds_occupancy_mean", 100.0),
    ),
    Feature(
        "Reablement slot occupancy, %",
        "capacity at about half of need (NAIC)",
        "emergent",
        ".1f",
        _k("reablement_occupancy_mean", 100.0),
    ),
    Feature(
        "Drift: emergency admissions a day, last 30 days of the run vs the same days a year before, %",
        "+3.2% a year (national growth, PAC 2018)",
        "emergent",
        "+.1f",
        _k("yoy_admissions"),
    ),
    Feature(
        "Drift: A&E attendances a day, same comparison, %", "—", "emergent", "+.1f", _k("yoy_attendances")
    ),
    Feature(
        "Drift: G&A occupancy, same comparison, pp",
        "≈ 0 (a stationary footprint)",
        "emergent",
        "+.1f",
        _k("yoy_occupancy_pp"),
    ),
    Feature(
        "Drift: care-home residents, same comparison, %",
        "≈ 0 (a stationary footprint)",
        "emergent",
        "+.1f",
        _k("yoy_care_home_residents"),
    ),
    Feature(
        "Emergency admissions not via A&E, %",
        "~27% (4.26m of 5.85m via A&E, HoC SN06964)",
        "calibrated: direct admission share",
        ".1f",
        lambda f: (
            100.0 * f["direct_admissions"] / f["emergency_admissions"]
            if f["emergency_admissions"]
            else math.nan
        ),
    ),
    Feature(
        "Elective admissions a year, per 1.2 million",
        "~35,000 (CALIBRATION, conf. C)",
        "input: electives per weekday",
        ",.0f",
        lambda f: per_year_per_million(f, "elective_admissions"),
    ),
    Feature(
        "GP consultations per person a year",
        "5.16 (Hobbs 2016, 2013/14)",
        "input: contact rates by age",
        ".2f",
        lambda f: f["gp_consultations"] / f["population"] * 365.0 / f["days"],
    ),
)


@dataclass
class FeatureRow:
    feature: Feature
    mean: float
    lo: float
    hi: float


def evaluate_features(results: list[dict[str, Any]]) -> list[FeatureRow]:
    merged = [{**r["kpis"], **r["extras"], **daily_features(r["daily"])} for r in results]
    rows = []
    for f in FEATURES:
        m, lo, hi = mean_ci([float(f.value(x)) for x in merged])
        rows.append(FeatureRow(f, m, lo, hi))
    return rows


# ------------------------------------------------------------------ analytic checks


N_BATCHES = 20
ALPHA = 0.001  # two-sided level of each statistical check: 7 checks, ~0.7% chance of a false alarm


def critical_t() -> float:
    from scipy import stats

    return float(stats.t.ppf(1.0 - ALPHA / 2.0, N_BATCHES - 1))


@dataclass
class Check:
    name: str
    simulated: float
    se: float
    theory: float
    detail: str = ""

    @property
    def z(self) -> float:
        """(simulated − theory) / SE: a t statistic with N_BATCHES − 1 degrees of freedom."""
        return (self.simulated - self.theory) / self.se if self.se > 0 else math.nan

    @property
    def p(self) -> float:
        from scipy import stats

        return float(2.0 * stats.t.sf(abs(self.z), N_BATCHES - 1)) if np.isfinite(self.z) else math.nan

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.z) and abs(self.z) < critical_t())


def erlang_c_checks(n: int) -> list[Check]:
    """M/M/c, infinite queue: P(wait) and mean wait against Erlang C."""
    from flowsim._core import Board
    from flowsim._core.theory import batch_means, erlang_c, mmc_mean_wait, single_pool

    out = []
    for c, arrival_rate, mean_stay, seed in ((4, 3.0, 1.0, 101), (20, 17.0, 1.0, 102)):
        service_rate = 1.0 / mean_stay
        stays = np.random.default_rng(seed).exponential(mean_stay, n)
        arrivals, granted, lost = single_pool(Board, c, arrival_rate, stays, INF, seed + 1000)
        assert not lost.any() and not np.isnan(granted).any()
        wait = (granted - arrivals)[n // 20 :]  # drop a warm-up
        a = arrival_rate * mean_stay
        label = f"c = {c}, a = {a:g} erlangs (ρ = {a / c:.2f})"
        m, se = batch_means(wait > 0.0, N_BATCHES)
        out.append(Check("P(wait)", m, se, erlang_c(c, a), label))
        m, se = batch_means(wait, N_BATCHES)
        out.append(
            Check(
                "mean wait (mean stays)",
                m / mean_stay,
                se / mean_stay,
                mmc_mean_wait(c, arrival_rate, service_rate) / mean_stay,
                label,
            )
        )
    return out


def erlang_b_checks(n: int) -> list[Check]:
    """Loss system (max_wait = 0): blocking against Erlang B, for two stay distributions."""
    from flowsim._core import Board
    from flowsim._core.theory import batch_means, erlang_b, single_pool

    out = []
    c, arrival_rate, mean_stay = 10, 8.0, 1.0
    for name, seed, draw in (
        ("exponential stays", 201, lambda rng: rng.exponential(mean_stay, n)),
        ("gamma(2) stays", 202, lambda rng: rng.gamma(2.0, mean_stay / 2.0, n)),
        (
            "lognormal stays, cv 1.5",
            203,
            lambda rng: rng.lognormal(
                math.log(mean_stay) - 0.5 * math.log(1 + 1.5**2), math.sqrt(math.log(1 + 1.5**2)), n
            ),
        ),
    ):
        stays = draw(np.random.default_rng(seed))
        _, granted, lost = single_pool(Board, c, arrival_rate, stays, 0.0, seed + 1000)
        assert (np.isnan(granted) == lost).all()
        m, se = batch_means(lost[n // 20 :], N_BATCHES)
        out.append(
            Check(
                "P(blocked)",
                m,
                se,
                erlang_b(c, arrival_rate * mean_stay),
                f"c = {c}, a = {arrival_rate * mean_stay:g} erlangs, {name}",
            )
        )
    return out


POOLS = ("acute", "community", "care home")


def _admit(board, t, route, max_wait):
    pools, priorities, stays, readies, lags = (list(x) for x in zip(*route))
    return board.admit(t, pools, priorities, stays, readies, lags, max_wait)


@dataclass
class LittleRow:
    pool: str
    what: str
    L: float  # time-average number (from the core's integral)
    rate: float  # entries per hour
    W: float  # mean time per entry (from the events)
    rel: float  # L / (rate × W) − 1
    integral_rel: float  # |integral − sum of intervals| / integral

    @property
    def passed(self) -> bool:
        return abs(self.rel) < 0.02 and self.integral_rel < 1e-9


def littles_law(n: int, seed: int = 301) -> list[LittleRow]:
    """Little's law per pool, part-way through a long run with arrivals still coming:
    slots held (L = occupied_hours / T vs grants per hour × mean hold), the queue
    (queued_hours / T vs requests per hour × mean wait) and delayed patients
    (delayed_hours / T vs fit patients per hour × mean delay). The integrals are also
    checked against the sums of the intervals read off the events (a sample-path identity)."""
    from flowsim._core import DEPARTED, FIT, GRANTED, LOST, MOVED, Board
    from flowsim._core.theory import network_stream

    stream = network_stream(np.random.default_rng(seed), n)
    board = Board([12, 4, 6])
    for t, route, max_wait in stream:
        _admit(board, t, route, max_wait)
    until = 0.8 * stream[-1][0]
    ev = board.advance(until)
    s = board.stats()
    P = len(POOLS)
    grant, fit, asked = {}, {}, {}
    holds, waits, delays = defaultdict(list), defaultdict(list), defaultdict(list)
    held_sum, wait_sum, delay_sum = np.zeros(P), np.zeros(P), np.zeros(P)
    requests, fits = np.zeros(P), np.zeros(P)
    for h, (arrival, route, _) in enumerate(stream):
        if arrival + route[0][3] <= until:
            asked[h, 0] = arrival + route[0][3]
            requests[route[0][0]] += 1
    for t, kind, h, p, k in zip(
        ev["time"].tolist(),
        ev["kind"].tolist(),
        ev["patient"].tolist(),
        ev["pool"].tolist(),
        ev["leg"].tolist(),
    ):
        route = stream[h][1]
        if kind in (GRANTED, LOST):
            w = t - asked.pop((h, k))
            waits[p].append(w)
            wait_sum[p] += w
        if kind == GRANTED:
            grant[h, k] = t
        elif kind == FIT:
            fit[h, k] = t
            fits[p] += 1
            if t + route[k + 1][3] <= until:
                asked[h, k + 1] = t + route[k + 1][3]
                requests[route[k + 1][0]] += 1
        elif kind == MOVED and k > 0:
            q = route[k - 1][0]
            d = t - fit.pop((h, k - 1))
            delays[q].append(d)
            delay_sum[q] += d
            x = t - grant.pop((h, k - 1))
            holds[q].append(x)
            held_sum[q] += x
        elif kind == DEPARTED:
            x = t - grant.pop((h, k))
            holds[p].append(x)
            held_sum[p] += x
    # intervals still open at `until`
    for (h, k), g in grant.items():
        held_sum[stream[h][1][k][0]] += until - g
    for (h, k), f in fit.items():
        delay_sum[stream[h][1][k][0]] += until - f
    for (h, k), a in asked.items():
        wait_sum[stream[h][1][k][0]] += until - a

    def rel_diff(integral, summed):
        return abs(integral - summed) / integral if integral > 0 else abs(summed)

    rows = []
    for p, name in enumerate(POOLS):
        for what, integral, count, times, summed in (
            ("slots held", s["occupied_hours"][p], s["granted"][p], holds[p], held_sum[p]),
            ("queue", s["queued_hours"][p], requests[p], waits[p], wait_sum[p]),
            ("delayed (fit, holding a slot)", s["delayed_hours"][p], fits[p], delays[p], delay_sum[p]),
        ):
            if count == 0 or not times:
                continue
            L, rate, W = float(integral) / until, float(count) / until, float(np.mean(times))
            rel = L / (rate * W) - 1.0 if rate * W > 0 else math.nan
            rows.append(LittleRow(name, what, L, rate, W, rel, rel_diff(float(integral), float(summed))))
    return rows


def twins_agree(n: int, seed: int = 401) -> tuple[str, int]:
    """The compiled core and its Python twin on the same multi-pool stream, advanced in
    steps: identical events and stats, bit for bit. Returns (verdict, events compared)."""
    from flowsim._core import CompiledBoard, PythonBoard

    if CompiledBoard is None:
        return "skipped (the compiled core is not built)", 0
    from flowsim._core.theory import network_stream

    stream = network_stream(np.random.default_rng(seed), n)
    stops = np.linspace(0.0, stream[-1][0] + 500.0, 41)[1:]

    def play(Board):
        board = Board([12, 4, 6])
        board.schedule_capacity(stream[len(stream) // 3][0], 0, 10)
        board.schedule_capacity(stream[2 * len(stream) // 3][0], 0, 13)
        seen = []
        i = 0
        for stop in stops:
            while i < len(stream) and stream[i][0] <= stop:
                _admit(board, *stream[i])
                i += 1
            seen.append(board.advance(float(stop)))
        seen.append(board.stats())
        return seen

    a, b = play(PythonBoard), play(CompiledBoard)
    same = all(
        x.keys() == y.keys() and all(x[k].dtype == y[k].dtype and x[k].tobytes() == y[k].tobytes() for k in x)
        for x, y in zip(a, b)
    )
    n_events = sum(len(x["time"]) for x in a[:-1])
    return ("identical" if same else "DIFFERENT"), n_events


@dataclass
class Analytic:
    erlang_c: list[Check]
    erlang_b: list[Check]
    little: list[LittleRow]
    twins: tuple[str, int]
    core: str
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return (
            all(c.passed for c in self.erlang_c + self.erlang_b)
            and all(r.passed for r in self.little)
            and not self.twins[0].startswith("DIFFERENT")
        )


def analytic_checks(quick: bool) -> Analytic:
    from flowsim._core import CORE

    sizes = {
        "erlang": 40_000 if quick else 300_000,
        "little": 10_000 if quick else 60_000,
        "twins": 1_000 if quick else 5_000,
    }
    return Analytic(
        erlang_c_checks(sizes["erlang"]),
        erlang_b_checks(sizes["erlang"]),
        littles_law(sizes["little"]),
        twins_agree(sizes["twins"]),
        CORE,
        sizes,
    )


# --------------------------------------------------------------------------- figures


def _stack(results, name) -> np.ndarray:
    return np.stack([np.asarray(r["daily"][name], dtype=np.float64) for r in results])


def _rolling(x: np.ndarray, w: int = 7) -> np.ndarray:
    if x.size < w:
        return x
    c = np.convolve(x, np.ones(w) / w, mode="valid")
    return np.concatenate([np.full(w - 1, np.nan), c])


def draw_figures(results, target_rows: list[TargetRow], fig_dir: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 8, "axes.titlesize": 9, "svg.hashsalt": "flowsim"})
    fig_dir.mkdir(parents=True, exist_ok=True)
    dates = np.asarray(results[0]["daily"]["date"]).astype("datetime64[D]")
    warm = np.asarray(results[0]["daily"]["warmup"]).astype(bool)
    warm_end = dates[warm][-1] + np.timedelta64(1, "D") if warm.any() else None
    files: dict[str, str] = {}
    meta = {"Software": None}

    def finish(fig, ax_list, name, caption):
        for ax in ax_list:
            if warm_end is not None:
                ax.axvspan(dates[0], warm_end, color="0.9", zorder=0, label="_warm-up")
            ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
            ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(fig_dir / name, dpi=100, metadata=meta)
        plt.close(fig)
        files[name] = caption

    # 1. occupancy
    occ = 100.0 * _stack(results, "acute_occupancy")
    fig, ax = plt.subplots(figsize=(7, 2.8))
    for row in occ:
        ax.plot(dates, row, color="tab:blue", alpha=0.25, lw=0.6)
    ax.plot(dates, occ.mean(axis=0), color="tab:blue", lw=1.2, label="model (mean of replications)")
    ax.axhline(92.0, color="tab:red", ls="--", lw=1, label="92%")
    ax.axhline(90.0, color="0.3", ls=":", lw=1, label="target mean 90%")
    ax.set_ylabel("G&A occupancy, %")
    ax.set_title("Daily acute (G&A) occupancy; grey: warm-up")
    ax.legend(loc="lower left", fontsize=7, ncol=3)
    finish(
        fig, [ax], "occupancy.png", "Daily acute occupancy over the run, with the 92% line (grey: warm-up)."
    )

    # 2. A&E attendances and 4-hour performance
    att = _stack(results, "ae_attendances") * PER / _stack(results, "population")
    within, departed = _stack(results, "ae_within_4h"), _stack(results, "ae_departures")
    four = 100.0 * within.sum(axis=0) / np.maximum(departed.sum(axis=0), 1)
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 4), sharex=True)
    a1.plot(dates, att.mean(axis=0), color="tab:green", lw=0.5, alpha=0.6, label="daily")
    a1.plot(dates, _rolling(att.mean(axis=0)), color="tab:green", lw=1.3, label="7-day mean")
    a1.axhline(506_000 / 365, color="0.3", ls=":", lw=1, label="target ~1,390 a day")
    a1.set_ylabel("attendances a day\nper 1.2 million")
    a1.set_title("A&E attendances and 4-hour performance")
    a1.legend(loc="lower left", fontsize=7, ncol=3)
    a2.plot(dates, four, color="tab:purple", lw=0.5, alpha=0.6, label="daily")
    a2.plot(dates, _rolling(four), color="tab:purple", lw=1.3, label="7-day mean")
    a2.axhline(89.0, color="0.3", ls=":", lw=1, label="target 89%")
    a2.set_ylabel("left within 4 h, %")
    a2.legend(loc="lower left", fontsize=7, ncol=3)
    finish(fig, [a1, a2], "ae.png", "Daily A&E attendances (per 1.2 million) and % leaving within 4 hours.")

    # 3. delayed beds by pathway
    fig, ax = plt.subplots(figsize=(7, 2.8))
    parts = [_rolling(_stack(results, f"dtoc_beds_{p}").mean(axis=0)) for p in ("p1", "p2", "p3")]
    ok = np.isfinite(parts[0])
    ax.stackplot(
        dates[ok],
        *[x[ok] for x in parts],
        labels=["P1 home with support", "P2 community bed", "P3 care home"],
        colors=["tab:orange", "tab:cyan", "tab:brown"],
        alpha=0.8,
    )
    beds = _stack(results, "acute_beds").mean(axis=0)
    ax.plot(dates, 0.04 * beds, color="0.2", ls=":", lw=1, label="target 4% of G&A beds")
    ax.set_ylabel("delayed beds (7-day mean)")
    ax.set_title("Delayed transfers of care in acute beds, by pathway awaited")
    ax.legend(loc="upper left", fontsize=7, ncol=2)
    finish(
        fig,
        [ax],
        "dtoc.png",
        "Beds occupied by delayed (medically fit) patients, by the pathway they await (7-day mean).",
    )

    # 4. pathway shares
    prow = [r for r in target_rows if r.target.measure.startswith("Discharges on pathway")]
    fig, ax = plt.subplots(figsize=(5, 2.8))
    x = np.arange(len(prow))
    tgt = [r.target.target for r in prow]
    model = [r.mean for r in prow]
    err = np.array([[r.mean - r.lo, r.hi - r.mean] if np.isfinite(r.lo) else [0.0, 0.0] for r in prow]).T
    ax.bar(
        x - 0.2,
        tgt,
        0.4,
        yerr=[r.target.tol for r in prow],
        capsize=3,
        color="0.7",
        label="target ± tolerance",
    )
    ax.bar(x + 0.2, model, 0.4, yerr=err, capsize=3, color="tab:blue", label="model, 95% CI")
    ax.set_xticks(x, [f"P{i}" for i in range(len(prow))])
    ax.set_ylabel("% of acute discharges")
    ax.set_title("Discharge pathway shares")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(fig_dir / "pathways.png", dpi=100, metadata=meta)
    plt.close(fig)
    files["pathways.png"] = (
        "Discharge pathway shares P0–P3: target (± tolerance) and model (95% CI over replications)."
    )
    return files


# -------------------------------------------------------------------------- markdown


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_paragraph(target_rows, feature_rows, analytic: Analytic, conservation: list[bool]) -> str:
    passed = [r for r in target_rows if r.passed]
    failed = [r for r in target_rows if not r.passed]
    loose = [r for r in passed if not r.ci_inside]
    parts = [
        f"{len(passed)} of {len(target_rows)} calibration targets pass"
        + (f" over {len(conservation)} replications" if conservation else "")
    ]
    if failed:
        parts[-1] += (
            "; the model misses "
            + "; ".join(
                f"{r.target.short}: {fmt(r.mean, r.target.fmt)} against "
                f"{fmt(r.target.target, r.target.fmt)} {r.target.tolerance_text().split(' (')[0]}"
                for r in failed
            )
            + "."
        )
    else:
        parts[-1] += "."
    if loose:
        parts.append(
            "For " + ", ".join(r.target.short for r in loose) + " the mean passes but the 95% interval "
            "reaches past the tolerance band, so the pass is marginal."
        )
    f = {r.feature.measure: r.mean for r in feature_rows}
    directions = []

    def say(cond, yes, no):
        if cond is None or not np.isfinite(cond):
            return
        directions.append(yes if cond > 0 else no)

    say(
        f.get("G&A occupancy, winter minus summer, pp", math.nan),
        "winter occupancy is higher than summer, as it was",
        "winter occupancy is not higher than summer, unlike the era",
    )
    say(
        f.get("Emergency admissions per day, Jan–Mar vs Jun–Aug, %", math.nan),
        "emergency admissions peak in winter",
        "emergency admissions do not peak in winter",
    )
    a, b = f.get("4-hour performance Jan–Mar, %", math.nan), f.get("4-hour performance Jun–Aug, %", math.nan)
    say(
        b - a,
        "4-hour performance is worse in winter",
        "4-hour performance is not worse in winter, unlike the era",
    )
    if directions:
        parts.append(
            "Of the features the model is not tuned to, " + ", ".join(directions) + "; the second table "
            "gives the rest beside their reference values (several are inputs, marked so, and only check "
            "that the mechanism passes them through)."
        )
    departures = []
    occ_w = f.get("G&A occupancy Jan–Mar, %", math.nan)
    if np.isfinite(occ_w) and abs(occ_w - 91.4) > 2.0:
        departures.append(f"G&A occupancy in January–March is {occ_w:.1f}% against 91.4% in 2017")
    att = f.get("A&E attendances, summer (Jun–Aug) vs January, %", math.nan)
    if np.isfinite(att) and abs(att - 17.0) > 5.0:
        departures.append(f"summer attendances are {att:+.0f}% on January against +17%")
    waits = [f.get(m, math.nan) for m in f if m.startswith("People waiting for")]
    if waits and all(np.isfinite(x) and x < 0.5 for x in waits):
        departures.append(
            "nobody waits for a community bed, reablement, home care or a care home, so the delayed "
            "beds come from assessment and transfer times alone and downstream capacity never "
            "blocks an acute bed"
        )
    drift = f.get("Drift: care-home residents, same comparison, %", math.nan)
    if np.isfinite(drift) and abs(drift) > 5.0:
        departures.append(
            f"care-home residents change by {drift:+.0f}% in a year, so the footprint is not stationary"
        )
    drift = f.get(
        "Drift: emergency admissions a day, last 30 days of the run vs the same days a year before, %",
        math.nan,
    )
    if np.isfinite(drift) and abs(drift - 3.2) > 3.0:
        departures.append(f"emergency admissions grow {drift:+.0f}% in a year against ~3.2% nationally")
    nhs = f.get("Delayed beds attributed to the NHS, %", math.nan)
    if np.isfinite(nhs) and abs(nhs - 56.0) > 15.0:
        departures.append(f"{nhs:.0f}% of delayed beds are attributed to the NHS against ~56% nationally")
    if departures:
        parts.append("Departures worth a look: " + "; ".join(departures) + ".")
    checks = analytic.erlang_c + analytic.erlang_b
    bad = [c for c in checks if not c.passed] + [r for r in analytic.little if not r.passed]
    if bad:
        parts.append(f"{len(bad)} analytic check(s) of the core fail; see the section below.")
    else:
        parts.append(
            f"The core matches Erlang C and Erlang B within sampling error and Little's law "
            f"within 2% in every pool, and the compiled core and its Python twin are {analytic.twins[0]}."
        )
    parts.append(
        "Conservation held in every replication."
        if all(conservation)
        else f"Conservation FAILED in {conservation.count(False)} of {len(conservation)} replications."
    )
    return " ".join(parts)


def write_report(
    path: Path,
    *,
    config_path: str,
    config,
    overrides,
    results,
    target_rows,
    feature_rows,
    analytic: Analytic,
    figures: dict[str, str],
    wall_s: float,
    analytic_s: float,
    workers: int,
    quick: bool,
) -> None:
    from flowsim.config import config_hash
    from flowsim.results import environment

    env = environment()
    commit = env["git_commit"] or "unknown"
    dirty = " (working tree had uncommitted changes)" if env["git_dirty"] else ""
    try:
        shown_config = Path(config_path).resolve().relative_to(REPO)
    except ValueError:
        shown_config = Path(config_path)
    n = len(results)
    rep_walls = [r["wall_s"] for r in results]
    fig_rel = path.with_suffix("").name
    lines: list[str] = []
    w = lines.append
    w("# Validation report")
    w("")
    w(
        "Generated by `python experiments/validation_report.py"
        + (" --quick" if quick else "")
        + "`; do not edit by hand. Targets and tolerances are those of "
        'CALIBRATION.md ("What the default footprint must reproduce"), per 1.2 million people, '
        "measured after warm-up."
    )
    w("")
    w(
        f"- **Config:** `{shown_config}`"
        + (f" with overrides `{overrides}`" if overrides else "")
        + f" — {config.population.size:,} people, {config.run.warmup_days} days warm-up + "
        f"{config.run.horizon_days} days measured from {config.run.start_date}"
    )
    w(f"- **Config sha256:** `{config_hash(config)}`")
    w(f"- **flowsim:** {env['flowsim_version']}, commit `{commit}`{dirty}; core: {env['core']}")
    w(f"- **Replications:** {n} (replication indices 0–{n - 1}, seed {config.run.seed})")
    w(f"- **Date:** {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    w(f"- **Machine:** {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    span = (
        f"{min(rep_walls):.0f}"
        if round(min(rep_walls)) == round(max(rep_walls))
        else f"{min(rep_walls):.0f}–{max(rep_walls):.0f}"
    )
    w(
        f"- **Wall time:** {wall_s:.0f} s in all ({workers} worker process{'es' if workers > 1 else ''}; "
        f"one replication {span} s; analytic checks {analytic_s:.0f} s)"
    )
    w("")
    w("## Summary")
    w("")
    w(
        summary_paragraph(
            target_rows, feature_rows, analytic, [bool(r["kpis"]["conservation_ok"]) for r in results]
        )
    )
    w("")
    w("## Calibration targets")
    w("")
    w(
        "Model mean over replications and its 95% t interval. A target passes when the mean lies "
        "within the tolerance; † marks a pass whose interval reaches past the tolerance band. Counts are "
        "scaled to 1.2 million people and a 365-day year."
    )
    w("")
    rows = []
    for r in target_rows:
        t = r.target
        verdict = ("PASS" + ("" if r.ci_inside else " †")) if r.passed else "FAIL"
        rows.append(
            [
                t.measure,
                fmt(t.target, t.fmt),
                t.tolerance_text(),
                fmt(r.mean, t.fmt),
                ci_text(r.lo, r.hi, t.fmt),
                verdict,
            ]
        )
    w(md_table(["measure", "target", "tolerance", "model mean", "95% CI", "pass/fail"], rows, "lrrrrl"))
    w("")
    w("Per replication:")
    w("")
    w(
        md_table(
            ["measure"] + [f"rep {r['replication']}" for r in results],
            [[r.target.measure] + [fmt(v, r.target.fmt) for v in r.values] for r in target_rows],
        )
    )
    w("")
    w("## Other features of the era (not tuned to)")
    w("")
    w(
        "Published features of 2014–2017 beside the model's figure, without a verdict. *How the model gets it* "
        "says whether the figure is an input passed through (a check of the mechanism, not independent "
        "evidence), a calibrated parameter, or emergent. Winter is January–March, summer June–August, of the "
        "measured window."
    )
    w("")
    rows = [
        [
            r.feature.measure,
            r.feature.reference,
            fmt(r.mean, r.feature.spec),
            ci_text(r.lo, r.hi, r.feature.spec),
            r.feature.source,
        ]
        for r in feature_rows
    ]
    w(md_table(["measure", "reference", "model mean", "95% CI", "how the model gets it"], rows, "llrrl"))
    w("")
    w(
        "Notes. The readmission KPI `readmissions_30d_pct` covers every age at 30 days; the King's Fund "
        "figure is for people aged 65+ at 28 days, so the report also computes that one from the episodes "
        "(discharges alive in the window, emergency admission of the same person within 28 days). "
        "National DTOC counts start when a patient is declared ready for transfer; the model attributes "
        "the assessment wait after a patient is medically fit to the NHS, which national returns may "
        "count differently. The drift rows compare the last 30 days of the run with the same calendar days "
        "a year earlier, which fall in the warm-up; a stationary footprint would show no change beyond "
        "national growth."
    )
    w("")
    w("## Analytic checks of the core")
    w("")
    w(
        f"Run live on the active core ({analytic.core}) with fixed seeds. Standard errors by batch means "
        f"({N_BATCHES} batches of consecutive arrivals, the first 5% dropped as warm-up); t = (simulated − "
        f"theory) / SE has {N_BATCHES - 1} degrees of freedom. A check passes unless the difference is "
        f"significant at the {ALPHA:g} level (|t| < {critical_t():.2f}): with seven such checks, a correct "
        "core shows a false failure in under 1% of seeds; a bias of about four standard errors (see the SE "
        "column) is caught. A failure should be confirmed on other seeds before it is read as a bug."
    )
    w("")
    w(
        f"**Erlang C** — one pool, Poisson arrivals, exponential stays, infinite queue "
        f"({analytic.sizes['erlang']:,} arrivals each):"
    )
    w("")
    w(
        md_table(
            ["system", "quantity", "simulated ± SE", "theory", "t", "p", "result"],
            [
                [
                    c.detail,
                    c.name,
                    f"{c.simulated:.4f} ± {c.se:.4f}",
                    f"{c.theory:.4f}",
                    f"{c.z:+.2f}",
                    f"{c.p:.3f}",
                    "pass" if c.passed else "FAIL",
                ]
                for c in analytic.erlang_c
            ],
            "llrrrrl",
        )
    )
    w("")
    w(
        f"**Erlang B** — loss system (`max_wait = 0`), blocking is insensitive to the stay distribution "
        f"beyond its mean ({analytic.sizes['erlang']:,} arrivals each):"
    )
    w("")
    w(
        md_table(
            ["system", "quantity", "simulated ± SE", "theory", "t", "p", "result"],
            [
                [
                    c.detail,
                    c.name,
                    f"{c.simulated:.4f} ± {c.se:.4f}",
                    f"{c.theory:.4f}",
                    f"{c.z:+.2f}",
                    f"{c.p:.3f}",
                    "pass" if c.passed else "FAIL",
                ]
                for c in analytic.erlang_b
            ],
            "llrrrrl",
        )
    )
    w("")
    w(
        f"**Little's law** — a three-pool network (acute 12 slots → community 4 or care home 6, direct "
        f"community admissions, three priorities, reneging electives, losses; {analytic.sizes['little']:,} "
        "arrivals), read part-way through with arrivals still coming. L is the core's time integral divided "
        "by the elapsed time; λ entries per hour; W the mean time per completed entry, read off the events. "
        "A row passes when L and λW agree within 2% and the integral equals the sum of the intervals read "
        "off the events (sample-path identity, to 1e-9)."
    )
    w("")
    w(
        md_table(
            ["pool", "quantity", "L", "λ (per h)", "W (h)", "λW", "L/λW − 1", "integral vs events", "result"],
            [
                [
                    r.pool,
                    r.what,
                    f"{r.L:.4f}",
                    f"{r.rate:.4f}",
                    f"{r.W:.4f}",
                    f"{r.rate * r.W:.4f}",
                    f"{100 * r.rel:+.2f}%",
                    f"{r.integral_rel:.1e}",
                    "pass" if r.passed else "FAIL",
                ]
                for r in analytic.little
            ],
            "llrrrrrrl",
        )
    )
    w("")
    verdict, n_events = analytic.twins
    w(
        f"**Twins** — the compiled core and its Python twin on the same stream ({analytic.sizes['twins']:,} "
        f"arrivals, two capacity changes, 40 advances): {verdict}"
        + (f" ({n_events:,} events and the final stats compared bit for bit)." if n_events else ".")
    )
    w("")
    w(
        "**Conservation** — the `conservation_ok` KPI of every replication (everyone counted every day; "
        "everyone flagged in hospital is on an open acute route):"
    )
    w("")
    w(
        md_table(
            ["replication", "conservation_ok"],
            [[str(r["replication"]), "yes" if r["kpis"]["conservation_ok"] else "NO"] for r in results],
            "ll",
        )
    )
    w("")
    w("## Figures")
    w("")
    for name, caption in figures.items():
        w(f"![{caption}]({fig_rel}/{name})")
        w("")
        w(f"*{caption}*")
        w("")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    os.replace(tmp, path)


# ------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Build the flowsim validation report.")
    p.add_argument(
        "--config",
        default=None,
        help="config to validate (default configs/footprint.yaml; configs/small.yaml with --quick)",
    )
    p.add_argument("--replications", type=int, default=None, help="replications (default 3; 2 with --quick)")
    p.add_argument(
        "--out",
        default=str(REPO / "docs" / "validation.md"),
        help="Markdown report to write; figures go in a folder of the same name beside it",
    )
    p.add_argument("--workers", type=int, default=2, help="worker processes for the replications (default 2)")
    p.add_argument(
        "--quick", action="store_true", help="small footprint, short horizon, short analytic streams"
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> Path:
    args = parse_args(argv)
    from flowsim.config import load_config

    t_start = time.perf_counter()
    config_path = str(args.config or (QUICK_CONFIG if args.quick else DEFAULT_CONFIG))
    overrides = dict(QUICK_OVERRIDES) if args.quick else {}
    replications = args.replications or (2 if args.quick else 3)
    if replications < 1:
        raise SystemExit("--replications must be at least 1")
    config = load_config(config_path, overrides)
    out = Path(args.out)

    print(
        f"validation: {replications} replication(s) of {config_path} on {args.workers} worker(s)…", flush=True
    )
    results = run_all(config, replications, args.workers)
    print("validation: analytic checks of the core…", flush=True)
    t_a = time.perf_counter()
    analytic = analytic_checks(args.quick)
    analytic_s = time.perf_counter() - t_a
    target_rows = evaluate_targets(results)
    feature_rows = evaluate_features(results)
    figures = draw_figures(results, target_rows, out.with_suffix(""))
    wall = time.perf_counter() - t_start
    write_report(
        out,
        config_path=config_path,
        config=config,
        overrides=overrides,
        results=results,
        target_rows=target_rows,
        feature_rows=feature_rows,
        analytic=analytic,
        figures=figures,
        wall_s=wall,
        analytic_s=analytic_s,
        workers=min(args.workers, replications),
        quick=args.quick,
    )
    n_pass = sum(r.passed for r in target_rows)
    print(
        f"validation: {n_pass}/{len(target_rows)} targets pass; analytic checks "
        f"{'pass' if analytic.passed else 'FAIL'}; wrote {out} in {wall:.0f} s",
        flush=True,
    )
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
