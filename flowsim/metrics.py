"""Every KPI defined once: the daily table, the headline KPIs of a run, and the episodes.

During the run only the core's accumulators and the population's counts are snapshotted
at midnight; everything else is derived at the end from the logs of attendances and
routes, so the day loop stays lean.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

import flowsim.exit_block as exit_block
from flowsim.costs import daily_spend
from flowsim.vocabulary import (
    AGE_BANDS,
    ARRIVAL_NAMES,
    FRAILTY_LEVELS,
    OLDER_BANDS,
    ORGANISATIONS,
    PATHWAYS,
    Arrival,
    Origin,
    Residence,
)

AE_ADMISSION, DIRECT_ADMISSION = Origin.AE_ADMISSION, Origin.DIRECT_ADMISSION
ELECTIVE, RESIDENT = Origin.ELECTIVE, Origin.RESIDENT
ROUTE_NAMES = (*ARRIVAL_NAMES, "elective", "direct")

STRANDED_DAYS, SUPER_STRANDED_DAYS = 7, 21
HIGH_OCCUPANCY = 0.92
READMISSION_DAYS = 30
_STATS = ("capacity_hours", "occupied_hours", "queued_hours", "delayed_hours", "lost")

# Plain-English label and unit of each headline KPI, for the CLI and the dashboard.
KPI_LABELS: dict[str, tuple[str, str]] = {
    "population": ("People in the footprint", "people"),
    "days": ("Days measured", "days"),
    "ae_attendances": ("A&E attendances", "attendances"),
    "ae_4h_pct": ("A&E patients leaving within 4 hours", "%"),
    "ae_12h_dta_waits": ("Waits over 12 hours from decision to admit", "patients"),
    "ae_dta_over_4h_share": ("Admissions through A&E waiting over 4 hours for a bed", "fraction"),
    "emergency_admissions": ("Emergency admissions", "admissions"),
    "emergency_admissions_per_1000": ("Emergency admissions per 1,000 people a year", "per 1,000"),
    "elective_admissions": ("Elective admissions", "admissions"),
    "elective_cancellations": ("Electives cancelled on the day", "operations"),
    "acute_beds_mean": ("General and acute beds available", "beds"),
    "acute_occupancy_mean": ("Acute bed occupancy, average", "fraction"),
    "acute_occupancy_p95": ("Acute bed occupancy, 95th percentile day", "fraction"),
    "acute_days_above_92": ("Days with acute occupancy above 92%", "days"),
    "dtoc_bed_days": ("Bed-days of delayed transfers of care (acute)", "bed-days"),
    "dtoc_beds_mean": ("Beds occupied by delayed patients, average", "beds"),
    "dtoc_share_of_beds": ("Delayed patients as a share of acute beds", "fraction"),
    "mean_los_days": ("Average acute length of stay", "days"),
    "pathway_share_p0": ("Discharges home with no new support (P0)", "fraction"),
    "pathway_share_p1": ("Discharges home with support (P1)", "fraction"),
    "pathway_share_p2": ("Discharges to a community bed (P2)", "fraction"),
    "pathway_share_p3": ("Discharges to a care home (P3)", "fraction"),
    "spend_total": ("System spend", "£"),
}


def _by_day(t_hours: np.ndarray, days: int, weights=None) -> np.ndarray:
    t = np.asarray(t_hours, dtype=np.float64)
    ok = np.isfinite(t) & (t >= 0) & (t < days * 24.0)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[ok]
    return np.bincount((t[ok] // 24).astype(np.int64), weights=w, minlength=days)[:days].astype(np.float64)


def _interval_hours_by_day(start: np.ndarray, end: np.ndarray, days: int) -> np.ndarray:
    """Hours that intervals [start, end) spend in each day: a time-weighted count per day."""
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    ok = np.isfinite(start) & (end > start)
    start, end = start[ok], end[ok]
    edges = np.arange(days + 1) * 24.0
    if start.size == 0:
        return np.zeros(days)
    s, e = np.sort(start), np.sort(end)

    # Accrued hours by edge T = sum(clip(T - start, 0)) - sum(clip(T - end, 0)).
    def accrued(points, T):
        k = np.searchsorted(points, T, side="right")
        prefix = np.concatenate([[0.0], np.cumsum(points)])
        return k * T - prefix[k]

    total = accrued(s, edges) - accrued(e, edges)
    return np.diff(total)


def _count_at_midnights(start: np.ndarray, end: np.ndarray, days: int, min_age_h: float = 0.0) -> np.ndarray:
    """People inside [start + min_age, end) at each midnight ending a day."""
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    end = np.where(np.isfinite(end), end, np.inf)
    ok = np.isfinite(start) & (end > start + min_age_h)
    s = np.sort(start[ok] + min_age_h)
    e = np.sort(end[ok])
    T = (np.arange(days) + 1) * 24.0
    return (np.searchsorted(s, T, side="right") - np.searchsorted(e, T, side="right")).astype(np.float64)


class DailyRecorder:
    def __init__(self, model):
        self.model = model
        self.snapshots: list[dict[str, np.ndarray]] = []
        self.population_rows: list[tuple[int, int, int, int]] = []
        self.gp_consultations: list[int] = []
        self.population_deaths = 0
        self.hospital_and_care_deaths = 0
        self.conservation_failures: list[str] = []

    def _snapshot(self) -> dict[str, np.ndarray]:
        stats = self.model.clock.board.stats()
        return {k: np.asarray(stats[k], dtype=np.float64).copy() for k in _STATS}

    def start(self) -> None:
        self.snapshots = [self._snapshot()]

    def record(self, day: int) -> None:
        m = self.model
        pop = m.population
        self.snapshots.append(self._snapshot())
        self.gp_consultations.append(m.primary_care.consultations_today)
        in_hospital = int(np.count_nonzero(pop.in_hospital))
        self.population_rows.append(
            (
                pop.size,
                in_hospital,
                int(np.count_nonzero(pop.residence == Residence.CARE_HOME)),
                int(np.count_nonzero(pop.residence == Residence.HOME_CARE)),
            )
        )
        # Conservation: everyone is counted once, and everyone flagged as in hospital is on
        # an open acute route (requested, not cancelled, not yet left the acute bed).
        r = m.ledger.routes.view()
        open_acute = (r["site"] >= 0) & np.isnan(r["bed_end_h"]) & ~r["lost"]
        open_people = np.unique(r["person"][open_acute])
        if open_people.size != in_hospital or not pop.in_hospital[open_people].all():
            self.conservation_failures.append(
                f"day {day}: {in_hospital} people flagged in hospital, {open_people.size} on open acute routes"
            )
        if (
            pop.person_id.size != pop.size
            or pop.next_person_id - pop.size != self.population_deaths + self.hospital_and_care_deaths
        ):
            self.conservation_failures.append(f"day {day}: deaths and newcomers do not balance")

    # -- tables -------------------------------------------------------------------------
    def daily(self) -> dict[str, np.ndarray]:
        m = self.model
        cfg = m.config
        days = len(self.snapshots) - 1
        pools = m.pools
        snap = {k: np.stack([s[k] for s in self.snapshots]) for k in _STATS}
        per_day = {k: np.diff(v, axis=0) for k, v in snap.items()}  # [day, pool]
        n_acute = pools.n_acute
        col: dict[str, np.ndarray] = {}
        col["day"] = np.arange(days, dtype=np.int32)
        prow = np.array(self.population_rows, dtype=np.int64).reshape(days, 4)
        col["population"], col["in_hospital"] = prow[:, 0], prow[:, 1]
        col["care_home_residents"], col["home_care_clients"] = prow[:, 2], prow[:, 3]

        ae = m.emergency.log.view()
        col["ae_attendances"] = _by_day(ae["arrival_h"], days)
        for code, name in (
            (Arrival.WALK_IN, "ae_walk_in"),
            (Arrival.AMBULANCE, "ae_ambulance_arrivals"),
            (Arrival.GP_REFERRAL, "ae_gp_referrals"),
        ):
            col[name] = _by_day(ae["arrival_h"][ae["arrival"] == code], days)
        # The 4-hour measure by day of arrival: of those who arrived, the share who left
        # within 4 hours (anyone still in A&E at the end counts once 4 hours have passed).
        end_h = days * 24.0
        stay = ae["departure_h"] - ae["arrival_h"]
        known = np.isfinite(stay) | (end_h - ae["arrival_h"] > 4.0)
        within = np.isfinite(stay) & (stay <= 4.0 + 1e-9)
        col["ae_departures"] = _by_day(ae["departure_h"], days)
        col["ae_4h_known"] = _by_day(ae["arrival_h"][known], days)
        col["ae_within_4h"] = _by_day(ae["arrival_h"][within], days)
        col["ae_4h_pct"] = np.where(
            col["ae_4h_known"] > 0, 100.0 * col["ae_within_4h"] / np.maximum(col["ae_4h_known"], 1), np.nan
        )
        # A 12-hour trolley wait counts on the day its 12 hours run out, whether or not the
        # patient has left A&E by the end of the run.
        left_or_end = np.where(np.isnan(ae["departure_h"]), end_h, ae["departure_h"])
        dta_long = ae["admitted"] & (left_or_end - ae["decision_h"] > 12.0)
        col["ae_12h_dta_waits"] = _by_day(ae["decision_h"][dta_long] + 12.0, days)
        col["ae_admitted"] = _by_day(ae["arrival_h"][ae["admitted"]], days)
        col["admissions_avoided"] = _by_day(ae["decision_h"][ae["avoided"]], days)
        boarding = ae["admitted"]
        col["ae_boarding_hours"] = _interval_hours_by_day(
            ae["decision_h"][boarding], left_or_end[boarding], days
        )
        col["ae_boarders_mean"] = col["ae_boarding_hours"] / 24.0

        r = m.ledger.routes.view()
        acute = r["site"] >= 0
        emergency = acute & np.isin(r["origin"], (AE_ADMISSION, DIRECT_ADMISSION))
        elective = acute & (r["origin"] == ELECTIVE)
        col["emergency_admissions"] = _by_day(r["bed_start_h"][emergency], days)
        col["direct_admissions"] = _by_day(r["bed_start_h"][acute & (r["origin"] == DIRECT_ADMISSION)], days)
        col["elective_admissions"] = _by_day(r["bed_start_h"][elective], days)
        col["elective_cancellations"] = _by_day(np.asarray(m.hospital.cancellations_h), days)
        ended = acute & np.isfinite(r["bed_end_h"])
        col["acute_discharges"] = _by_day(r["bed_end_h"][ended], days)
        los_days = (r["bed_end_h"] - r["bed_start_h"]) / 24.0
        col["acute_los_days_sum"] = _by_day(r["bed_end_h"][ended], days, los_days[ended])
        # Excess bed days are paid on the clinical stay (to medically fit); the days a fit
        # patient waits are not paid for, and fall to the trust as delayed bed days.
        clinical_days = (np.fmin(r["fit_h"], r["bed_end_h"]) - r["bed_start_h"]) / 24.0
        excess = np.clip(clinical_days - cfg.costs.excess_trim_days, 0.0, None)
        col["excess_bed_days"] = _by_day(
            r["bed_end_h"][ended & (r["origin"] != ELECTIVE)], days, excess[ended & (r["origin"] != ELECTIVE)]
        )
        alive = ended & ~r["dies"]
        for p, name in enumerate(PATHWAYS):
            col[f"discharges_{name.lower()}"] = _by_day(r["bed_end_h"][alive & (r["pathway"] == p)], days)
        col["deaths_in_hospital"] = _by_day(r["bed_end_h"][ended & r["dies"]], days)
        col["deconditioned_patients"] = _by_day(r["bed_end_h"][ended & r["deconditions"]], days)
        col["care_home_entries"] = _by_day(np.asarray(m.social_care.care_home_entries_h), days)

        capacity_h, occupied_h = per_day["capacity_hours"], per_day["occupied_hours"]
        acute_cap = capacity_h[:, :n_acute].sum(axis=1)
        col["acute_beds"] = acute_cap / 24.0
        col["acute_bed_days"] = occupied_h[:, :n_acute].sum(axis=1) / 24.0
        col["acute_occupancy"] = np.where(
            acute_cap > 0, occupied_h[:, :n_acute].sum(axis=1) / np.maximum(acute_cap, 1e-9), np.nan
        )
        for s, site in enumerate(pools.sites):
            at = slice(s * pools.per_site, (s + 1) * pools.per_site)  # the site's ward groups
            cap_s, occ_s = capacity_h[:, at].sum(axis=1), occupied_h[:, at].sum(axis=1)
            col[f"acute_{site}_occupancy"] = np.where(cap_s > 0, occ_s / np.maximum(cap_s, 1e-9), np.nan)
        for name in ("community_beds", "reablement", "home_care", "care_home", "virtual_ward"):
            i = pools.index(name)
            col[f"{name}_capacity"] = capacity_h[:, i] / 24.0
            col[f"{name}_bed_days"] = occupied_h[:, i] / 24.0
            col[f"{name}_occupancy"] = np.where(
                capacity_h[:, i] > 0, occupied_h[:, i] / np.maximum(capacity_h[:, i], 1e-9), np.nan
            )
            col[f"{name}_waiting_mean"] = per_day["queued_hours"][:, i] / 24.0
        col["dtoc_bed_days"] = per_day["delayed_hours"][:, :n_acute].sum(axis=1) / 24.0
        col["dtoc_beds"] = col["dtoc_bed_days"]  # bed-days in one day = average delayed beds that day
        # Exit block (flowsim/exit_block.py): waits for a bed, outlying and escalation.
        col["ae_dta_admitted"] = exit_block.by_day(ae["decision_h"][ae["admitted"]], days)
        col["ae_dta_over_4h"] = exit_block.dta_waits_over(
            ae["decision_h"], ae["departure_h"], ae["admitted"], end_h, exit_block.DTA_4H, days
        )
        col["outlier_bed_days"] = exit_block.outlier_bed_days(
            r["bed_start_h"], r["bed_end_h"], r["ward_pool"], r["bed_pool"], pools.escalation_pools(), days
        )
        col["escalation_bed_days"] = exit_block.escalation_bed_days(occupied_h, pools.escalation_pools())
        outlier = (r["bed_pool"] >= 0) & (r["bed_pool"] != r["ward_pool"])
        col["sites_with_a_full_group"] = exit_block.sites_with_a_full_group(
            per_day["queued_hours"],
            [pools.group_pools(s) for s in range(pools.n_sites)],
            r["request_h"][outlier],
            r["ward_pool"][outlier],
        )

        # Delays by pathway, and by who is responsible: awaiting assessment, then awaiting
        # the place itself (as in the national DTOC collection's reasons).
        delayed = acute & np.isfinite(r["fit_h"]) & (r["pathway"] > 0)
        end = np.where(np.isnan(r["bed_end_h"]), days * 24.0, r["bed_end_h"])
        onward = np.minimum(np.where(np.isnan(r["onward_request_h"]), end, r["onward_request_h"]), end)
        # Waiting for a package to restart is not an assessment: all of it is the pathway's.
        restart = r["last_pool"] == m.pools.index("home")
        onward = np.where(restart, r["fit_h"], onward)
        responsibility = cfg.pathways.dtoc_responsibility
        by_org = {org: np.zeros(days) for org in ("nhs", "social_care", "both")}
        by_org[responsibility["assessment"]] += (
            _interval_hours_by_day(r["fit_h"][delayed], onward[delayed], days) / 24.0
        )
        for p, name in enumerate(PATHWAYS[1:], start=1):
            sel = delayed & (r["pathway"] == p)
            col[f"dtoc_beds_{name.lower()}"] = _interval_hours_by_day(r["fit_h"][sel], end[sel], days) / 24.0
            by_org[responsibility[name]] += _interval_hours_by_day(onward[sel], end[sel], days) / 24.0
        for org, values in by_org.items():
            col[f"dtoc_beds_{org}"] = values

        inpatient = acute & np.isfinite(r["bed_start_h"])
        col["stranded"] = _count_at_midnights(
            r["bed_start_h"][inpatient], r["bed_end_h"][inpatient], days, STRANDED_DAYS * 24.0
        )
        col["super_stranded"] = _count_at_midnights(
            r["bed_start_h"][inpatient], r["bed_end_h"][inpatient], days, SUPER_STRANDED_DAYS * 24.0
        )
        col["gp_consultations"] = np.asarray(self.gp_consultations, dtype=np.float64)
        col.update(daily_spend(cfg, col, days))
        return col

    def kpis(self, daily: dict[str, np.ndarray]) -> dict[str, float]:
        m = self.model
        cfg = m.config
        w0 = cfg.run.warmup_days
        days = len(daily["day"]) - w0
        win = slice(w0, None)
        k: dict[str, float] = {}

        def total(name: str) -> float:
            return float(np.sum(daily[name][win]))

        population = float(np.mean(daily["population"][win]))
        k["population"] = population
        k["days"] = float(days)
        k["ae_attendances"] = total("ae_attendances")
        known = total("ae_4h_known")
        k["ae_4h_pct"] = 100.0 * total("ae_within_4h") / known if known else float("nan")
        k["ae_12h_dta_waits"] = total("ae_12h_dta_waits")
        k["ae_dta_over_4h"] = total("ae_dta_over_4h")
        admitted = total("ae_dta_admitted")
        k["ae_dta_over_4h_share"] = k["ae_dta_over_4h"] / admitted if admitted else float("nan")
        k["outlier_bed_days"] = total("outlier_bed_days")
        k["escalation_bed_days"] = total("escalation_bed_days")
        k["days_site_group_full"] = total("sites_with_a_full_group")
        k["ae_conversion_pct"] = (
            100.0 * total("ae_admitted") / k["ae_attendances"] if k["ae_attendances"] else float("nan")
        )
        k["ae_ambulance_share"] = (
            total("ae_ambulance_arrivals") / k["ae_attendances"] if k["ae_attendances"] else float("nan")
        )
        k["ae_boarders_mean"] = float(np.mean(daily["ae_boarders_mean"][win]))
        k["emergency_admissions"] = total("emergency_admissions")
        k["emergency_admissions_per_1000"] = k["emergency_admissions"] / population * 1000.0 * 365.0 / days
        k["direct_admissions"] = total("direct_admissions")
        k["admissions_avoided"] = total("admissions_avoided")
        k["elective_admissions"] = total("elective_admissions")
        k["elective_cancellations"] = total("elective_cancellations")
        beds = daily["acute_beds"][win]
        k["acute_beds_mean"] = float(np.mean(beds))
        k["acute_occupancy_mean"] = (
            total("acute_bed_days") / float(np.sum(beds)) if np.sum(beds) else float("nan")
        )
        occupancy = daily["acute_occupancy"][win]
        has_beds = np.isfinite(occupancy)
        k["acute_occupancy_p95"] = (
            float(np.percentile(occupancy[has_beds], 95)) if has_beds.any() else float("nan")
        )
        k["acute_days_above_92"] = float(np.count_nonzero(occupancy > HIGH_OCCUPANCY))
        k["dtoc_bed_days"] = total("dtoc_bed_days")
        k["dtoc_beds_mean"] = k["dtoc_bed_days"] / days
        k["dtoc_share_of_beds"] = (
            k["dtoc_beds_mean"] / k["acute_beds_mean"] if k["acute_beds_mean"] else float("nan")
        )
        for name in ("p1", "p2", "p3", "nhs", "social_care", "both"):
            k[f"dtoc_beds_{name}_mean"] = float(np.mean(daily[f"dtoc_beds_{name}"][win]))
        discharges = total("acute_discharges")
        k["acute_discharges"] = discharges
        k["mean_los_days"] = total("acute_los_days_sum") / discharges if discharges else float("nan")
        alive = sum(total(f"discharges_{p.lower()}") for p in PATHWAYS)
        for p in PATHWAYS:
            k[f"pathway_share_{p.lower()}"] = (
                total(f"discharges_{p.lower()}") / alive if alive else float("nan")
            )
        k["deaths_in_hospital"] = total("deaths_in_hospital")
        k["deconditioned_patients"] = total("deconditioned_patients")
        k["care_home_entries"] = total("care_home_entries")
        k["stranded_mean"] = float(np.mean(daily["stranded"][win]))
        k["super_stranded_mean"] = float(np.mean(daily["super_stranded"][win]))
        for name in ("community_beds", "reablement", "home_care", "care_home", "virtual_ward"):
            cap = total(f"{name}_capacity")
            k[f"{name}_occupancy_mean"] = total(f"{name}_bed_days") / cap if cap else float("nan")
            k[f"{name}_waiting_mean"] = float(np.mean(daily[f"{name}_waiting_mean"][win]))
        k.update(self._person_level_kpis(w0 * 24.0, (w0 + days) * 24.0))
        k["gp_consultations"] = total("gp_consultations")
        for org in ORGANISATIONS:
            k[f"spend_{org}"] = total(f"spend_{org}")
        k["spend_total"] = total("spend_total")
        k["conservation_ok"] = float(not self.conservation_failures)
        return k

    def _person_level_kpis(self, t0: float, t1: float) -> dict[str, float]:
        """Readmissions, care-home entries and the age mix of admissions in the window."""
        m = self.model
        r = m.ledger.routes.view()
        acute = r["site"] >= 0
        emergency = (
            acute & np.isin(r["origin"], (AE_ADMISSION, DIRECT_ADMISSION)) & np.isfinite(r["bed_start_h"])
        )
        out: dict[str, float] = {}
        # 30-day readmission: an emergency admission of the same person within 30 days of
        # leaving hospital alive; counted for discharges in the window.
        discharged = acute & np.isfinite(r["bed_end_h"]) & ~r["dies"] & (r["origin"] != RESIDENT)
        in_window = discharged & (r["bed_end_h"] >= t0) & (r["bed_end_h"] < t1 - READMISSION_DAYS * 24.0)
        adm_pid, adm_t = r["person_id"][emergency], r["request_h"][emergency]
        order = np.lexsort((adm_t, adm_pid))
        adm_pid, adm_t = adm_pid[order], adm_t[order]
        d_pid, d_t = r["person_id"][in_window], r["bed_end_h"][in_window]
        # First admission of the same person after the discharge time.
        key_adm = adm_pid.astype(np.float64) * 1e7 + adm_t
        key_dis = d_pid.astype(np.float64) * 1e7 + d_t
        j = np.searchsorted(key_adm, key_dis, side="right")
        j_ok = j < adm_pid.size
        jj = np.where(j_ok, j, 0)
        readmitted = j_ok & (adm_pid[jj] == d_pid) & (adm_t[jj] - d_t <= READMISSION_DAYS * 24.0)
        out["readmissions_30d_pct"] = 100.0 * readmitted.mean() if readmitted.size else float("nan")
        adm_in = emergency & (r["bed_start_h"] >= t0) & (r["bed_start_h"] < t1)
        out["emergency_admissions_65plus_share"] = (
            float(np.mean(r["age_band"][adm_in] >= OLDER_BANDS)) if adm_in.any() else float("nan")
        )
        short = (r["bed_end_h"] - r["bed_start_h"]) < 24.0
        done = adm_in & np.isfinite(r["bed_end_h"])
        out["zero_day_share"] = float(np.mean(short[done])) if done.any() else float("nan")
        return out

    def episodes(self) -> pa.Table:
        m = self.model
        ae = m.emergency.log.view()
        r = m.ledger.routes.view()
        pools = m.pools
        h = ae["handle"]
        has = h >= 0
        hh = np.where(has, h, 0)

        def from_route(name):
            values = r[name][hh].astype(np.float64) if r[name].dtype.kind == "f" else r[name][hh]
            return np.where(has, values, np.nan) if r[name].dtype.kind == "f" else values

        direct = (r["site"] >= 0) & np.isin(r["origin"], (DIRECT_ADMISSION, ELECTIVE))
        dh = np.flatnonzero(direct)
        n_ae = ae["person_id"].size
        route_name = np.array(ROUTE_NAMES)
        route = np.concatenate(
            [route_name[ae["arrival"]], np.where(r["origin"][dh] == ELECTIVE, "elective", "direct")]
        )
        site_names = np.array(pools.sites)
        pathway_names = np.array(PATHWAYS + ("",))

        def pathway_of(p, ok):
            return pa.array(pathway_names[np.where(p >= 0, p, 4)], mask=~ok | (p < 0))

        def nan_to_null(x):
            x = np.asarray(x, dtype=np.float64)
            return pa.array(x, mask=np.isnan(x))

        bed = lambda name: np.concatenate([from_route(name), r[name][dh]])  # noqa: E731
        fit = bed("fit_h")
        end = bed("bed_end_h")
        pathway = np.concatenate([np.where(has, r["pathway"][hh], -1), r["pathway"][dh]])
        person = np.concatenate([ae["person_id"], r["person_id"][dh]])
        band = np.concatenate([ae["age_band"], r["age_band"][dh]])
        frailty = np.concatenate([ae["frailty"], r["frailty"][dh]])
        site = np.concatenate([ae["site"], r["site"][dh]])
        admitted = np.concatenate([ae["admitted"], ~r["lost"][dh]])  # a cancelled elective was not
        delayed = np.where((pathway > 0) & np.isfinite(fit) & np.isfinite(end), end - fit, np.nan)
        return pa.table(
            {
                "person_id": pa.array(person, pa.int64()),
                "age_band": pa.array(np.array(AGE_BANDS)[band]),
                "frailty": pa.array(np.array(FRAILTY_LEVELS)[frailty]),
                "route": pa.array(route),
                "ae_arrival_h": nan_to_null(np.concatenate([ae["arrival_h"], np.full(dh.size, np.nan)])),
                "ae_departure_h": nan_to_null(np.concatenate([ae["departure_h"], np.full(dh.size, np.nan)])),
                "admitted": pa.array(admitted),
                "bed_request_h": nan_to_null(bed("request_h")),
                "bed_start_h": nan_to_null(bed("bed_start_h")),
                "medically_fit_h": nan_to_null(fit),
                "pathway": pathway_of(pathway, np.ones(pathway.size, bool)),
                "bed_end_h": nan_to_null(end),
                "delayed_hours": nan_to_null(delayed),
                "site": pa.array(site_names[np.clip(site, 0, None)], mask=site < 0),
                "died_in_hospital": pa.array(
                    np.concatenate([np.where(has, r["dies"][hh], False), r["dies"][dh]])
                ),
            }
        ).slice(0, n_ae + dh.size)

    def tables(self, record_episodes: bool = False) -> dict[str, pa.Table]:
        m = self.model
        cfg = m.config
        daily = self.daily()
        kpis = self.kpis(daily)
        n = len(daily["day"])
        dates = np.array([np.datetime64(m.dates.date(d)) for d in range(n)], dtype="datetime64[D]")
        daily_table = pa.table(
            {
                "scenario": pa.array([cfg.name] * n),
                "replication": pa.array(np.full(n, m.replication, dtype=np.int32)),
                "date": pa.array(dates),
                "warmup": pa.array(daily["day"] < cfg.run.warmup_days),
                **{k: pa.array(v) for k, v in daily.items()},
            }
        )
        kpi_table = pa.table(
            {
                "scenario": pa.array([cfg.name]),
                "replication": pa.array([m.replication], pa.int32()),
                **{k: pa.array([v], pa.float64()) for k, v in kpis.items()},
            }
        )
        out = {"daily": daily_table, "kpis": kpi_table}
        if record_episodes:
            out["episodes"] = self.episodes()
        return out
