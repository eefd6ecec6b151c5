"""Events and intervals, in hours since the run's start, summed into days."""

from __future__ import annotations

import numpy as np


def count_by_day(t_hours: np.ndarray, days: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Events per day (or the sum of their `weights`), each on the day of its time.

    Times outside [0, days x 24) or NaN are left out. Returns float64, one value a day.
    """
    t = np.asarray(t_hours, dtype=np.float64)
    ok = np.isfinite(t) & (t >= 0) & (t < days * 24.0)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[ok]
    return np.bincount((t[ok] // 24).astype(np.int64), weights=w, minlength=days)[:days].astype(np.float64)


def interval_hours_by_day(start: np.ndarray, end: np.ndarray, days: int) -> np.ndarray:
    """Hours that intervals [start, end) spend in each day: a time-weighted count per day.

    Intervals with a NaN start, or that end at or before they start, count nothing.
    """
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    ok = np.isfinite(start) & (end > start)
    start, end = start[ok], end[ok]
    edges = np.arange(days + 1) * 24.0
    if start.size == 0:
        return np.zeros(days)
    s, e = np.sort(start), np.sort(end)

    # Accrued hours by edge T = sum(clip(T - start, 0)) - sum(clip(T - end, 0)).
    def accrued(points: np.ndarray, T: np.ndarray) -> np.ndarray:
        k = np.searchsorted(points, T, side="right")
        prefix = np.concatenate([[0.0], np.cumsum(points)])
        return k * T - prefix[k]

    total = accrued(s, edges) - accrued(e, edges)
    return np.diff(total)


def count_at_midnights(start: np.ndarray, end: np.ndarray, days: int, min_age_h: float = 0.0) -> np.ndarray:
    """People inside [start + min_age_h, end) at the midnight ending each day.

    A NaN end means the interval is still open at the end of the run.
    """
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    end = np.where(np.isfinite(end), end, np.inf)
    ok = np.isfinite(start) & (end > start + min_age_h)
    s = np.sort(start[ok] + min_age_h)
    e = np.sort(end[ok])
    T = (np.arange(days) + 1) * 24.0
    return (np.searchsorted(s, T, side="right") - np.searchsorted(e, T, side="right")).astype(np.float64)
