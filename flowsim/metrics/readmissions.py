"""Emergency readmissions: a discharge followed by an emergency admission of the same person."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from flowsim.vocabulary import Origin


def emergency_admissions(routes: Mapping[str, np.ndarray]) -> np.ndarray:
    """Rows of A&E and GP direct admissions that reached an acute bed."""
    return (
        (routes["site"] >= 0)
        & np.isin(routes["origin"], (Origin.AE_ADMISSION, Origin.DIRECT_ADMISSION))
        & np.isfinite(routes["bed_start_h"])
    )


def live_discharges(routes: Mapping[str, np.ndarray]) -> np.ndarray:
    """Rows of patients who left an acute bed alive (not those in bed when the run began)."""
    return (
        (routes["site"] >= 0)
        & np.isfinite(routes["bed_end_h"])
        & ~routes["dies"]
        & (routes["origin"] != Origin.RESIDENT)
    )


def readmitted(routes: Mapping[str, np.ndarray], discharges: np.ndarray, within_h: float) -> np.ndarray:
    """For each discharge row (a bool mask or row numbers), whether the same person's next
    emergency admission had its bed requested within `within_h` hours after leaving.

    An admission requested at the very moment of the discharge does not count as after it.
    """
    rows = np.flatnonzero(discharges) if np.asarray(discharges).dtype == bool else np.asarray(discharges)
    adm = np.flatnonzero(emergency_admissions(routes))
    pid = np.concatenate([routes["person_id"][adm], routes["person_id"][rows]])
    t = np.concatenate([routes["request_h"][adm], routes["bed_end_h"][rows]])
    is_discharge = np.concatenate([np.zeros(adm.size, bool), np.ones(rows.size, bool)])
    # By person, then time; at the same time the admission sorts first (not "after").
    order = np.lexsort((is_discharge, t, pid))
    pid, t, is_discharge = pid[order], t[order], is_discharge[order]
    # For each position, the next admission at or after it (in sorted order).
    n = order.size
    position = np.where(~is_discharge, np.arange(n), n)
    next_adm = np.minimum.accumulate(position[::-1])[::-1]
    j = np.minimum(next_adm, n - 1) if n else next_adm
    found = (next_adm < n) & (pid[j] == pid) & (t[j] - t <= within_h)
    out = np.empty(rows.size, dtype=bool)
    out[order[is_discharge] - adm.size] = found[is_discharge]
    return out
