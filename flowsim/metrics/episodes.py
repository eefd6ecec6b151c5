"""The episodes table: one row per A&E attendance, GP direct admission or elective admission."""

from __future__ import annotations

import numpy as np

from flowsim.metrics.logs import RunLogs
from flowsim.vocabulary import AGE_BANDS, ARRIVAL_NAMES, FRAILTY_LEVELS, PATHWAYS, Origin


def episode_rows(logs: RunLogs) -> dict[str, np.ndarray]:
    """The episodes table's columns; times in hours since the run's start, NaN where a stage
    did not happen (null in the table), text columns None where they do not apply."""
    ae, r = logs.attendances, logs.routes
    handle = ae["handle"]
    has = handle >= 0
    hh = np.where(has, handle, 0)

    def from_route(name: str) -> np.ndarray:
        return np.where(has, r[name][hh].astype(np.float64), np.nan)

    # Direct and elective admissions have no A&E row: they come from the routes alone.
    dh = np.flatnonzero((r["site"] >= 0) & np.isin(r["origin"], (Origin.DIRECT_ADMISSION, Origin.ELECTIVE)))
    no_ae = np.full(dh.size, np.nan)

    def bed(name: str) -> np.ndarray:
        return np.concatenate([from_route(name), r[name][dh]])

    fit, end = bed("fit_h"), bed("bed_end_h")
    pathway = np.concatenate([np.where(has, r["pathway"][hh], -1), r["pathway"][dh]])
    site = np.concatenate([ae["site"], r["site"][dh]])
    arrival = np.concatenate([ae["arrival_h"], no_ae])
    request = bed("request_h")
    start_h = np.where(np.isfinite(arrival), arrival, request)
    pathway_names = np.array([*PATHWAYS, None], dtype=object)
    site_names = np.array([*logs.pools.sites, None], dtype=object)
    route = np.concatenate(
        [
            np.array((*ARRIVAL_NAMES, "elective", "direct"))[ae["arrival"]],
            np.where(r["origin"][dh] == Origin.ELECTIVE, "elective", "direct"),
        ]
    )
    return {
        "person_id": np.concatenate([ae["person_id"], r["person_id"][dh]]).astype(np.int64),
        "date": logs.date_of_hour(start_h),
        "warmup": start_h < logs.warmup_days * 24.0,
        "age_band": np.array(AGE_BANDS)[np.concatenate([ae["age_band"], r["age_band"][dh]])],
        "frailty": np.array(FRAILTY_LEVELS)[np.concatenate([ae["frailty"], r["frailty"][dh]])],
        "route": route,
        "ae_arrival_h": arrival,
        "ae_departure_h": np.concatenate([ae["departure_h"], no_ae]),
        "admitted": np.concatenate([ae["admitted"], ~r["lost"][dh]]),  # a cancelled elective was not
        "bed_request_h": request,
        "bed_start_h": bed("bed_start_h"),
        "medically_fit_h": fit,
        "pathway": pathway_names[np.where(pathway >= 0, pathway, len(PATHWAYS))],
        "bed_end_h": end,
        "delayed_hours": np.where((pathway > 0) & np.isfinite(fit) & np.isfinite(end), end - fit, np.nan),
        "site": site_names[np.where(site >= 0, site, len(logs.pools.sites))],
        "died_in_hospital": np.concatenate([np.where(has, r["dies"][hh], False), r["dies"][dh]]),
    }
