"""The headline KPIs of a run: the measured window (after warm-up) in one row.

Each KPI's definition is in `flowsim.metrics.registry`; a KPI that cannot be computed
(no attendances, no beds, no discharges in the window) is NaN here and null in the table.
"""

from __future__ import annotations

import numpy as np

from flowsim.costs import spend_by_organisation, spend_items
from flowsim.metrics.daily import activity, daily
from flowsim.metrics.delays import (
    delayed_beds_by_pathway,
    delayed_beds_by_reason,
    delayed_beds_by_responsible,
    delays,
)
from flowsim.metrics.logs import RunLogs
from flowsim.metrics.occupancy import PoolDays, pool_days
from flowsim.metrics.readmissions import emergency_admissions, live_discharges, readmitted
from flowsim.metrics.registry import HIGH_OCCUPANCY, POOL_NAMES, READMISSION_DAYS
from flowsim.payments import accounts, payment_flows
from flowsim.vocabulary import DTOC_RESPONSIBILITY, OLDER_BANDS, ORGANISATIONS, PATHWAYS

NAN = float("nan")


def _share(part: float, whole: float, scale: float = 1.0) -> float:
    return scale * part / whole if whole else NAN


def kpis(logs: RunLogs, day_figures: dict[str, np.ndarray] | None = None) -> dict[str, float | int | bool]:
    """Every column of the kpis table, by name (the daily figures are derived if not given)."""
    pools = pool_days(logs)
    d = daily(logs, pools) if day_figures is None else day_figures
    w0 = logs.warmup_days
    days = logs.days - w0
    win = slice(w0, None)
    k: dict[str, float | int | bool] = {}

    def total(values: np.ndarray) -> float:
        return float(np.sum(values[win]))

    def count(name: str) -> int:
        return int(round(total(d[name])))

    def mean(values: np.ndarray) -> float:
        return float(np.mean(values[win]))

    population = mean(d["population"])
    k["population"] = population
    k["days"] = days
    attendances = total(d["ae_attendances"])
    k["ae_attendances"] = count("ae_attendances")
    k["ae_4h_pct"] = _share(total(d["ae_within_4h"]), total(d["ae_4h_known"]), 100.0)
    k["ae_12h_dta_waits"] = count("ae_12h_dta_waits")
    k["ae_dta_over_4h"] = count("ae_dta_over_4h")
    k["ae_dta_over_4h_share"] = _share(total(d["ae_dta_over_4h"]), total(d["ae_dta_admitted"]))
    k["ae_conversion_pct"] = _share(total(d["ae_admitted"]), attendances, 100.0)
    k["ae_ambulance_share"] = _share(total(d["ae_ambulance_arrivals"]), attendances)
    k["ambulance_extra_travel_minutes"] = _share(
        total(d["ae_extra_travel_hours"]), total(d["ae_ambulance_arrivals"]), 60.0
    )
    k["ae_boarders_mean"] = mean(d["ae_boarders_mean"])
    handovers = total(d["ae_handovers"])
    k["ambulance_handover_minutes_mean"] = _share(total(d["ae_handover_hours"]), handovers, 60.0)
    k["ambulance_handovers_over_30min_share"] = _share(total(d["ae_handovers_over_30min"]), handovers)
    k["ambulance_handovers_over_60min_share"] = _share(total(d["ae_handovers_over_60min"]), handovers)
    emergency = total(d["emergency_admissions"])
    k["emergency_admissions"] = count("emergency_admissions")
    k["emergency_admissions_per_1000"] = emergency / population * 1000.0 * 365.0 / days
    for name in ("direct_admissions", "admissions_avoided", "elective_admissions", "elective_cancellations"):
        k[name] = count(name)
    k.update(_acute_beds(d, win, days))
    k["acute_overfull_bed_days"] = count("acute_overfull_beds")
    k["outlier_bed_days"] = total(d["outlier_bed_days"])
    k["escalation_bed_days"] = total(d["escalation_bed_days"])
    k["days_site_group_full"] = count("sites_with_a_full_group")
    k["dtoc_bed_days"] = total(d["dtoc_bed_days"])
    k["dtoc_beds_mean"] = k["dtoc_bed_days"] / days
    k["dtoc_share_of_beds"] = _share(k["dtoc_beds_mean"], float(k["acute_beds_mean"]))
    dtoc = delays(logs)
    for p, beds in delayed_beds_by_pathway(logs, dtoc).items():
        k[f"dtoc_beds_{p.lower()}_mean"] = mean(beds)
    by_org = delayed_beds_by_responsible(logs, dtoc)
    for org in DTOC_RESPONSIBILITY:
        k[f"dtoc_beds_{org}_mean"] = mean(by_org[org])
    for reason, beds in delayed_beds_by_reason(logs, dtoc).items():
        k[f"dtoc_beds_{reason}_mean"] = mean(beds)
    discharges = total(d["acute_discharges"])
    k["acute_discharges"] = count("acute_discharges")
    k["mean_los_days"] = _share(total(d["acute_los_days_sum"]), discharges)
    alive = sum(total(d[f"discharges_{p.lower()}"]) for p in PATHWAYS)
    for p in PATHWAYS:
        k[f"pathway_share_{p.lower()}"] = _share(total(d[f"discharges_{p.lower()}"]), alive)
    for name in ("deaths_in_hospital", "deconditioned_patients", "care_home_entries"):
        k[name] = count(name)
    k["stranded_mean"] = mean(d["stranded"])
    k["super_stranded_mean"] = mean(d["super_stranded"])
    k.update(_pools(logs, pools, win))
    k.update(person_level(logs, w0 * 24.0, (w0 + days) * 24.0))
    k["gp_consultations"] = count("gp_consultations")
    act = activity(logs, d, pools)
    items = spend_items(logs.config, act, logs.days)
    spend = spend_by_organisation(items, logs.days)
    for organisation in ORGANISATIONS:
        k[f"spend_{organisation}"] = total(spend[f"spend_{organisation}"])
    k["spend_total"] = total(d["spend_total"])
    books = accounts(payment_flows(logs.config, act, items, logs.days), items, logs.days)
    for holder, b in books.items():
        k[f"income_{holder}"] = total(b["allocation"] + b["income"])
        k[f"payments_{holder}"] = total(b["payments"])
        k[f"surplus_{holder}"] = total(b["surplus"])
    k["conservation_ok"] = not logs.conservation_failures
    return k


def _acute_beds(d: dict[str, np.ndarray], win: slice, days: int) -> dict[str, float | int]:
    beds = d["acute_beds"][win]
    bed_sum = float(np.sum(beds))
    occupancy = d["acute_occupancy"][win]
    has_beds = np.isfinite(occupancy)
    return {
        "acute_beds_mean": float(np.mean(beds)),
        "acute_occupancy_mean": _share(float(np.sum(d["acute_bed_days"][win])), bed_sum),
        "acute_occupancy_p95": float(np.percentile(occupancy[has_beds], 95)) if has_beds.any() else NAN,
        "acute_days_above_92": int(np.count_nonzero(occupancy > HIGH_OCCUPANCY)),
    }


def _pools(logs: RunLogs, pools: PoolDays, win: slice) -> dict[str, float]:
    """Occupancy, mean queue and mean wait of each pool outside the acute hospital."""
    out = {}
    for name in POOL_NAMES:
        i = logs.pools.index(name)
        cap = float(np.sum((pools.capacity_hours[:, i] / 24.0)[win]))
        used = float(np.sum((pools.occupied_hours[:, i] / 24.0)[win]))
        waited = (pools.queued_hours[:, i] / 24.0)[win]
        out[f"{name}_occupancy_mean"] = _share(used, cap)
        out[f"{name}_waiting_mean"] = float(np.mean(waited))
        # Little's law: days queued over requests (everyone referred, from either door,
        # including a referral from home withdrawn after its longest wait).
        out[f"{name}_wait_days_mean"] = _share(float(np.sum(waited)), float(np.sum(pools.requested[win, i])))
    return out


def person_level(logs: RunLogs, t0: float, t1: float) -> dict[str, float]:
    """Readmissions and the age mix and short stays of emergency admissions in [t0, t1)."""
    r = logs.routes
    out: dict[str, float] = {}
    # Readmission: an emergency admission of the same person within 30 days of leaving
    # hospital alive, for discharges with 30 days of the window left after them.
    follow_up = READMISSION_DAYS * 24.0
    in_window = live_discharges(r) & (r["bed_end_h"] >= t0) & (r["bed_end_h"] < t1 - follow_up)
    older = r["age_band"] >= OLDER_BANDS
    for name, who in (
        ("readmissions_30d_pct", in_window),
        ("readmissions_30d_65plus_pct", in_window & older),
    ):
        back = readmitted(r, who, follow_up)
        out[name] = 100.0 * back.mean() if back.size else NAN
    emergency = emergency_admissions(r)
    adm_in = emergency & (r["bed_start_h"] >= t0) & (r["bed_start_h"] < t1)
    out["emergency_admissions_65plus_share"] = float(np.mean(older[adm_in])) if adm_in.any() else NAN
    short = (r["bed_end_h"] - r["bed_start_h"]) < 24.0
    done = adm_in & np.isfinite(r["bed_end_h"])
    out["zero_day_share"] = float(np.mean(short[done])) if done.any() else NAN
    return out
