"""Measures of exit block: waits for a bed after the decision to admit, and what the
hospital does to find beds (outlying, escalation), as pure functions of arrays.

Inputs are the columns the run records: the A&E log (decision and departure hours, who was
admitted), the ledger's route columns (bed hours, the pool of the patient's own ward group
and of the bed granted) and the core's per-day, per-pool integrals. Times are hours since
the run's start; day d is [24 d, 24 (d + 1)).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flowsim.metrics.per_day import count_by_day, interval_hours_by_day

DTA_4H, DTA_12H = 4.0, 12.0


def dta_wait_hours(decision_h: np.ndarray, departure_h: np.ndarray, admitted: np.ndarray, end_h: float):
    """Hours from the decision to admit to leaving A&E for a bed, for admitted patients;
    someone still waiting at the end of the run has waited until then. NaN if not admitted."""
    left = np.where(np.isnan(departure_h), end_h, departure_h)
    return np.where(np.asarray(admitted, dtype=bool), left - decision_h, np.nan)


def dta_waits_over(
    decision_h: np.ndarray,
    departure_h: np.ndarray,
    admitted: np.ndarray,
    end_h: float,
    hours: float,
    days: int,
) -> np.ndarray:
    """Admitted patients whose wait from the decision to admit exceeded `hours`, by the
    day of the decision (as in the national trolley-wait counts, by when it began)."""
    wait = dta_wait_hours(decision_h, departure_h, admitted, end_h)
    return count_by_day(np.asarray(decision_h)[wait > hours], days)


def outlier_bed_days(
    bed_start_h: np.ndarray,
    bed_end_h: np.ndarray,
    ward_pool: np.ndarray,
    bed_pool: np.ndarray,
    escalation_pools: Sequence[int],
    days: int,
) -> np.ndarray:
    """Bed-days, by day, of patients in a bed of another ward group than their own (an
    escalation bed is not an outlying one: it is counted as escalation)."""
    out = (ward_pool >= 0) & (bed_pool >= 0) & (bed_pool != ward_pool) & ~np.isin(bed_pool, escalation_pools)
    end = bed_end_h[out]
    return (
        interval_hours_by_day(bed_start_h[out], np.where(np.isnan(end), np.inf, end), days) / 24.0
    )  # NaN: still in bed


def escalation_bed_days(occupied_hours: np.ndarray, escalation_pools: Sequence[int]) -> np.ndarray:
    """Bed-days used in escalation beds, by day, from the core's occupied hours [day, pool]."""
    if len(escalation_pools) == 0:
        return np.zeros(occupied_hours.shape[0])
    return occupied_hours[:, list(escalation_pools)].sum(axis=1) / 24.0


def sites_with_a_full_group(
    queued_hours: np.ndarray,
    group_pools: Sequence[Sequence[int]],
    outlier_request_h: np.ndarray,
    outlier_ward_pool: np.ndarray,
) -> np.ndarray:
    """Sites, by day, at which some ward group had no free bed when a patient needed one.

    A group was full on a day if someone waited in its queue that day (the core's queued
    hours [day, pool]) or one of its patients was placed in another group's bed.
    """
    days = queued_hours.shape[0]
    full = queued_hours > 0.0
    t = np.asarray(outlier_request_h, dtype=np.float64)
    ok = np.isfinite(t) & (t >= 0.0) & (t < days * 24.0)
    full[(t[ok] // 24.0).astype(np.int64), np.asarray(outlier_ward_pool)[ok]] = True
    return (
        np.array([full[:, list(pools)].any(axis=1) for pools in group_pools], dtype=np.float64)
        .reshape(len(group_pools), days)
        .sum(axis=0)
    )
