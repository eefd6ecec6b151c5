"""The whole-system model: the population, the services and one clock, a day at a time.

`WholeSystemModel.step()` runs one day: the population ages and changes, today's needs
are drawn, A&E journeys, GP referrals, electives and community placements are set going,
then SimPy and the core run to midnight and the day's events update people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import mesa
import numpy as np
import simpy

from flowsim._core import Board
from flowsim.clock import CoreClock
from flowsim.config.schema import FlowsimConfig
from flowsim.demand import GP, Demand
from flowsim.episodes import DIRECT_ADMISSION, RESIDENT, OpenRoutes, route_registry
from flowsim.metrics import DailyRecorder
from flowsim.pools import Pools
from flowsim.population import Population
from flowsim.rng import Streams
from flowsim.services.community import Community
from flowsim.services.emergency import AMBULANCE, Emergency
from flowsim.services.hospital import Hospital
from flowsim.services.pathways import RouteBuilder
from flowsim.services.primary_care import PrimaryCare
from flowsim.services.social_care import SocialCare


class WholeSystemModel(mesa.Model):
    def __init__(self, config: FlowsimConfig, replication: int = 0):
        streams = Streams(config.run.seed, replication)
        super().__init__(rng=streams.generator("mesa"))
        self.config = config
        self.replication = replication
        self.streams = streams
        self.keyed = streams.keyed("episode")
        self.keyed_daily = streams.keyed("daily")  # draws keyed by (person, day)
        self.population = Population(config.population, streams.generator("population"))
        self.pools = Pools.from_config(config)
        self.board = Board(np.asarray(self.pools.capacities, dtype=np.int64))
        for t, pool, capacity in self.pools.capacity_schedule(config):
            self.board.schedule_capacity(t, pool, capacity)
        self.env = simpy.Environment()
        self.clock = CoreClock(self.env, self.board)
        self.routes = route_registry()
        self.open_routes = OpenRoutes()
        self.routes_builder = RouteBuilder(config, self.pools, self.keyed)
        shares = np.cumsum([s.catchment_share for s in config.acute.sites])
        practices = config.population.practices
        self.practice_site = (
            np.searchsorted(shares / shares[-1], (np.arange(practices) + 0.5) / practices)
            .clip(0, self.pools.n_sites - 1)
            .astype(np.int32)
        )
        self._month_of_day = self._month_index_table()
        self.demand = Demand(config, self.population)
        self.primary_care = PrimaryCare(self)
        self.emergency = Emergency(self)
        self.hospital = Hospital(self)
        self.community = Community(self)
        self.social_care = SocialCare(self)
        self.deaths: list[np.ndarray] = []
        self.recorder = DailyRecorder(self)
        self.day = 0

        rng = streams.generator("warm-start")
        self.social_care.prefill(rng)
        self.community.prefill(rng)
        candidates = self.population.sample_by_rate(rng, self.demand.base[AMBULANCE], days=365.0 * 0.25)
        candidates = candidates[np.sort(np.unique(candidates, return_index=True)[1])]
        self.hospital.prefill(rng, candidates[~self.population.is_busy(candidates)])
        self._settle()
        self.recorder.start()

    # -- calendar -------------------------------------------------------------------------
    def date(self, day: int) -> dt.date:
        return self.config.run.start_date + dt.timedelta(days=day)

    def weekday(self, day: int) -> int:
        return self.date(day).weekday()

    def _month_index_table(self) -> np.ndarray:
        days = self.config.total_days + 2
        return np.array([self.date(d).month - 1 for d in range(days)], dtype=np.int8)

    def month_index(self, t_hours: np.ndarray) -> np.ndarray:
        return self._month_of_day[(np.asarray(t_hours) // 24).astype(np.int64)]

    # -- people ---------------------------------------------------------------------------
    def site_of(self, people: np.ndarray) -> np.ndarray:
        return self.practice_site[self.population.practice[people]]

    def pick_people(self, rng: np.random.Generator, n: int, *, min_band: int, residence: int) -> np.ndarray:
        """n people of at least an age band, living as given, not in hospital."""
        pop = self.population
        eligible = lambda i: (pop.age_band[i] >= min_band) & (pop.residence[i] == residence) & ~pop.is_busy(i)  # noqa: E731
        n_eligible = int(np.count_nonzero(pop.age_band >= min_band))
        people = pop.pick(rng, eligible, n, max(n_eligible, 1))
        pop.episodes[people] += 1
        return people

    def start_routes(self, people, pool_name: str, stay_h, *, kind: int = RESIDENT, at_h=None) -> None:
        """One-leg routes into a pool (a place in a care home, a package, a community bed)."""
        pool = self.pools.index(pool_name)
        if at_h is None:
            for person, stay in zip(people.tolist(), stay_h.tolist()):
                self._start_route(person, pool, stay, kind)
        else:
            self.clock.at_times(
                at_h, lambda i: self._start_route(int(people[i]), pool, float(stay_h[i]), kind)
            )

    def _start_route(self, person: int, pool: int, stay_h: float, kind: int) -> None:
        handle = self.clock.admit([pool], [0], [stay_h], [0.0], [0.0])
        self.hospital.register(handle, person, kind)

    # -- the day --------------------------------------------------------------------------
    def step(self) -> None:
        day = self.day
        pop = self.population
        rng = self.streams.generator("population", day)
        pop.age_and_frailty(rng)
        dead = pop.deaths(rng)
        self._bury(dead, rng)
        self.recorder.population_deaths += dead.size

        rng = self.streams.generator("demand", day)
        people, kind = self.demand.draw(
            day, pop, rng, self.config.population.demand.recent_discharge_multiplier, self.keyed_daily
        )
        pop.episodes[people] += 1
        gp_people = people[kind == GP]
        ae_people = people[kind != GP]
        ae_route = kind[kind != GP]  # walk-in or ambulance, in A&E's route codes
        ae_hours = self.demand.arrival_hours(day, pop.person_id[ae_people], self.keyed_daily)
        gp = self.primary_care.day(day, gp_people, self.keyed_daily)
        ref_people, ref_route, ref_hours, direct, direct_hours = gp
        # Someone already on their way to A&E today is not also referred there.
        fresh = ~np.isin(ref_people, ae_people)
        ae_people = np.concatenate([ae_people, ref_people[fresh]])
        ae_route = np.concatenate([ae_route, ref_route[fresh]])
        ae_hours = np.concatenate([ae_hours, ref_hours[fresh]])
        direct_ok = ~np.isin(direct, ae_people)
        self.emergency.attend(ae_people, ae_route, ae_hours)
        self.hospital.admit_batch(
            direct[direct_ok], direct_hours[direct_ok], elective=False, kind=DIRECT_ADMISSION
        )
        self.hospital.electives(
            day, self.streams.generator("electives", day), busy=np.concatenate([ae_people, direct])
        )
        self.social_care.community_entries(day, self.streams.generator("social-care", day))

        self.env.run(until=(day + 1) * 24.0)
        self._settle()
        self.recorder.record(day)
        self.day += 1

    def _settle(self) -> None:
        """Bring the core to SimPy's now and apply what it did to people."""
        self.clock.pump()
        self.hospital.on_events(self.clock.take_events())
        self.emergency.left_by(self.env.now)
        if self.deaths:
            dead = np.unique(np.concatenate(self.deaths))
            self.deaths = []
            self.recorder.hospital_and_care_deaths += dead.size
            self._bury(dead, self.streams.generator("newcomers", self.day))

    def end_routes(self, person: int, keep: int = -1) -> None:
        """End the places a person still holds (a package, a community bed), but `keep`."""
        routes = self.routes
        for handle in self.open_routes.take(person, keep):
            if routes.site[handle] >= 0 and np.isnan(routes.bed_end_h[handle]) and not routes.lost[handle]:
                self.open_routes.add(person, handle)  # a hospital stay under way is never cut short
                continue
            self.board.end(self.env.now, handle)
            routes.ended_early[handle] = True

    def _bury(self, dead: np.ndarray, rng: np.random.Generator) -> None:
        """Free whatever the dead held, then give their slots to newcomers."""
        for person in dead.tolist():
            self.end_routes(person)
        self.population.replace(dead, rng)

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        total = self.config.total_days
        while self.day < total:
            self.step()
            if progress is not None:
                progress(self.day, total)


def simulate(config: FlowsimConfig, replication: int = 0, *, record_episodes: bool = False, progress=None):
    """Run one replication of a config and return its tables (see flowsim.results)."""
    from flowsim.results import RunOutput

    model = WholeSystemModel(config, replication)
    model.run(progress)
    tables = model.recorder.tables(record_episodes=record_episodes or config.outputs.episodes)
    scenario = config.name
    meta = {
        "seed": config.run.seed,
        "spawn_key": list(model.streams.spawn_key),
        "replication": replication,
        "scenario": scenario,
    }
    return RunOutput(tables=tables, meta=meta)


__all__ = ["WholeSystemModel", "simulate"]
