"""Beds and places by day and pool: available, in use, queued for, held by delayed people.

The core integrates each pool's counts over time; a day's figure is the difference of
the integrals at the midnights around it. Occupancy is place-hours in use over
place-hours available, so a capacity cut (which evicts no one) can take it above 1: the
places in use above capacity are reported as what they are, `overfull`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowsim.metrics.logs import RunLogs
from flowsim.metrics.registry import POOL_NAMES


@dataclass(frozen=True)
class PoolDays:
    """Hours of each pool in each day, [days, pools], and the overfull census."""

    capacity_hours: np.ndarray
    occupied_hours: np.ndarray
    queued_hours: np.ndarray
    delayed_hours: np.ndarray
    overfull: np.ndarray  # int64: in use above capacity at the midnight starting the day
    requested: np.ndarray  # int64: requests for a place made in the day


def pool_days(logs: RunLogs) -> PoolDays:
    per_day = {k: np.diff(v, axis=0) for k, v in logs.pool_hours.items()}
    # The state at the midnight starting each day, after that midnight's capacity change.
    state = {k: np.asarray(v)[:-1] for k, v in logs.pool_state.items()}
    overfull = np.maximum(state["occupied"] - state["capacity"], 0).astype(np.int64)
    return PoolDays(
        capacity_hours=per_day["capacity_hours"],
        occupied_hours=per_day["occupied_hours"],
        queued_hours=per_day["queued_hours"],
        delayed_hours=per_day["delayed_hours"],
        overfull=overfull,
        requested=np.diff(np.asarray(logs.pool_state["requested"]), axis=0),
    )


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is not positive."""
    return np.where(denominator > 0, numerator / np.maximum(denominator, 1e-9), np.nan)


def occupancy_rows(logs: RunLogs, pools: PoolDays | None = None) -> dict[str, np.ndarray]:
    """The occupancy table's columns: one row per day and pool (acute: one per site).

    The pseudo-pool `home` (restarts of support that only take time) has no capacity and
    is left out.
    """
    pools = pool_days(logs) if pools is None else pools
    p = logs.pools
    n_acute = p.n_acute
    shown = list(range(n_acute)) + [p.names.index(name) for name in POOL_NAMES]
    days = logs.days
    cap, occ = pools.capacity_hours[:, shown], pools.occupied_hours[:, shown]
    pool = np.array(["acute"] * n_acute + list(POOL_NAMES), dtype=object)
    at_site = (*p.groups, "escalation")[: p.per_site]
    site = np.array([s for s in p.sites for _ in range(p.per_site)] + [None] * len(POOL_NAMES), dtype=object)
    ward = np.array([g for _ in p.sites for g in at_site] + [None] * len(POOL_NAMES), dtype=object)
    return {
        "date": np.repeat(logs.dates(), len(shown)),
        "pool": np.tile(pool, days),
        "site": np.tile(site, days),
        "ward_group": np.tile(ward, days),
        "capacity": (cap / 24.0).ravel(),
        "occupied": (occ / 24.0).ravel(),
        "occupancy": ratio(occ, cap).ravel(),
        "waiting": (pools.queued_hours[:, shown] / 24.0).ravel(),
        "delayed": (pools.delayed_hours[:, shown] / 24.0).ravel(),
        "overfull": pools.overfull[:, shown].ravel(),
    }
