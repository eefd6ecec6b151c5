"""A&E: arrivals through the day, handover, triage, assessment by a finite clinical rota,
and boarding.

An ambulance patient is handed over only into a free majors cubicle and holds it until
leaving A&E, so a department full of boarders keeps crews waiting outside (exit block
reaching the ambulance service). Every patient is triaged (a time, not a queue), waits for
a clinician (the rota changes by hour), is assessed, then treated and observed; then
leaves, or is diverted to a virtual ward / rapid response if a slot is free, or is
admitted: they board in A&E until the core grants a bed and the transfer to the ward is
done. The 4-hour clock runs from arrival to leaving A&E; the 12-hour trolley wait from the
decision to admit. The queues themselves run in the department's compiled calendar
(flowsim/_core/department.pyx); Python is called only at a decision to admit, and a
boarder waits for their bed on the core's clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from flowsim._core import Department
from flowsim.agents import Patient
from flowsim.arrays import stable_argsort
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
        cubicles = cfg.majors_cubicles
        cohort_after = cfg.handover_cohort_after_minutes
        self.department = Department(
            [[max(1, round(c * share)) for c in cfg.clinicians_by_hour] for share in site_shares],
            None if cubicles is None else [max(1, round(cubicles * share)) for share in site_shares],
            math.inf if cohort_after is None else cohort_after / 60.0,
        )
        clock.env.attach(self.department, self._decided)
        # Of each attendance decided for admission, until the decision: (person, the
        # day's routes, its route, avoidable by a virtual ward, virtual ward stay hours).
        self._to_decide: dict[int, tuple] = {}
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
        order = stable_argsort(arrival_h)
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
        # Routes and virtual-ward draws only for those to be admitted: every draw in them is
        # keyed by person and episode, so they are what these people would have among everyone's.
        a = np.flatnonzero(admit)
        avoidable = self.virtual_ward.avoidable(
            pid[a], episode[a], band[a], arrival_h[a] // 24.0, from_ae=True
        )
        vw_h = self.virtual_ward.stay_hours(pid[a], episode[a])
        expected_decision = arrival_h[a] + triage_h[a] + assess_h[a] + treat_h[a]
        routes = self.routes.acute_routes(
            pid[a],
            episode[a],
            band[a],
            frailty[a],
            residence[a],
            site[a],
            expected_decision,
            np.zeros(a.size, bool),
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
            handover_h=np.full(people.size, np.nan),  # an ambulance's, written by the department
        )
        self.department.bind(self.log.handover_h, self.log.decision_h, self.log.departure_h)
        ambulance = arrival == Arrival.AMBULANCE
        # At equal times an ambulance's handover is taken before anyone's request for a
        # clinician (the department takes events at equal times in the order given).
        handing_over = ambulance & (cfg.majors_cubicles is not None)
        first_event = np.where(handing_over, arrival_h, arrival_h + triage_h)
        order = np.lexsort((~handing_over, first_event))
        self.department.attend(
            rows[order],
            site[order],
            ambulance[order],
            arrival_h[order],
            triage_h[order],
            assess_h[order],
            treat_h[order],
            admit[order],
        )
        to_decide = self._to_decide
        for j, (i, row) in enumerate(zip(a.tolist(), rows[a].tolist())):
            to_decide[row] = (int(people[i]), routes, j, bool(avoidable[j]), float(vw_h[j]))

    def _decided(self, row: int) -> None:
        """A decision to admit, at its time: a virtual ward slot if it may and one is free,
        else an acute bed, boarding in A&E until the bed is ready."""
        person, routes, i, avoidable, vw_h = self._to_decide.pop(row)
        log = self.log
        if avoidable and self.virtual_ward.take(person, vw_h, row):
            log.avoided[row] = True
            self.department.leave(row, self.env.now)
            return
        handle = self.admit(person, routes, i, Origin.AE_ADMISSION, priority=0, ae_row=row)
        log.admitted[row] = True
        log.handle[row] = handle
        patient = self.new_patient(person, row)
        self.clock.wait_for_bed(handle).callbacks.append(lambda _event: self._boarded(patient))

    def _boarded(self, patient: Patient) -> None:
        """The boarder's bed is ready: they leave A&E for the ward."""
        self.department.leave(patient.ae_row, self.env.now)
        patient.remove()

    def merge_site(self, closing: int, receivers: list[tuple[int, float]]) -> None:
        """A consolidation: the closing site's A&E rota and cubicles join the receiving
        sites' in proportion to their shares (the patients already in its A&E are still seen)."""
        department = self.department
        rota, cubicles = list(department.rota[closing]), department.cubicles[closing]
        for site, share in receivers:
            department.reinforce(
                site, [round(c * share) for c in rota], round(cubicles * share), self.env.now
            )

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
