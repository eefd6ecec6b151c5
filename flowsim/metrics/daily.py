"""The daily table: system-level figures of each day, derived from the run's logs.

Counts are placed on the day the event happened; time-weighted measures integrate hours
over the day. Figures by site, pool, pathway or organisation are in the long tables
(occupancy, delays, spend); the definitions are in `flowsim.metrics.registry`.
"""

from __future__ import annotations

import numpy as np

from flowsim.config.schema import ProactiveCare
from flowsim.costs import spend_by_organisation, spend_items
from flowsim.metrics import exit_block
from flowsim.metrics.logs import RunLogs
from flowsim.metrics.occupancy import PoolDays, pool_days, ratio
from flowsim.metrics.per_day import count_at_midnights, count_by_day, interval_hours_by_day
from flowsim.metrics.registry import POOL_NAMES, STRANDED_DAYS, SUPER_STRANDED_DAYS
from flowsim.vocabulary import PATHWAYS, Arrival, Origin

FOUR_HOURS, TWELVE_HOURS = 4.0, 12.0  # the A&E standard; the trolley-wait threshold
HALF_HOUR, ONE_HOUR = 0.5, 1.0  # the national measures of ambulance handover delays


def ae_by_day(logs: RunLogs) -> dict[str, np.ndarray]:
    """Attendances, the 4-hour measure, 12-hour waits from decision to admit, boarding."""
    ae = logs.attendances
    days = logs.days
    col: dict[str, np.ndarray] = {}
    col["ae_attendances"] = count_by_day(ae["arrival_h"], days)
    for code, name in (
        (Arrival.WALK_IN, "ae_walk_in"),
        (Arrival.AMBULANCE, "ae_ambulance_arrivals"),
        (Arrival.GP_REFERRAL, "ae_gp_referrals"),
    ):
        col[name] = count_by_day(ae["arrival_h"][ae["arrival"] == code], days)
    # Hours added to ambulance journeys by a site's closure (consolidation), by day of arrival.
    col["ae_extra_travel_hours"] = count_by_day(ae["arrival_h"], days, weights=ae["travel_h"])
    # Ambulance handovers by day of arrival: waits from arrival to handover into a cubicle
    # (a crew still waiting at the end of the run is not counted).
    handed = np.isfinite(ae["handover_h"])
    handover_wait = (ae["handover_h"] - ae["arrival_h"])[handed]
    arrived = ae["arrival_h"][handed]
    col["ae_handovers"] = count_by_day(arrived, days)
    col["ae_handover_hours"] = count_by_day(arrived, days, weights=handover_wait)
    col["ae_handovers_over_30min"] = count_by_day(arrived[handover_wait > HALF_HOUR + 1e-9], days)
    col["ae_handovers_over_60min"] = count_by_day(arrived[handover_wait > ONE_HOUR + 1e-9], days)
    # The 4-hour measure by day of arrival: of those who arrived, the share who left
    # within 4 hours (anyone still in A&E at the end counts once 4 hours have passed).
    end_h = days * 24.0
    stay = ae["departure_h"] - ae["arrival_h"]
    known = np.isfinite(stay) | (end_h - ae["arrival_h"] > FOUR_HOURS)
    within = np.isfinite(stay) & (stay <= FOUR_HOURS + 1e-9)
    col["ae_departures"] = count_by_day(ae["departure_h"], days)
    col["ae_4h_known"] = count_by_day(ae["arrival_h"][known], days)
    col["ae_within_4h"] = count_by_day(ae["arrival_h"][within], days)
    col["ae_4h_pct"] = np.where(
        col["ae_4h_known"] > 0, 100.0 * col["ae_within_4h"] / np.maximum(col["ae_4h_known"], 1), np.nan
    )
    # A 12-hour trolley wait counts on the day its 12 hours run out, whether or not the
    # patient has left A&E by the end of the run.
    left_or_end = np.where(np.isnan(ae["departure_h"]), end_h, ae["departure_h"])
    dta_long = ae["admitted"] & (left_or_end - ae["decision_h"] > TWELVE_HOURS)
    col["ae_12h_dta_waits"] = count_by_day(ae["decision_h"][dta_long] + TWELVE_HOURS, days)
    col["ae_admitted"] = count_by_day(ae["arrival_h"][ae["admitted"]], days)
    # A virtual-ward slot taken on a decision to admit in A&E or a GP's direct admission.
    r = logs.routes
    col["admissions_avoided"] = count_by_day(r["request_h"][r["origin"] == Origin.VIRTUAL_WARD], days)
    boarding = ae["admitted"]
    col["ae_boarding_hours"] = interval_hours_by_day(ae["decision_h"][boarding], left_or_end[boarding], days)
    col["ae_boarders_mean"] = col["ae_boarding_hours"] / 24.0
    return col


def acute_by_day(logs: RunLogs) -> dict[str, np.ndarray]:
    """Admissions, discharges and what followed them, from the routes."""
    r = logs.routes
    days = logs.days
    col: dict[str, np.ndarray] = {}
    acute = r["site"] >= 0
    emergency = acute & np.isin(r["origin"], (Origin.AE_ADMISSION, Origin.DIRECT_ADMISSION))
    elective = acute & (r["origin"] == Origin.ELECTIVE)
    col["emergency_admissions"] = count_by_day(r["bed_start_h"][emergency], days)
    col["direct_admissions"] = count_by_day(
        r["bed_start_h"][acute & (r["origin"] == Origin.DIRECT_ADMISSION)], days
    )
    col["elective_admissions"] = count_by_day(r["bed_start_h"][elective], days)
    col["elective_cancellations"] = count_by_day(logs.cancellations_h, days)
    ended = acute & np.isfinite(r["bed_end_h"])
    col["acute_discharges"] = count_by_day(r["bed_end_h"][ended], days)
    los_days = (r["bed_end_h"] - r["bed_start_h"]) / 24.0
    col["acute_los_days_sum"] = count_by_day(r["bed_end_h"][ended], days, los_days[ended])
    # Excess bed days are paid on the clinical stay (to medically fit); the days a fit
    # patient waits are not paid for, and fall to the trust as delayed bed days.
    clinical_days = (np.fmin(r["fit_h"], r["bed_end_h"]) - r["bed_start_h"]) / 24.0
    excess = np.clip(clinical_days - logs.config.payments.tariff.excess_trim_days, 0.0, None)
    paid = ended & (r["origin"] != Origin.ELECTIVE)
    col["excess_bed_days"] = count_by_day(r["bed_end_h"][paid], days, excess[paid])
    alive = ended & ~r["dies"]
    for p, name in enumerate(PATHWAYS):
        col[f"discharges_{name.lower()}"] = count_by_day(r["bed_end_h"][alive & (r["pathway"] == p)], days)
    col["deaths_in_hospital"] = count_by_day(r["bed_end_h"][ended & r["dies"]], days)
    col["deconditioned_patients"] = count_by_day(r["bed_end_h"][ended & r["deconditions"]], days)
    col["care_home_entries"] = count_by_day(logs.care_home_entries_h, days)
    inpatient = acute & np.isfinite(r["bed_start_h"])
    start, end = r["bed_start_h"][inpatient], r["bed_end_h"][inpatient]
    col["stranded"] = count_at_midnights(start, end, days, STRANDED_DAYS * 24.0)
    col["super_stranded"] = count_at_midnights(start, end, days, SUPER_STRANDED_DAYS * 24.0)
    return col


def beds_by_day(logs: RunLogs, pools: PoolDays) -> dict[str, np.ndarray]:
    """Acute beds available and in use, all sites together, and delayed beds."""
    n = logs.pools.n_acute  # every ward group and escalation pool of every site
    acute_cap = pools.capacity_hours[:, :n].sum(axis=1)
    occupied = pools.occupied_hours[:, :n].sum(axis=1)
    dtoc_bed_days = pools.delayed_hours[:, :n].sum(axis=1) / 24.0
    return {
        "acute_beds": acute_cap / 24.0,
        "acute_bed_days": occupied / 24.0,
        "acute_occupancy": ratio(occupied, acute_cap),
        "acute_overfull_beds": pools.overfull[:, :n].sum(axis=1),
        "dtoc_bed_days": dtoc_bed_days,
        "dtoc_beds": dtoc_bed_days,  # bed-days in one day = average delayed beds that day
    }


def exit_block_by_day(logs: RunLogs, pools: PoolDays) -> dict[str, np.ndarray]:
    """Waits for a bed after the decision to admit, outlying and escalation, by day."""
    ae, r, p = logs.attendances, logs.routes, logs.pools
    days, end_h = logs.days, logs.days * 24.0
    outlier = (r["bed_pool"] >= 0) & (r["bed_pool"] != r["ward_pool"])
    return {
        "ae_dta_admitted": count_by_day(ae["decision_h"][ae["admitted"]], days),
        "ae_dta_over_4h": exit_block.dta_waits_over(
            ae["decision_h"], ae["departure_h"], ae["admitted"], end_h, exit_block.DTA_4H, days
        ),
        "outlier_bed_days": exit_block.outlier_bed_days(
            r["bed_start_h"], r["bed_end_h"], r["ward_pool"], r["bed_pool"], p.escalation_pools(), days
        ),
        "escalation_bed_days": exit_block.escalation_bed_days(pools.occupied_hours, p.escalation_pools()),
        "sites_with_a_full_group": exit_block.sites_with_a_full_group(
            pools.queued_hours,
            [p.group_pools(s) for s in range(p.n_sites)],
            r["request_h"][outlier],
            r["ward_pool"][outlier],
        ),
    }


def activity(logs: RunLogs, daily: dict[str, np.ndarray], pools: PoolDays) -> dict[str, np.ndarray]:
    """What costs and payments count (flowsim.costs, flowsim.payments): the daily table,
    place-days open (`<service>_places`) and in use (`<service>_bed_days`) of each service,
    and the capacity behind A&E, ambulances and general practice."""
    out = dict(daily)
    p, days = logs.pools, logs.days
    # A place costs while it is open or still in use: a cut evicts no one, so a bed closes
    # (and its fixed cost stops) only when its patient has left.
    held = np.maximum(pools.capacity_hours, pools.occupied_hours) / 24.0
    for name in POOL_NAMES:
        i = p.index(name)
        out[f"{name}_places"] = held[:, i]
        out[f"{name}_bed_days"] = pools.occupied_hours[:, i] / 24.0
    wards = [pool for s in range(p.n_sites) for pool in p.group_pools(s)]
    escalation = p.escalation_pools()
    out["acute_ward_places"] = held[:, wards].sum(axis=1)
    out["acute_ward_bed_days"] = pools.occupied_hours[:, wards].sum(axis=1) / 24.0
    out["escalation_places"] = held[:, escalation].sum(axis=1)
    cfg = logs.config
    out["clinician_hours"] = np.full(days, float(sum(cfg.emergency.clinicians_by_hour)))
    out["thousand_people"] = np.full(days, cfg.population.size / 1000.0)
    # Appointments are offered on weekdays (general practice rations them then).
    weekday = (logs.dates().astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    offered = cfg.population.size * cfg.primary_care.appointments_per_1000_weekday / 1000.0
    more = np.ones(days)  # proactive care's extra appointments, as general practice offers them
    for lever in cfg.interventions:
        if isinstance(lever, ProactiveCare):
            more *= 1.0 + lever.gp_capacity_change * lever.effect(np.arange(days))
    out["gp_appointments_offered"] = np.where(weekday < 5, offered * more, 0.0)
    return out


def daily(logs: RunLogs, pools: PoolDays | None = None) -> dict[str, np.ndarray]:
    """Every column of the daily table but date and warmup, one value a day."""
    pools = pool_days(logs) if pools is None else pools
    days = logs.days
    col: dict[str, np.ndarray] = {"day": np.arange(days, dtype=np.int32)}
    col.update(logs.census)
    col.update(ae_by_day(logs))
    col.update(acute_by_day(logs))
    col.update(beds_by_day(logs, pools))
    col.update(exit_block_by_day(logs, pools))
    col["gp_consultations"] = np.asarray(logs.gp_consultations, dtype=np.float64)
    items = spend_items(logs.config, activity(logs, col, pools), days)
    col["spend_total"] = spend_by_organisation(items, days)["spend_total"]
    return col
