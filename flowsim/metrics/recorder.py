"""The recorder: the one place that reads the live model, at each midnight and at the end.

During the run only the core's accumulators, the population's counts and the day's GP
consultations are taken at midnight (and the population's books checked); everything
else is read from the services' logs once, at the end, into a `RunLogs`.
"""

from __future__ import annotations

import numpy as np

from flowsim.arrays import unique_ids
from flowsim.clock import CoreClock
from flowsim.config.schema import FlowsimConfig
from flowsim.ledger import Ledger
from flowsim.metrics.logs import ATTENDANCE_COLUMNS, CENSUS, POOL_HOURS, POOL_STATE, RunLogs
from flowsim.pools import Pools
from flowsim.population import Population
from flowsim.services.emergency import Emergency
from flowsim.services.hospital import Hospital
from flowsim.services.primary_care import PrimaryCare
from flowsim.services.social_care import SocialCare
from flowsim.vocabulary import Residence


class Recorder:
    """Reads the infrastructure and the services' logs; never changes them."""

    def __init__(
        self,
        config: FlowsimConfig,
        *,
        pools: Pools,
        clock: CoreClock,
        population: Population,
        ledger: Ledger,
        primary_care: PrimaryCare,
        emergency: Emergency,
        hospital: Hospital,
        social_care: SocialCare,
    ):
        self.config, self.pools, self.clock, self.population, self.ledger = (
            config,
            pools,
            clock,
            population,
            ledger,
        )
        self.primary_care, self.emergency, self.hospital, self.social_care = (
            primary_care,
            emergency,
            hospital,
            social_care,
        )
        self.snapshots: list[dict[str, np.ndarray]] = []
        self.census_rows: list[tuple[int, int, int, int]] = []
        self.gp_consultations: list[int] = []
        # Kept up by the model, for the check that deaths balance newcomers.
        self.population_deaths = 0
        self.hospital_and_care_deaths = 0
        self.conservation_failures: list[str] = []

    def _snapshot(self) -> dict[str, np.ndarray]:
        stats = self.clock.board.stats()
        out: dict[str, np.ndarray] = {k: np.asarray(stats[k], dtype=np.float64).copy() for k in POOL_HOURS}
        out.update({k: np.asarray(stats[k], dtype=np.int64).copy() for k in POOL_STATE})
        return out

    def start(self) -> None:
        """Take the state at the start of the run (after the warm start)."""
        self.snapshots = [self._snapshot()]

    def record(self, day: int) -> None:
        """Take the figures of the midnight ending `day`."""
        pop = self.population
        self.snapshots.append(self._snapshot())
        self.gp_consultations.append(self.primary_care.consultations_today)
        in_hospital = int(np.count_nonzero(pop.in_hospital))
        self.census_rows.append(
            (
                pop.size,
                in_hospital,
                int(np.count_nonzero(pop.residence == Residence.CARE_HOME)),
                int(np.count_nonzero(pop.residence == Residence.HOME_CARE)),
            )
        )
        # Conservation: everyone is counted once, and everyone flagged as in hospital is on
        # an open acute route (requested, not cancelled, not yet left the acute bed).
        r = self.ledger.routes.view()
        open_acute = (r["site"] >= 0) & np.isnan(r["bed_end_h"]) & ~r["lost"]
        open_people = unique_ids(r["person"][open_acute])
        if open_people.size != in_hospital or not pop.in_hospital[open_people].all():
            self.conservation_failures.append(
                f"day {day}: {in_hospital} people flagged in hospital, {open_people.size} on open acute routes"
            )
        if (
            pop.person_id.size != pop.size
            or pop.next_person_id - pop.size != self.population_deaths + self.hospital_and_care_deaths
        ):
            self.conservation_failures.append(f"day {day}: deaths and newcomers do not balance")

    def logs(self) -> RunLogs:
        """Everything recorded so far, copied out of the model."""
        days = len(self.snapshots) - 1
        census = np.array(self.census_rows, dtype=np.int64).reshape(days, len(CENSUS))
        ae = self.emergency.log.view()
        return RunLogs(
            config=self.config,
            pools=self.pools,
            attendances={k: ae[k].copy() for k in ATTENDANCE_COLUMNS},
            routes={k: v.copy() for k, v in self.ledger.routes.view().items()},
            pool_hours={k: np.stack([s[k] for s in self.snapshots]) for k in POOL_HOURS},
            pool_state={k: np.stack([s[k] for s in self.snapshots]) for k in POOL_STATE},
            census={name: census[:, i] for i, name in enumerate(CENSUS)},
            gp_consultations=np.asarray(self.gp_consultations, dtype=np.int64),
            cancellations_h=np.asarray(self.hospital.cancellations_h, dtype=np.float64),
            care_home_entries_h=np.asarray(self.social_care.care_home_entries_h, dtype=np.float64),
            conservation_failures=tuple(self.conservation_failures),
        )
