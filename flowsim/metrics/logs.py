"""What a run recorded: the logs every results table is derived from.

`RunLogs` holds plain numpy columns and the config, nothing of the live model, so every
derivation in this package is a pure function of it and can be tested on hand-made logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from flowsim.config.schema import FlowsimConfig
from flowsim.pools import Pools

# The columns each log must hold (the services' logs may hold more).
ATTENDANCE_COLUMNS: dict[str, type] = {
    "person_id": np.int64,
    "age_band": np.int8,
    "frailty": np.int8,
    "arrival": np.int8,  # an Arrival: walk-in, ambulance, GP referral
    "site": np.int16,
    "arrival_h": np.float64,
    "decision_h": np.float64,  # NaN until decided
    "departure_h": np.float64,  # NaN while still in A&E
    "admitted": np.bool_,
    "avoided": np.bool_,  # an admission diverted to the virtual ward
    "handle": np.int64,  # the acute route of an admission (row of `routes`), else -1
    "travel_h": np.float64,  # extra ambulance journey after a site closed (in arrival_h)
    "handover_h": np.float64,  # an ambulance patient handed over to A&E; NaN otherwise or until then
}
ROUTE_COLUMNS: tuple[str, ...] = (
    "person_id",
    "origin",
    "age_band",
    "frailty",
    "pathway",
    "site",
    "dies",
    "deconditions",
    "service_kind",
    "lost",
    "last_pool",
    "ward_pool",
    "bed_pool",
    "request_h",
    "bed_start_h",
    "fit_h",
    "onward_request_h",
    "bed_end_h",
)
# Time integrals of each pool, from the core (Board.stats()).
POOL_HOURS = ("capacity_hours", "occupied_hours", "queued_hours", "delayed_hours")
# State of each pool at an instant, from the core (requested: requests made so far).
POOL_STATE = ("capacity", "occupied", "requested")
# Counts of people at the midnight ending each day, from the population.
CENSUS = ("population", "in_hospital", "care_home_residents", "home_care_clients")


@dataclass(frozen=True, eq=False)
class RunLogs:
    """Everything a run recorded, as numpy columns; `days` is the number of days run.

    - `attendances`: one row per A&E attendance (ATTENDANCE_COLUMNS).
    - `routes`: one row per route handed to the core, by handle (flowsim.ledger).
    - `pool_hours`: each of POOL_HOURS, cumulative at each midnight, shape [days + 1, pools]
      (row 0 at the start, after the warm start).
    - `pool_state`: each of POOL_STATE at each midnight, after that instant's events, [days + 1, pools].
    - `census`: each of CENSUS at the midnight ending each day, [days].
    - `gp_consultations`: people seen in general practice each day, [days].
    - `cancellations_h`, `care_home_entries_h`: times of electives cancelled on the day and
      of moves into a care home (not of the starting residents).
    - `conservation_failures`: one line per failed daily check of the population's books.
    """

    config: FlowsimConfig
    pools: Pools
    attendances: Mapping[str, np.ndarray]
    routes: Mapping[str, np.ndarray]
    pool_hours: Mapping[str, np.ndarray]
    pool_state: Mapping[str, np.ndarray]
    census: Mapping[str, np.ndarray]
    gp_consultations: np.ndarray
    cancellations_h: np.ndarray
    care_home_entries_h: np.ndarray
    conservation_failures: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _same_length("attendances", self.attendances, ATTENDANCE_COLUMNS)
        _same_length("routes", self.routes, ROUTE_COLUMNS)
        shape = (self.days + 1, len(self.pools.names))
        for group, names in (("pool_hours", POOL_HOURS), ("pool_state", POOL_STATE)):
            table = getattr(self, group)
            for name in names:
                if name not in table or np.shape(table[name]) != shape:
                    raise ValueError(f"RunLogs.{group}[{name!r}] must have shape {shape}")
        for name in CENSUS:
            if name not in self.census or np.shape(self.census[name]) != (self.days,):
                raise ValueError(f"RunLogs.census[{name!r}] must have one value a day ({self.days})")
        if np.shape(self.gp_consultations) != (self.days,):
            raise ValueError(f"RunLogs.gp_consultations must have one value a day ({self.days})")

    @property
    def days(self) -> int:
        """Days run, warm-up included."""
        return int(np.shape(self.pool_hours["capacity_hours"])[0]) - 1

    @property
    def warmup_days(self) -> int:
        return self.config.run.warmup_days

    def dates(self) -> np.ndarray:
        """The calendar date of each day run (datetime64[D])."""
        start = np.datetime64(self.config.run.start_date, "D")
        return start + np.arange(self.days)

    def date_of_hour(self, t_hours: np.ndarray) -> np.ndarray:
        """The calendar date of times in hours since the run's start (NaT where NaN)."""
        t = np.asarray(t_hours, dtype=np.float64)
        day = np.floor(np.where(np.isfinite(t), t, 0.0) / 24.0).astype(np.int64)
        dates = np.datetime64(self.config.run.start_date, "D") + day
        return np.where(np.isfinite(t), dates, np.datetime64("NaT"))


def _same_length(name: str, columns: Mapping[str, np.ndarray], required) -> None:
    missing = [c for c in required if c not in columns]
    if missing:
        raise ValueError(f"RunLogs.{name} lacks column(s) {', '.join(missing)}")
    lengths = {len(columns[c]) for c in required}
    if len(lengths) > 1:
        raise ValueError(f"RunLogs.{name} has columns of different lengths {sorted(lengths)}")
