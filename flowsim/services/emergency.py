"""A&E: arrivals through the day, handover, triage, assessment by a finite clinical rota,
and boarding.

An ambulance patient is handed over only into a free majors cubicle and holds it until
leaving A&E, so a department full of boarders keeps crews waiting outside (exit block
reaching the ambulance service). Every patient is triaged (a time, not a queue), waits for
a clinician (the rota changes by hour), is assessed, then treated and observed; then
leaves, or is diverted to a virtual ward / rapid response if a slot is free, or is
admitted: they board in A&E until the core grants a bed and the transfer to the ward is
done. The 4-hour clock runs from arrival to leaving A&E; the 12-hour trolley wait from the
decision to admit. A patient costs a SimPy process only when they must wait or board.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Sequence

import numpy as np
import simpy

from flowsim.agents import Patient
from flowsim.catchment import Catchment
from flowsim.clock import CoreClock
from flowsim.config.schema import CareHomeSupport, EmergencyConfig
from flowsim.dates import Dates
from flowsim.draw_slots import EpisodeDraw
from flowsim.ledger import Ledger
from flowsim.population import Population
from flowsim.rng import KeyedUniforms, lognormal_from_normal
from flowsim.services.pathways import RouteBuilder
from flowsim.services.virtual_ward import VirtualWard
from flowsim.tables import Columns
from flowsim.vocabulary import AGE_BANDS, Arrival, Origin, Residence
from flowsim.winter import WinterWave

# Requests an acute bed for route i of a day's routes: (person, routes, i, origin, priority, ae_row) -> handle.
AdmitAction = Callable[..., int]


class Clinicians:
    """A&E clinicians on an hourly rota, seeing patients first come, first served.

    At a change of shift a clinician going off duty finishes the patient in hand first.
    Lighter than a SimPy resource: a patient who finds a clinician free costs no event, and
    work whose end is known when it starts (`release_at`) is counted off when the pool is
    next looked at, so it costs no event either unless somebody is waiting for it to end.
    Majors cubicles are the same thing with a rota that never changes.
    """

    def __init__(self, env: simpy.Environment, by_hour: list[int]):
        self.env = env
        self.by_hour = by_hour
        self.busy = 0
        self.waiting: deque[simpy.Event] = deque()
        self._ends: list[float] = []  # a heap: when work in hand ends, not yet counted off
        self._wake_at = math.inf  # the wake-up set for the queue, if any
        env.process(self._shifts())

    def on_duty(self) -> int:
        return self.by_hour[int(self.env.now % 24)]

    def request(self) -> simpy.Event | None:
        """None if a clinician takes the patient now; otherwise an event for their turn."""
        self._count_off()
        if not self.waiting and self.busy < self.on_duty():
            self.busy += 1
            return None
        turn = self.env.event()
        self.waiting.append(turn)
        self._arm()
        return turn

    def release(self) -> None:
        """Work in hand ends now."""
        self.busy -= 1
        self._call_next()

    def release_at(self, t: float) -> None:
        """Work in hand ends at `t` (not before now)."""
        heapq.heappush(self._ends, t)
        if self.waiting:
            self._arm()

    def reinforce(self, extra_by_hour: list[int]) -> None:
        """More clinicians on duty each hour from now (staff moved from a closed site)."""
        self.by_hour = [a + b for a, b in zip(self.by_hour, extra_by_hour, strict=True)]
        self._call_next()

    def _count_off(self) -> None:
        """Work that has ended by now no longer keeps anyone busy."""
        ends, now = self._ends, self.env.now
        while ends and ends[0] <= now:
            heapq.heappop(ends)
            self.busy -= 1

    def _call_next(self) -> None:
        self._count_off()
        on_duty = self.on_duty()
        while self.waiting and self.busy < on_duty:
            self.busy += 1
            self.waiting.popleft().succeed()
        if self.waiting:
            self._arm()

    def _arm(self) -> None:
        """With somebody waiting, wake at the next end of work: the queue may move then."""
        if self._ends and self._ends[0] < self._wake_at:
            self._wake_at = self._ends[0]
            self.env.timeout(self._wake_at - self.env.now).callbacks.append(self._on_wake)

    def _on_wake(self, _event: simpy.Event) -> None:
        if self.env.now != self._wake_at:
            return  # superseded by an earlier wake-up, which has moved the queue since
        self._wake_at = math.inf
        self._call_next()

    def _shifts(self):
        while True:
            yield self.env.timeout(1.0 - self.env.now % 1.0)
            self._call_next()


class _Day:
    """The day's attendances, as plain lists (a numpy scalar per element costs more than
    the arithmetic; the values are the same float64s), and the cubicle each one holds."""

    def __init__(self, people, rows, site, triage_h, assess_h, treat_h, admit, avoidable, vw_h, routes):
        self.people = people
        self.rows = rows
        self.site = site.tolist()
        self.triage_h = triage_h.tolist()
        self.assess_h = assess_h.tolist()
        self.treat_h = treat_h.tolist()
        self.admit = admit.tolist()
        self.avoidable = avoidable.tolist()
        self.vw_h = vw_h.tolist()
        self.routes = routes
        self.cubicle: list[Clinicians | None] = [None] * people.size


class Emergency:
    """A&E at each acute site: today's attendances, their journeys and the attendance log."""

    def __init__(
        self,
        cfg: EmergencyConfig,
        site_shares: list[float],
        *,
        clock: CoreClock,
        dates: Dates,
        population: Population,
        catchment: Catchment,
        routes: RouteBuilder,
        keyed: KeyedUniforms,
        ledger: Ledger,
        virtual_ward: VirtualWard,
        admit: AdmitAction,
        new_patient: Callable[[int, int], Patient],
        wave: WinterWave | None = None,
        care_home_support: Sequence[CareHomeSupport] = (),
    ):
        self.cfg = cfg
        self.wave = wave
        self.clock = clock
        self.env = clock.env
        self.dates = dates
        self.population = population
        self.catchment = catchment
        self.routes = routes
        self.keyed = keyed
        self.ledger = ledger
        self.virtual_ward = virtual_ward
        self.care_home_support = list(care_home_support)
        self.admit = admit
        self.new_patient = new_patient
        self.clinicians = [
            Clinicians(clock.env, [max(1, round(c * share)) for c in cfg.clinicians_by_hour])
            for share in site_shares
        ]
        cubicles = cfg.majors_cubicles
        self.cubicles: list[Clinicians] | None = (
            None
            if cubicles is None
            else [Clinicians(clock.env, [max(1, round(cubicles * share))] * 24) for share in site_shares]
        )
        self.admit_p = np.array([cfg.admit_probability[b] for b in AGE_BANDS])
        self.admit_month = np.asarray(cfg.admit_month_factor) / np.mean(cfg.admit_month_factor)
        self._first_open = 0  # attendances before this row have all left A&E
        self.log = Columns(
            person=np.int64,
            person_id=np.int64,
            age_band=np.int8,
            frailty=np.int8,
            arrival=np.int8,  # an Arrival
            site=np.int16,
            arrival_h=np.float64,
            travel_h=np.float64,  # extra ambulance journey after a site closed (in arrival_h)
            decision_h=np.float64,
            departure_h=np.float64,
            admitted=np.bool_,
            avoided=np.bool_,
            handle=np.int64,  # the route handle of the admission, or -1
            handover_h=np.float64,  # an ambulance patient handed over; NaN otherwise or until then
        )

    def attend(self, people: np.ndarray, arrival: np.ndarray, arrival_h: np.ndarray) -> None:
        """Start today's A&E journeys, in order of arrival."""
        pop = self.population
        if people.size == 0:
            return
        pop.in_ae[people] = True
        # An ambulance from a practice whose site has closed drives further (0 otherwise).
        travel_h = np.where(arrival == Arrival.AMBULANCE, self.catchment.travel_hours(people), 0.0)
        arrival_h = arrival_h + travel_h
        order = np.argsort(arrival_h, kind="stable")
        people, arrival, arrival_h, travel_h = (
            people[order],
            arrival[order],
            arrival_h[order],
            travel_h[order],
        )
        pid, episode = pop.person_id[people], pop.episodes[people]
        band, frailty, residence = pop.age_band[people], pop.frailty[people], pop.residence[people]
        site = self.catchment.site_of(people)
        k = self.keyed
        cfg = self.cfg
        assess_h = lognormal_from_normal(
            k.normal(pid, episode, EpisodeDraw.AE_ASSESSMENT),
            cfg.assessment_hours.mean,
            cfg.assessment_hours.cv,
        )
        treat_h = lognormal_from_normal(
            k.normal(pid, episode, EpisodeDraw.AE_TREATMENT), cfg.treatment_hours.mean, cfg.treatment_hours.cv
        )
        triage_h = (
            np.zeros(people.size)
            if cfg.triage_minutes is None
            else lognormal_from_normal(
                k.normal(pid, episode, EpisodeDraw.AE_TRIAGE), cfg.triage_minutes.mean, cfg.triage_minutes.cv
            )
            / 60.0
        )
        month = self.dates.month_index(arrival_h)
        p = self.admit_p[band] * np.asarray(cfg.admit_frailty_multiplier)[frailty]
        p = p * np.where(arrival == Arrival.WALK_IN, 1.0, cfg.admit_ambulance_multiplier)
        p = p * self.admit_month[month]
        if self.wave is not None and self.wave.admission_rise > 0.0:  # sicker in winter
            p = p * self.wave.for_people(self.wave.admission_rise, band, arrival_h)
        p = np.minimum(p, cfg.admit_probability_cap)
        for lever in self.care_home_support:  # fewer residents admitted, from the lever's start
            resident = residence == Residence.CARE_HOME
            p = np.where(resident, p * (1.0 + lever.admission_change * lever.effect(arrival_h // 24.0)), p)
        p = np.minimum(p, 1.0)
        admit = k.uniform(pid, episode, EpisodeDraw.AE_ADMIT) < p
        avoidable = admit & self.virtual_ward.avoidable(pid, episode, band, arrival_h // 24.0, from_ae=True)
        vw_h = self.virtual_ward.stay_hours(pid, episode)
        expected_decision = arrival_h + triage_h + assess_h + treat_h
        routes = self.routes.acute_routes(
            pid, episode, band, frailty, residence, site, expected_decision, np.zeros(people.size, bool)
        )
        rows = self.log.extend(
            person=people,
            person_id=pid,
            age_band=band,
            frailty=frailty,
            arrival=arrival,
            site=site,
            arrival_h=arrival_h,
            travel_h=travel_h,
            decision_h=np.full(people.size, np.nan),
            departure_h=np.full(people.size, np.nan),
            admitted=np.zeros(people.size, bool),
            avoided=np.zeros(people.size, bool),
            handle=np.full(people.size, -1),
            # With no cubicle limit an ambulance patient is handed over on arrival.
            handover_h=np.where((arrival == Arrival.AMBULANCE) & (self.cubicles is None), arrival_h, np.nan),
        )
        day = _Day(people, rows, site, triage_h, assess_h, treat_h, admit, avoidable, vw_h, routes)
        self.env.process(self._arrivals(day, arrival_h, arrival == Arrival.AMBULANCE))

    def _arrivals(self, day: _Day, arrival_h: np.ndarray, ambulance: np.ndarray):
        """The day's arrivals in time order: an ambulance's handover at arrival, everyone's
        request for a clinician after triage. One wake-up per distinct time."""
        env = self.env
        n = day.people.size
        handovers = np.flatnonzero(ambulance) if self.cubicles is not None else np.empty(0, np.int64)
        times = np.concatenate([arrival_h[handovers], arrival_h + day.triage_h])
        who = np.concatenate([handovers, np.arange(n)])
        is_handover = np.concatenate([np.ones(handovers.size, bool), np.zeros(n, bool)])
        order = np.lexsort((~is_handover, times))  # a handover before a request at the same time
        waiting_outside = np.zeros(n, bool)  # their journey goes on in its own process
        for t, i, handover in zip(times[order].tolist(), who[order].tolist(), is_handover[order].tolist()):
            wait = t - env.now
            if wait > 0:
                yield env.timeout(wait)
            if handover:
                cubicles = self.cubicles[day.site[i]]  # type: ignore[index]
                turn = cubicles.request()
                if turn is None:
                    self.log.handover_h[day.rows[i]] = t
                    day.cubicle[i] = cubicles
                else:
                    waiting_outside[i] = True
                    env.process(self._handover(day, i, cubicles, turn))
            elif not waiting_outside[i]:
                self._see(day, i)

    def _handover(self, day: _Day, i: int, cubicles: Clinicians, turn: simpy.Event):
        """An ambulance crew waits with its patient until a cubicle frees, or until the
        department takes the patient into a corridor (cohorting) to release the crew; then
        triage. A cohorted patient holds no cubicle."""
        limit = self.cfg.handover_cohort_after_minutes
        if limit is None:
            yield turn
        else:
            yield turn | self.env.timeout(limit / 60.0)
        if turn.triggered:
            day.cubicle[i] = cubicles
        else:
            cubicles.waiting.remove(turn)
        self.log.handover_h[day.rows[i]] = self.env.now
        yield self.env.timeout(day.triage_h[i])
        self._see(day, i)

    def _see(self, day: _Day, i: int) -> None:
        """Ask for a clinician: someone seen at once and sent home costs one event (two if
        they hold a cubicle), no process and no agent."""
        env = self.env
        log = self.log
        row = day.rows[i]
        clinicians = self.clinicians[day.site[i]]
        turn = clinicians.request()
        cubicle = day.cubicle[i]
        if turn is None and not day.admit[i]:
            clinicians.release_at(env.now + day.assess_h[i])
            log.decision_h[row] = log.departure_h[row] = env.now + day.assess_h[i] + day.treat_h[i]
            if cubicle is not None:
                cubicle.release_at(env.now + (day.assess_h[i] + day.treat_h[i]))
            return
        patient = self.new_patient(int(day.people[i]), int(row))
        env.process(self._journey(patient, clinicians, turn, cubicle, day, i))

    def _journey(self, patient, clinicians, turn, cubicle, day: _Day, i: int):
        env = self.env
        clock = self.clock
        log = self.log
        assess_h, treat_h, admit = day.assess_h[i], day.treat_h[i], day.admit[i]
        if turn is not None:
            yield turn
        yield env.timeout(assess_h)
        clinicians.release()
        row = patient.ae_row
        if not admit:
            # Treated and sent home: nothing later depends on them but their cubicle.
            log.decision_h[row] = log.departure_h[row] = env.now + treat_h
            if cubicle is not None:
                cubicle.release_at(env.now + treat_h)
            patient.remove()
            return
        yield env.timeout(treat_h)
        log.decision_h[row] = env.now
        if admit and day.avoidable[i] and self.virtual_ward.take(patient.person, day.vw_h[i], row):
            log.avoided[row] = True
            admit = False
        if admit:
            handle = self.admit(patient.person, day.routes, i, Origin.AE_ADMISSION, priority=0, ae_row=row)
            log.admitted[row] = True
            log.handle[row] = handle
            yield clock.wait_for_bed(handle)
        log.departure_h[row] = env.now
        if cubicle is not None:
            cubicle.release()
        patient.remove()

    def merge_site(self, closing: int, receivers: list[tuple[int, float]]) -> None:
        """A consolidation: the closing site's A&E rota joins the receiving sites' in
        proportion to their shares (the patients already in its A&E are still seen)."""
        rota = self.clinicians[closing].by_hour
        for site, share in receivers:
            self.clinicians[site].reinforce([round(c * share) for c in rota])
        if self.cubicles is not None:  # and its cubicles
            cubicles = self.cubicles[closing].by_hour
            for site, share in receivers:
                self.cubicles[site].reinforce([round(c * share) for c in cubicles])

    def left_by(self, t_hours: float) -> None:
        """Let people who have left A&E by now start new episodes of care."""
        log = self.log
        rows = np.arange(self._first_open, log.n)
        if rows.size == 0:
            return
        gone = log.departure_h[rows] <= t_hours
        in_ae = self.population.in_ae
        in_ae[log.person[rows[gone]]] = False
        in_ae[log.person[rows[~gone]]] = True  # an earlier visit ended, a later one has not
        still = np.flatnonzero(~gone)
        self._first_open = int(rows[still[0]]) if still.size else log.n
