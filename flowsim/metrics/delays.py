"""Delayed transfers of care: acute beds held by medically fit patients, by day.

A delay runs from medically fit to leaving the acute bed (or the end of the run), in two
parts, each recorded as the national DTOC collection would: the time from fit to the
onward request is "completion of assessment", charged to whoever assesses for the
service awaited; the rest is the wait for the service itself, with its reason (further
non-acute NHS care, a care package, a residential or nursing home) and the organisation
that provides or funds it. Both follow from the kind of service each patient waits for
(`pathways.delay_reasons`, drawn per patient when the bed is requested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowsim.config.schema import FlowsimConfig
from flowsim.metrics.logs import RunLogs
from flowsim.metrics.per_day import interval_hours_by_day
from flowsim.vocabulary import DTOC_REASONS, DTOC_RESPONSIBILITY, PATHWAYS

ASSESSMENT = "completion_of_assessment"
# The first onward service of each pathway (P1 is a restart at home or reablement).
SERVICE_OF_PATHWAY = {"P1": ("home", "reablement"), "P2": ("community_beds",), "P3": ("care_home",)}


@dataclass(frozen=True)
class Delays:
    """One row per delayed acute stay: the pathway awaited; the assessment [fit, onward)
    and the wait for the service [onward, end), in hours; who answers for the assessment,
    and the reason and responsible organisation of the wait for the service."""

    pathway: np.ndarray  # object: P1, P2, P3
    fit: np.ndarray
    onward: np.ndarray
    end: np.ndarray
    assessed_by: np.ndarray  # object: nhs, social_care, both
    reason: np.ndarray  # object: a DTOC reason
    responsible: np.ndarray  # object: nhs, social_care, both


def delay_categories(config: FlowsimConfig) -> list[tuple[str, str, str]]:
    """Every (pathway, reason, responsible organisation) a delay can be recorded under,
    in a fixed order: the rows of the delays table on each day."""
    seen: list[tuple[str, str, str]] = []
    reasons: dict[str, list] = {str(k): v for k, v in config.pathways.delay_reasons.items()}
    for pathway, services in SERVICE_OF_PATHWAY.items():
        for service in services:
            for kind in reasons[service]:
                for row in ((pathway, ASSESSMENT, kind.assessment), (pathway, kind.reason, kind.responsible)):
                    if service == "home" and row[1] == ASSESSMENT:
                        continue  # a restart of an existing package has no assessment
                    if row not in seen:
                        seen.append(row)
    order: dict[str, int] = {r: i for i, r in enumerate(DTOC_REASONS)}
    who: dict[str, int] = {r: i for i, r in enumerate(DTOC_RESPONSIBILITY)}
    return sorted(seen, key=lambda r: (r[0], order[r[1]], who[r[2]]))


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
    pathway = np.array(PATHWAYS, dtype=object)[r["pathway"]]
    service = np.select(
        [restart, r["pathway"] == 1, r["pathway"] == 2, r["pathway"] == 3],
        ["home", "reablement", "community_beds", "care_home"],
        default="",
    )
    n = pathway.size
    assessed_by = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    responsible = np.full(n, "", dtype=object)
    kind = np.maximum(r["service_kind"], 0)
    for name, kinds in logs.config.pathways.delay_reasons.items():
        sel = delayed & (service == name)
        k = np.minimum(kind[sel], len(kinds) - 1)
        assessed_by[sel] = np.array([x.assessment for x in kinds], dtype=object)[k]
        reason[sel] = np.array([x.reason for x in kinds], dtype=object)[k]
        responsible[sel] = np.array([x.responsible for x in kinds], dtype=object)[k]
    return Delays(
        pathway[delayed],
        r["fit_h"][delayed],
        onward[delayed],
        end[delayed],
        assessed_by[delayed],
        reason[delayed],
        responsible[delayed],
    )


def _beds(d: Delays, sel: np.ndarray, part: str, days: int) -> np.ndarray:
    """Mean delayed beds each day of the rows `sel`, for the assessment or the service part."""
    start, stop = (d.fit, d.onward) if part == "assessment" else (d.onward, d.end)
    return interval_hours_by_day(start[sel], stop[sel], days) / 24.0


def delayed_beds_by_pathway(logs: RunLogs, d: Delays | None = None) -> dict[str, np.ndarray]:
    """Mean delayed acute beds each day, by the pathway awaited (P1, P2, P3)."""
    d = delays(logs) if d is None else d
    return {
        p: interval_hours_by_day(d.fit[d.pathway == p], d.end[d.pathway == p], logs.days) / 24.0
        for p in PATHWAYS[1:]
    }


def delayed_beds_by_responsible(logs: RunLogs, d: Delays | None = None) -> dict[str, np.ndarray]:
    """Mean delayed acute beds each day, by responsible organisation (nhs, social_care, both)."""
    d = delays(logs) if d is None else d
    return {
        org: _beds(d, d.assessed_by == org, "assessment", logs.days)
        + _beds(d, d.responsible == org, "service", logs.days)
        for org in DTOC_RESPONSIBILITY
    }


def delayed_beds_by_reason(logs: RunLogs, d: Delays | None = None) -> dict[str, np.ndarray]:
    """Mean delayed acute beds each day, by the DTOC reason recorded (every reason, zero
    for those the model does not represent)."""
    d = delays(logs) if d is None else d
    out: dict[str, np.ndarray] = {
        reason: _beds(d, d.reason == reason, "service", logs.days) for reason in DTOC_REASONS
    }
    out[ASSESSMENT] = out[ASSESSMENT] + _beds(d, np.ones(d.fit.size, dtype=bool), "assessment", logs.days)
    return out


def delay_rows(logs: RunLogs, d: Delays | None = None) -> dict[str, np.ndarray]:
    """The delays table's columns: one row per day and (pathway, reason, responsible organisation)."""
    d = delays(logs) if d is None else d
    days = logs.days
    categories = delay_categories(logs.config)
    beds = []
    for pathway, reason, org in categories:
        on = d.pathway == pathway
        value = np.zeros(days)
        if reason == ASSESSMENT:
            value = value + _beds(d, on & (d.assessed_by == org), "assessment", days)
        value = value + _beds(d, on & (d.reason == reason) & (d.responsible == org), "service", days)
        beds.append(value)
    n = len(categories)
    column = lambda i: np.tile(np.array([c[i] for c in categories], dtype=object), days)  # noqa: E731
    return {
        "date": np.repeat(logs.dates(), n),
        "pathway": column(0),
        "reason": column(1),
        "responsible_organisation": column(2),
        "beds": np.stack(beds, axis=1).ravel() if n else np.zeros(0),
    }
