"""Delayed transfers of care: acute beds held by medically fit patients, by day.

A delay runs from medically fit to leaving the acute bed (or the end of the run). It is
split by the pathway awaited, and by who is responsible, as in the national DTOC
collection: the time from fit to the onward request (the assessment) is charged to
`pathways.dtoc_responsibility.assessment`, the rest to the pathway's entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowsim.metrics.logs import RunLogs
from flowsim.metrics.per_day import interval_hours_by_day
from flowsim.vocabulary import DTOC_RESPONSIBILITY, PATHWAYS


@dataclass(frozen=True)
class Delays:
    """Per pathway awaited (P1-P3): the assessment and onward parts of the delay, as
    intervals [fit, onward) and [onward, end) in hours."""

    fit: dict[str, np.ndarray]
    onward: dict[str, np.ndarray]
    end: dict[str, np.ndarray]


def delays(logs: RunLogs) -> Delays:
    r = logs.routes
    days = logs.days
    acute = r["site"] >= 0
    delayed = acute & np.isfinite(r["fit_h"]) & (r["pathway"] > 0)
    end = np.where(np.isnan(r["bed_end_h"]), days * 24.0, r["bed_end_h"])
    onward = np.minimum(np.where(np.isnan(r["onward_request_h"]), end, r["onward_request_h"]), end)
    # Waiting for a package to restart is not an assessment: all of it is the pathway's.
    restart = r["last_pool"] == logs.pools.index("home")
    onward = np.where(restart, r["fit_h"], onward)
    out: Delays = Delays({}, {}, {})
    for p, name in enumerate(PATHWAYS[1:], start=1):
        sel = delayed & (r["pathway"] == p)
        out.fit[name], out.onward[name], out.end[name] = r["fit_h"][sel], onward[sel], end[sel]
    return out


def _responsibility(logs: RunLogs) -> dict[str, str]:
    """Who is responsible for each pathway's wait, and for the assessment."""
    return {str(k): str(v) for k, v in logs.config.pathways.dtoc_responsibility.items()}


def delayed_beds_by_pathway(logs: RunLogs, d: Delays | None = None) -> dict[str, np.ndarray]:
    """Mean delayed acute beds each day, by the pathway awaited (P1, P2, P3)."""
    d = delays(logs) if d is None else d
    return {p: interval_hours_by_day(d.fit[p], d.end[p], logs.days) / 24.0 for p in d.fit}


def delayed_beds_by_responsible(logs: RunLogs, d: Delays | None = None) -> dict[str, np.ndarray]:
    """Mean delayed acute beds each day, by responsible organisation (nhs, social_care, both)."""
    d = delays(logs) if d is None else d
    days = logs.days
    responsibility = _responsibility(logs)
    by_org: dict[str, np.ndarray] = {org: np.zeros(days) for org in DTOC_RESPONSIBILITY}
    fit = np.concatenate(list(d.fit.values()))
    onward = np.concatenate(list(d.onward.values()))
    # The assessment parts of all pathways in one sum, then the onward parts pathway by
    # pathway (interval_hours_by_day sorts its input, so the order of the rows is immaterial).
    by_org[responsibility["assessment"]] += interval_hours_by_day(fit, onward, days) / 24.0
    for p in d.fit:
        by_org[responsibility[p]] += interval_hours_by_day(d.onward[p], d.end[p], days) / 24.0
    return by_org


def delay_rows(logs: RunLogs, d: Delays | None = None) -> dict[str, np.ndarray]:
    """The delays table's columns: one row per day, pathway awaited and responsible organisation."""
    d = delays(logs) if d is None else d
    days = logs.days
    responsibility = _responsibility(logs)
    pathway, org, beds = [], [], []
    for p in d.fit:
        assessment = interval_hours_by_day(d.fit[p], d.onward[p], days) / 24.0
        placement = interval_hours_by_day(d.onward[p], d.end[p], days) / 24.0
        for o in DTOC_RESPONSIBILITY:
            pathway.append(p)
            org.append(o)
            value = np.zeros(days)
            if responsibility["assessment"] == o:
                value = value + assessment
            if responsibility[p] == o:
                value = value + placement
            beds.append(value)
    n = len(pathway)
    return {
        "date": np.repeat(logs.dates(), n),
        "pathway": np.tile(np.array(pathway, dtype=object), days),
        "responsible_organisation": np.tile(np.array(org, dtype=object), days),
        "beds": np.stack(beds, axis=1).ravel() if n else np.zeros(0),
    }
