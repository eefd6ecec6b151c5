"""The whole-system model: the shared infrastructure, the services, and the day loop.

`WholeSystemModel.__init__` builds the infrastructure every service shares (dates, the
population, the pools and the core behind one clock, the ledger of places, random draws)
and hands each service only the parts it needs. `step()` runs one day: the population ages
and changes, today's needs are drawn and sent where they go, SimPy and the core run to
midnight, and the core's events go back to the services that own them.
See docs/architecture.md for a newcomer's map.
"""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np

from flowsim._core import Board
from flowsim.agents import Patient
from flowsim.arrays import first_occurrences, unique_ids
from flowsim.catchment import Catchment
from flowsim.clock import CoreClock, DayEnvironment
from flowsim.config.schema import (
    AdmissionAvoidance,
    CareHomeSupport,
    Demography,
    FlowsimConfig,
    ProactiveCare,
)
from flowsim.consolidation import SiteClosures
from flowsim.dates import Dates
from flowsim.demand import Demand
from flowsim.ledger import Ledger
from flowsim.metrics.recorder import Recorder
from flowsim.pools import Pools
from flowsim.population import Population
from flowsim.rng import Streams
from flowsim.services.community import Community
from flowsim.services.emergency import Emergency
from flowsim.services.hospital import Hospital
from flowsim.services.pathways import RouteBuilder
from flowsim.services.primary_care import PrimaryCare
from flowsim.services.social_care import SocialCare
from flowsim.services.virtual_ward import VirtualWard
from flowsim.uncertainty import resolve, with_draws
from flowsim.vocabulary import AGE_BANDS, Arrival, Need, Origin
from flowsim.winter import WinterWave, outbreak_closures, with_closures


class WholeSystemModel(mesa.Model):
    def __init__(self, config: FlowsimConfig, replication: int = 0):
        # A plan's uncertain levers take this replication's values (none: the config as is).
        config, self.draws = resolve(config, replication)
        streams = Streams(config.run.seed, replication)
        super().__init__(rng=streams.generator("mesa"))
        self.config = config
        self.replication = replication
        self.streams = streams
        keyed = streams.keyed("episode")  # draws keyed by (person, episode)
        self.keyed_daily = streams.keyed("daily")  # draws keyed by (person, day)

        # Shared infrastructure.
        self.dates = Dates(config.run.start_date, config.total_days)
        self.population = pop = Population(config.population, streams.generator("population"))
        self.pools = pools = Pools.from_config(config)
        board = Board(np.asarray(pools.capacities, dtype=np.int64))
        wave = WinterWave(config.winter, self.dates, config.total_days)
        closed = outbreak_closures(config, pools, wave, streams.generator("outbreaks"))
        for t, pool, capacity in with_closures(pools.capacity_schedule(config), pools.capacities, closed):
            board.schedule_capacity(t, pool, capacity)
        for pool, into, factor, reserve, waived_after in pools.outlying_rules(config):
            board.allow_outlying(pool, into, factor, reserve, waived_after)
        self.env = DayEnvironment()
        self.clock = clock = CoreClock(self.env, board)
        self.ledger = ledger = Ledger(clock, pop)
        catchment = Catchment(
            [s.catchment_share for s in config.acute.sites], config.population.practices, pop
        )
        routes = RouteBuilder(config, pools, keyed, wave)
        self._deaths: list[np.ndarray] = []

        # Services, each with what it needs and no more.
        def levers_of(kind):
            return [c for c in config.interventions if isinstance(c, kind)]

        virtual_ward = VirtualWard(
            config.emergency,
            levers_of(AdmissionAvoidance),
            clock=clock,
            ledger=ledger,
            keyed=keyed,
            pool=pools.index("virtual_ward"),
        )
        self.demand = Demand(config, self.dates, pop, streams.generator("day-effect"), wave)
        self.primary_care = PrimaryCare(
            config.primary_care,
            self.dates,
            pop,
            config.population.practices,
            levers=levers_of(ProactiveCare | CareHomeSupport),
        )
        self.hospital = Hospital(
            config.acute,
            recent_discharge_days=config.population.demand.recent_discharge_days,
            clock=clock,
            dates=self.dates,
            population=pop,
            pools=pools,
            catchment=catchment,
            routes=routes,
            ledger=ledger,
            report_deaths=self._deaths.append,
            virtual_ward=virtual_ward,
        )
        self.emergency = Emergency(
            config.emergency,
            [s.catchment_share for s in config.acute.sites],
            clock=clock,
            dates=self.dates,
            population=pop,
            catchment=catchment,
            routes=routes,
            keyed=keyed,
            ledger=ledger,
            virtual_ward=virtual_ward,
            admit=self.hospital.admit,
            new_patient=lambda person, ae_row: Patient(self, person, ae_row),
            wave=wave,
            care_home_support=levers_of(CareHomeSupport),
        )
        self.community = Community(config.community, population=pop, pools=pools, ledger=ledger)
        self.social_care = SocialCare(
            config.social_care,
            population=pop,
            pools=pools,
            ledger=ledger,
            keyed=keyed,
            report_deaths=self._deaths.append,
        )
        self.closures = SiteClosures(
            config, pools=pools, clock=clock, catchment=catchment, emergency=self.emergency
        )
        self.demography = next((c for c in config.interventions if isinstance(c, Demography)), None)
        self.hospital.start_escalation()
        self.recorder = Recorder(
            config,
            pools=pools,
            clock=clock,
            population=pop,
            ledger=ledger,
            primary_care=self.primary_care,
            emergency=self.emergency,
            hospital=self.hospital,
            social_care=self.social_care,
        )
        self.day = 0
        self._warm_start(streams.generator("warm-start"))
        self.recorder.start()

    def _warm_start(self, rng: np.random.Generator) -> None:
        """Places and beds already occupied when the run begins."""
        self.social_care.prefill(rng)
        self.community.prefill(rng)
        pop = self.population
        lookback = self.config.acute.warm_start_candidate_days
        candidates = pop.sample_by_rate(rng, self.demand.base[Need.AMBULANCE], days=lookback)
        candidates = candidates[np.sort(first_occurrences(candidates))]
        self.hospital.prefill(rng, candidates[~pop.is_busy(candidates)])
        self._settle()

    def step(self) -> None:
        """One day of the whole system."""
        day, pop = self.day, self.population
        self.closures.start_of_day(day)
        rng = self.streams.generator("population", day)
        pop.age_and_frailty(rng)
        if self.demography is not None and day >= self.demography.start_day:
            growth = np.array([self.demography.growth_per_year[b] for b in AGE_BANDS], dtype=np.float64)
            pop.grow(self.streams.generator("demography", day), growth)
        dead = pop.deaths(rng)
        self._bury(dead, rng)
        self.recorder.population_deaths += dead.size

        rng = self.streams.generator("demand", day)
        people, need = self.demand.draw(
            day, pop, rng, self.config.population.demand.recent_discharge_multiplier, self.keyed_daily
        )
        pop.episodes[people] += 1
        to_ae = need != Need.GP
        ae_people = people[to_ae]
        ae_arrival = np.where(need[to_ae] == Need.AMBULANCE, Arrival.AMBULANCE, Arrival.WALK_IN).astype(
            np.int8
        )
        ae_hours = self.demand.arrival_hours(day, pop.person_id[ae_people], self.keyed_daily)
        gp = self.primary_care.day(day, people[~to_ae], self.keyed_daily)
        # Someone already on their way to A&E today is not also referred there.
        fresh = ~np.isin(gp.ae_people, ae_people)
        ae_people = np.concatenate([ae_people, gp.ae_people[fresh]])
        ae_arrival = np.concatenate([ae_arrival, gp.ae_arrival[fresh]])
        ae_hours = np.concatenate([ae_hours, gp.ae_hours[fresh]])
        direct_ok = ~np.isin(gp.direct, ae_people)
        self.emergency.attend(ae_people, ae_arrival, ae_hours)
        self.hospital.admit_batch(
            gp.direct[direct_ok], gp.direct_hours[direct_ok], elective=False, origin=Origin.DIRECT_ADMISSION
        )
        busy = np.concatenate([ae_people, gp.direct])
        self.hospital.electives(day, self.streams.generator("electives", day), busy=busy)
        self.social_care.community_entries(day, self.streams.generator("social-care", day))
        self.community.step_ups(day, self.streams.generator("step-up", day))

        self.env.run(until=(day + 1) * 24.0)
        self._settle()
        self.recorder.record(day)
        self.day += 1

    def _settle(self) -> None:
        """Bring the core to SimPy's now and hand its events to the services that own them."""
        self.clock.pump()
        events = self.clock.take_events()
        self.ledger.close(events)
        self.hospital.on_events(events)
        self.social_care.on_events(events)
        self.community.on_events(events)
        self.emergency.left_by(self.env.now)
        if self._deaths:
            dead = unique_ids(np.concatenate(self._deaths))
            self._deaths.clear()
            self.recorder.hospital_and_care_deaths += dead.size
            self._bury(dead, self.streams.generator("newcomers", self.day))

    def _bury(self, dead: np.ndarray, rng: np.random.Generator) -> None:
        """Free whatever the dead held, then give their slots to newcomers."""
        for person in dead.tolist():
            self.ledger.end_places(person)
        self.population.replace(dead, rng)

    def release(self) -> None:
        """Let a finished model be freed. Mesa 3.3 keeps every model whose agents it has
        numbered in a table on the Agent class (mesa issue 3179, fixed after 3.3.1), so a
        sweep worker running model after model would keep them all: 70 MB or more each."""
        for agent in list(self.agents):
            agent.remove()
        getattr(mesa.Agent, "_ids", {}).pop(self, None)

    def run(self, progress: Callable[[int, int], None] | None = None) -> None:
        total = self.config.total_days
        while self.day < total:
            self.step()
            if progress is not None:
                progress(self.day, total)


def simulate(config: FlowsimConfig, replication: int = 0, *, record_episodes: bool = False, progress=None):
    """Run one replication of a config and return its tables (see flowsim.results)."""
    from flowsim.metrics.tables import run_tables
    from flowsim.results import RunOutput

    model = WholeSystemModel(config, replication)
    model.run(progress)
    tables = run_tables(model.recorder.logs(), episodes=record_episodes or config.outputs.episodes)
    model.release()
    meta: dict[str, object] = {
        "seed": config.run.seed,
        "spawn_key": list(model.streams.spawn_key),
        "replication": replication,
        "scenario": config.name,
    }
    if model.draws:
        tables["kpis"] = with_draws(tables["kpis"], model.draws)
        meta["draws"] = dict(model.draws)
    return RunOutput(tables=tables, meta=meta)


__all__ = ["WholeSystemModel", "simulate"]
