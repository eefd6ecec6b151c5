"""Each service on its own, built from hand-made pieces rather than a whole model.

A service receives only the infrastructure it needs (see docs/architecture.md), so each is
tested here with a small population, the pure-Python core and a SimPy environment.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from flowsim._core import Department
from flowsim.catchment import Catchment
from flowsim.dates import Dates
from flowsim.demand import Demand
from flowsim.population import Population
from flowsim.rng import Streams
from flowsim.services.community import Community
from flowsim.services.emergency import Emergency
from flowsim.services.hospital import Hospital
from flowsim.services.pathways import RouteBuilder
from flowsim.services.primary_care import PrimaryCare
from flowsim.services.social_care import SocialCare
from flowsim.services.virtual_ward import VirtualWard
from flowsim.vocabulary import OLDER_BANDS, Arrival, CoreEvent, Need, Origin, Pathway, Residence

pytestmark = pytest.mark.unit
MONDAY = dt.date(2016, 4, 4)


def keyed():
    return Streams(11, 0).keyed("episode")


def daily_keyed():
    return Streams(11, 0).keyed("daily")


def settle(clock, ledger, *services):
    """What the model does at midnight: run the core to now and hand out its events."""
    clock.pump()
    events = clock.take_events()
    ledger.close(events)
    for service in services:
        service.on_events(events)


# -- general practice --------------------------------------------------------------------------
def primary_care(small_config, population, **changes):
    cfg = small_config.primary_care.model_copy(update=changes)
    return PrimaryCare(cfg, Dates(MONDAY, 30), population, small_config.population.practices)


def test_a_full_practice_defers_or_redirects_the_rest(small_config, population):
    gp = primary_care(small_config, population, overflow_deferred_share=1.0, overflow_to_ae_share=0.0)
    practice = 0
    wanting = np.flatnonzero(population.practice == practice)
    assert wanting.size > gp.capacity[practice]
    gp.day(0, wanting, daily_keyed())
    assert gp.consultations_today == gp.capacity[practice]
    assert gp.deferred.size == wanting.size - gp.capacity[practice]  # all overflow deferred
    # Next weekday the deferred come first: the practice sees them before anyone new.
    deferred = gp.deferred.copy()
    gp.day(1, np.empty(0, dtype=np.int64), daily_keyed())
    assert gp.consultations_today == min(deferred.size, gp.capacity[practice])


def test_at_weekends_everyone_is_seen_out_of_hours(small_config, population):
    gp = primary_care(small_config, population)
    wanting = np.flatnonzero(population.practice == 0)
    gp.day(5, wanting, daily_keyed())  # a Saturday
    assert gp.consultations_today == wanting.size and gp.deferred.size == 0


def test_referrals_arrive_in_ae_after_the_journey(small_config, population):
    gp = primary_care(small_config, population, referral_to_ae_share=1.0, direct_admission_share=0.0)
    people = np.arange(0, 10_000, 50)
    out = gp.day(0, people, daily_keyed())
    seen = gp.consultations_today
    assert out.ae_people.size >= seen and out.direct.size == 0
    referred = out.ae_arrival == Arrival.GP_REFERRAL
    assert referred.sum() == seen
    assert (out.ae_hours >= small_config.primary_care.travel_to_ae_hours).all() and (out.ae_hours < 26).all()


def test_people_already_busy_are_not_seen(small_config, population):
    gp = primary_care(small_config, population)
    people = np.arange(20)
    population.in_hospital[people] = True
    gp.day(0, people, daily_keyed())
    assert gp.consultations_today == 0


# -- demand ---------------------------------------------------------------------------------
def test_needs_are_one_per_person_and_never_for_someone_in_hospital(small_config, population):
    demand = Demand(small_config, Dates(MONDAY, 30), population)
    population.in_hospital[: population.size // 2] = True
    people, need = demand.draw(0, population, np.random.default_rng(1), 1.0, daily_keyed())
    assert people.size > 0 and np.unique(people).size == people.size
    assert not population.in_hospital[people].any()
    assert set(np.unique(need)) <= {Need.WALK_IN, Need.AMBULANCE, Need.GP}
    hours = demand.arrival_hours(3, population.person_id[people], daily_keyed())
    assert ((hours >= 72) & (hours < 96)).all()


def test_a_lever_that_removes_all_emergency_demand_leaves_only_gp_needs(small_config, population):
    lever = {"kind": "demand", "name": "none", "relative_change": -1.0, "start_day": 0}
    config = small_config.model_validate({**small_config.model_dump(), "interventions": [lever]})
    demand = Demand(config, Dates(MONDAY, 30), population)
    _, need = demand.draw(0, population, np.random.default_rng(1), 1.0, daily_keyed())
    assert need.size > 0 and (need == Need.GP).all()


def test_gp_demand_falls_at_weekends(small_config, population):
    demand = Demand(small_config, Dates(MONDAY, 30), population)
    weekday, saturday = demand.rates(0)[Need.GP].sum(), demand.rates(5)[Need.GP].sum()
    factor = small_config.primary_care.weekend_demand_factor
    assert saturday / weekday == pytest.approx(factor)


# -- the population --------------------------------------------------------------------------
def test_people_picked_for_a_place_are_old_enough_at_home_and_free(population):
    population.in_hospital[:5000] = True
    picked = population.pick_for_place(
        np.random.default_rng(2), 30, min_band=OLDER_BANDS, residence=Residence.HOME
    )
    assert picked.size == 30 and np.unique(picked).size == 30
    assert (population.age_band[picked] >= OLDER_BANDS).all()
    assert (population.residence[picked] == Residence.HOME).all() and not population.busy[picked].any()
    assert (population.episodes[picked] == 1).all()


def test_newcomers_take_the_slots_of_the_dead_with_new_ids(population):
    dead = np.array([3, 4, 5])
    population.residence[dead] = Residence.CARE_HOME
    population.replace(dead, np.random.default_rng(3))
    assert population.person_id[dead].tolist() == [10_000, 10_001, 10_002]
    assert (population.residence[dead] == Residence.HOME).all() and (population.episodes[dead] == 0).all()


def test_the_people_counted_per_cohort_follow_every_change(population):
    """The counts the daily draws use are kept up to date, not recounted: after ageing,
    frailty changes, deaths, newcomers, growth and a change listed twice, they still
    match a fresh count of everyone's cohort."""
    rng = np.random.default_rng(11)
    population.age_and_frailty(rng, days=200.0)
    population.replace(population.deaths(rng, days=200.0), rng)
    population.grow(rng, np.full(6, 0.5), days=30.0)
    moved = np.flatnonzero(population.residence == Residence.HOME)[:5]
    population.residence[moved] = Residence.HOME_CARE
    population.refresh(np.concatenate([moved, moved]))
    assert population.size > 10_000
    fresh = np.bincount(population.code, minlength=population.cohort_counts.size)
    assert (population.cohort_counts == fresh).all()


def test_only_people_at_home_and_not_in_hospital_die_in_the_community(population):
    population.in_hospital[:100] = True
    dead = population.deaths(np.random.default_rng(4), days=365.0)
    assert dead.size > 0
    assert (population.residence[dead] == Residence.HOME).all() and not population.busy[dead].any()


@pytest.mark.parametrize("recovery", [[0.0, 0.0, 0.0], [400.0, 400.0, 400.0]])
def test_frailty_improves_only_at_the_recovery_rates(small_config, recovery):
    """With no worsening, a year moves people down one level at a time at the recovery
    rates, and nobody when those are zero."""
    cfg = small_config.population.model_copy(
        update={
            "size": 10_000,
            "frailty_step_factor_by_level": [0.0, 0.0, 0.0],
            "frailty_recovery_per_1000_py": recovery,
        }
    )
    population = Population(cfg, np.random.default_rng(7))
    before = population.frailty.copy()
    population.age_and_frailty(np.random.default_rng(5), days=365.0)
    change = population.frailty.astype(int) - before
    assert set(np.unique(change)) <= {-1, 0}
    frail = before > 0
    improved = np.mean(change[frail] == -1)
    if recovery[0] == 0.0:
        assert improved == 0.0
    else:
        assert improved == pytest.approx(0.4, abs=0.05)  # 400 per 1,000 over a year, drawn once
        assert (before[change == -1] > 0).all()


# -- routes out of hospital ------------------------------------------------------------------
def routes_for(small_config, pools, n=2000, residence=Residence.HOME, elective=False, band=5, seed=0):
    rng = np.random.default_rng(seed)
    builder = RouteBuilder(small_config, pools, keyed())
    args = (
        np.arange(n),
        np.ones(n, np.int32),
        np.full(n, band, np.int8),
        rng.integers(0, 4, n).astype(np.int8),
        np.full(n, residence, np.int8),
        np.zeros(n, np.int32),
        np.full(n, 10.0),
        np.full(n, elective),
    )
    return builder, args


def test_route_legs_follow_the_pathway(small_config, pools):
    builder, args = routes_for(small_config, pools)
    r = builder.acute_routes(*args)
    p2 = r.pathway == Pathway.P2
    assert p2.any() and (r.pools[p2, 1] == pools.index("community_beds")).all()
    p3 = r.pathway == Pathway.P3
    assert p3.any() and (r.pools[p3, 1] == pools.index("care_home")).all()
    assert (r.n_legs[r.pathway == Pathway.P0] == 1).all()
    assert (r.pathway[r.dies] == Pathway.P0).all()
    # Where the person's other places end (core rule 9): the care-home leg, the end of a
    # stay that ends in death, or never.
    assert (r.ends_others[p3] == 1).all()
    assert r.dies.any() and (r.ends_others[r.dies] == 1).all()
    to_care_home = (r.pools == pools.index("care_home")).any(axis=1)
    assert (r.ends_others[~to_care_home & ~r.dies] == -1).all()


def test_care_home_residents_go_back_to_their_home_and_never_die_on_the_route(small_config, pools):
    builder, args = routes_for(small_config, pools, residence=Residence.CARE_HOME)
    r = builder.acute_routes(*args)
    assert (r.pathway == Pathway.P0).all() and not r.dies.any()


def test_elective_routes_have_no_same_day_emergency_stays_and_go_home(small_config, pools):
    builder, args = routes_for(small_config, pools, elective=True)
    r = builder.acute_routes(*args)
    assert set(np.unique(r.pathway)) <= {Pathway.P0, Pathway.P1} and not r.dies.any()


def test_a_persons_route_does_not_depend_on_who_else_is_admitted(small_config, pools):
    """Draws are keyed by person and episode: shuffling the batch shuffles the routes."""
    builder, args = routes_for(small_config, pools, n=300)
    whole = builder.acute_routes(*args)
    order = np.random.default_rng(5).permutation(300)[:120]
    part = builder.acute_routes(*(a[order] for a in args))
    assert np.array_equal(part.stays, whole.stays[order]) and np.array_equal(
        part.pathway, whole.pathway[order]
    )


# -- the acute hospital and social care -------------------------------------------------------
@pytest.fixture
def hospital_parts(small_config, population, pools, clock, ledger):
    deaths: list[np.ndarray] = []
    catchment = Catchment([s.catchment_share for s in small_config.acute.sites], 15, population.practice)
    routes = RouteBuilder(small_config, pools, keyed())
    hospital = Hospital(
        small_config.acute,
        recent_discharge_days=30.0,
        clock=clock,
        dates=Dates(MONDAY, 400),
        population=population,
        pools=pools,
        catchment=catchment,
        routes=routes,
        ledger=ledger,
        report_deaths=deaths.append,
    )
    return hospital, deaths, catchment, routes


def test_an_admission_is_recorded_from_bed_to_discharge(hospital_parts, population, clock, ledger):
    hospital, _, _, _ = hospital_parts
    people = np.array([10, 11, 12])
    population.episodes[people] += 1
    hospital.admit_batch(people, np.array([1.0, 2.0, 3.0]), elective=False, origin=Origin.DIRECT_ADMISSION)
    clock.env.run(until=24.0)
    assert population.in_hospital[people].all()
    clock.env.run(until=24.0 * 200)
    settle(clock, ledger, hospital)
    r = ledger.routes.view()
    assert (r["origin"] == Origin.DIRECT_ADMISSION).all()
    assert np.isfinite(r["bed_start_h"]).all() and (r["bed_end_h"] > r["bed_start_h"]).all()
    assert not population.in_hospital[people].any()
    alive = people[~r["dies"]]
    assert (population.recent_until_h[alive] > 24.0 * 30).all()


def test_an_elective_with_no_bed_is_cancelled_and_goes_home(hospital_parts, population, clock, ledger, pools):
    hospital, _, _, _ = hospital_parts
    for pool in range(pools.n_acute):  # every ward group of every site
        clock.board.schedule_capacity(0.0, pool, 0)
    hospital.electives(0, np.random.default_rng(6), busy=np.empty(0, dtype=np.int64))
    clock.env.run(until=24.0)
    settle(clock, ledger, hospital)
    n = ledger.routes.n
    assert n > 0 and len(hospital.cancellations_h) == n
    assert ledger.routes.view()["lost"].all() and not population.in_hospital.any()


def social_care(small_config, population, pools, ledger, deaths: list[np.ndarray]) -> SocialCare:
    return SocialCare(
        small_config.social_care,
        population=population,
        pools=pools,
        ledger=ledger,
        keyed=keyed(),
        report_deaths=deaths.append,
    )


def test_a_care_home_place_changes_where_someone_lives_and_ends_their_package(
    small_config, population, pools, clock, ledger
):
    deaths: list[np.ndarray] = []
    social = social_care(small_config, population, pools, ledger, deaths)
    person = int(np.flatnonzero(population.residence == Residence.HOME)[0])
    ledger.start_places(np.array([person]), pools.index("home_care"), np.array([1e5]))
    clock.env.run(until=1.0)
    settle(clock, ledger, social)
    assert population.residence[person] == Residence.HOME_CARE
    ledger.start_places(
        np.array([person]), pools.index("care_home"), np.array([48.0]), origin=Origin.CARE_HOME_ENTRY
    )
    clock.env.run(until=2.0)
    settle(clock, ledger, social)
    assert population.residence[person] == Residence.CARE_HOME
    assert ledger.routes.ended_early[0] and social.care_home_entries_h == [1.0]
    clock.env.run(until=100.0)  # the end of a care-home place is a death
    settle(clock, ledger, social)
    assert person in np.concatenate(deaths)


def test_moving_into_a_care_home_ends_the_package_at_that_moment_not_at_midnight(
    small_config, population, pools, clock, ledger
):
    """The package of someone who moves into a care home at 05:30 ends at 05:30, although
    the model sees the core's events only at midnight."""
    social = social_care(small_config, population, pools, ledger, [])
    person = int(np.flatnonzero(population.residence == Residence.HOME)[0])
    ledger.start_places(np.array([person]), pools.index("home_care"), np.array([1e5]))
    ledger.start_places(
        np.array([person]),
        pools.index("care_home"),
        np.array([1e4]),
        origin=Origin.CARE_HOME_ENTRY,
        at_h=np.array([5.5]),
        ends_others=True,
    )
    clock.env.run(until=24.0)
    clock.pump()
    events = clock.take_events()
    ledger.close(events)
    social.on_events(events)
    package_ends = events["time"][(events["route"] == 0) & (events["kind"] == CoreEvent.DEPARTED)]
    assert package_ends.tolist() == [5.5]
    assert ledger.routes.view()["ended_early"].tolist() == [True, False]
    assert population.residence[person] == Residence.CARE_HOME


def test_a_death_in_hospital_ends_the_persons_other_places_at_that_moment(
    hospital_parts, population, pools, clock, ledger
):
    """Someone who dies at the end of an acute stay gives up a place held (here a
    reablement slot taken up before the admission) at the moment of death; a survivor's is kept."""
    hospital, deaths, catchment, routes = hospital_parts
    people = np.flatnonzero((population.residence == Residence.HOME) & (population.age_band >= OLDER_BANDS))
    people = people[:400]
    population.episodes[people] += 1
    r = routes.acute_routes(
        population.person_id[people],
        population.episodes[people],
        population.age_band[people],
        population.frailty[people],
        population.residence[people],
        catchment.site_of(people),
        np.full(people.size, 2.0),
        np.zeros(people.size, dtype=bool),
    )
    dying = int(np.flatnonzero(r.dies)[0])
    living = int(np.flatnonzero(~r.dies & (r.n_legs == 1))[0])
    chosen = np.array([people[dying], people[living]])
    ledger.start_places(chosen, pools.index("reablement"), np.array([1e5, 1e5]))
    clock.env.run(until=2.0)
    for i in (dying, living):
        hospital.admit(int(people[i]), r, i, Origin.DIRECT_ADMISSION, priority=0)
    clock.env.run(until=24.0 * 60)
    clock.pump()
    events = clock.take_events()
    ledger.close(events)
    hospital.on_events(events)
    death_h = ledger.routes.bed_end_h[2]
    slot_end = events["time"][(events["route"] == 0) & (events["kind"] == CoreEvent.DEPARTED)]
    assert slot_end.tolist() == [death_h] and death_h % 24.0 != 0.0
    assert ledger.routes.view()["ended_early"].tolist() == [True, False, False, False]
    assert [d.tolist() for d in deaths if d.size] == [[people[dying]]]


def test_community_services_start_part_full(small_config, population, pools, clock, ledger):
    community = Community(small_config.community, population=population, pools=pools, ledger=ledger)
    community.prefill(np.random.default_rng(8))
    clock.pump()
    occupied = clock.board.stats()["occupied"]
    share = small_config.community.initial_occupancy
    assert occupied[pools.index("reablement")] == round(share * small_config.community.reablement_slots)


def _full_community_bed(clock, ledger, pools, population, stay_h):
    """One community bed, held by someone until `stay_h`; two more people at home."""
    pool = pools.index("community_beds")
    clock.board.schedule_capacity(0.0, pool, 1)
    home = np.flatnonzero(population.residence == Residence.HOME)[:3]
    ledger.start_places(home[:1], pool, np.array([stay_h]))
    return pool, home[1], home[2]


def test_a_referral_from_home_waits_behind_a_hospital_discharge(
    small_config, population, pools, clock, ledger
):
    """The bed frees at 10 h. A referral from home made at 1 h and a hospital patient's
    request made at 2 h both wait; the hospital patient gets the bed."""
    pool, from_home, from_hospital = _full_community_bed(clock, ledger, pools, population, 10.0)
    ledger.start_places(
        np.array([from_home]),
        pool,
        np.array([100.0]),
        origin=Origin.STEP_UP,
        at_h=np.array([1.0]),
        priority=1,
    )
    ledger.start_places(np.array([from_hospital]), pool, np.array([100.0]), at_h=np.array([2.0]))
    clock.env.run(until=12.0)
    clock.pump()
    events = clock.take_events()
    moved = events["route"][(events["kind"] == CoreEvent.MOVED) & (events["time"] == 10.0)]
    assert ledger.routes.person[moved].tolist() == [from_hospital]


def test_a_referral_from_home_is_withdrawn_after_its_longest_wait(
    small_config, population, pools, clock, ledger
):
    pool, from_home, _ = _full_community_bed(clock, ledger, pools, population, 1e4)
    cfg = small_config.community.model_copy(
        update={"community_bed_step_up_per_1000_65_py": 5000.0, "step_up_max_wait_days": 2.0}
    )
    community = Community(cfg, population=population, pools=pools, ledger=ledger)
    community.step_ups(0, np.random.default_rng(3))
    clock.env.run(until=24.0 * 3)
    settle(clock, ledger, community)
    r = ledger.routes.view()
    step_ups = r["origin"] == Origin.STEP_UP
    assert step_ups.sum() > 0
    assert clock.board.stats()["lost"][pool] == step_ups.sum()  # nobody got the bed, all withdrawn
    assert (population.age_band[ledger.routes.person[np.flatnonzero(step_ups)]] >= OLDER_BANDS).all()


def test_a_step_up_place_that_comes_while_its_holder_is_in_hospital_is_released(
    small_config, population, pools, clock, ledger
):
    pool, from_home, _ = _full_community_bed(clock, ledger, pools, population, 5.0)
    community = Community(small_config.community, population=population, pools=pools, ledger=ledger)
    ledger.start_places(np.array([from_home]), pool, np.array([500.0]), origin=Origin.STEP_UP, priority=1)
    population.in_hospital[from_home] = True  # admitted meanwhile
    clock.env.run(until=24.0)
    settle(clock, ledger, community)
    assert ledger.routes.ended_early[1]
    clock.env.run(until=25.0)
    clock.pump()
    assert clock.board.stats()["occupied"][pool] == 0


# -- A&E -----------------------------------------------------------------------------------
def emergency_for(cfg, small_config, population, pools, clock, ledger, hospital_parts):
    hospital, _, catchment, routes = hospital_parts
    return Emergency(
        cfg,
        [s.catchment_share for s in small_config.acute.sites],
        clock=clock,
        dates=Dates(MONDAY, 10),
        population=population,
        catchment=catchment,
        routes=routes,
        keyed=keyed(),
        ledger=ledger,
        virtual_ward=VirtualWard(
            cfg, [], clock=clock, ledger=ledger, keyed=keyed(), pool=pools.index("virtual_ward")
        ),
        admit=hospital.admit,
        new_patient=_Agent,
    )


def test_an_ambulance_waits_to_hand_over_while_the_cubicles_are_full(
    small_config, population, pools, clock, ledger, hospital_parts
):
    """One cubicle a site: of ambulances arriving together, the first is handed over at
    once and each next one when the patient before leaves A&E; walk-ins never wait to
    hand over; the 4-hour clock runs from arrival."""
    cfg = type(small_config.emergency).model_validate(
        {
            **small_config.emergency.model_dump(),
            "majors_cubicles": 1,
            "handover_cohort_after_minutes": None,
            "triage_minutes": {"mean": 10.0, "cv": 0.5},
            "admit_probability_cap": 0.0,  # everyone goes home
        }
    )
    emergency = emergency_for(cfg, small_config, population, pools, clock, ledger, hospital_parts)
    site = emergency.catchment.site_of(np.arange(population.size))
    people = np.flatnonzero((site == 0) & (population.age_band == 2))[:4]
    population.episodes[people] += 1
    arrival = np.array([Arrival.AMBULANCE] * 3 + [Arrival.WALK_IN], np.int8)
    emergency.attend(people, arrival, np.full(4, 1.0))
    clock.env.run(until=48.0)
    log = emergency.log.view()
    amb = log["arrival"] == Arrival.AMBULANCE
    handover = np.sort(log["handover_h"][amb])
    departures = np.sort(log["departure_h"][amb])
    assert handover[0] == 1.0
    assert handover[1:].tolist() == departures[:2].tolist()  # the cubicle frees as each leaves
    assert np.isnan(log["handover_h"][~amb]).all()
    assert (log["decision_h"][amb] > log["handover_h"][amb]).all()  # triage and assessment after
    assert not log["admitted"].any()


def test_a_crew_waiting_an_hour_hands_over_into_a_corridor(
    small_config, population, pools, clock, ledger, hospital_parts
):
    """One cubicle and no beds: every patient is admitted and boards for ever. The first
    holds the cubicle; each later crew waits its hour, then hands over into a corridor
    (without a cubicle, so the next crew is no worse off)."""
    dump = small_config.emergency.model_dump()
    cfg = type(small_config.emergency).model_validate(
        {
            **dump,
            "majors_cubicles": 1,
            "handover_cohort_after_minutes": 60.0,
            "admit_probability": {band: 1.0 for band in dump["admit_probability"]},
            "admit_probability_cap": 1.0,
            "avoidance_share": {band: 0.0 for band in dump["avoidance_share"]},
        }
    )
    emergency = emergency_for(cfg, small_config, population, pools, clock, ledger, hospital_parts)
    for pool in range(pools.n_acute):
        clock.board.schedule_capacity(0.0, pool, 0)
    site = emergency.catchment.site_of(np.arange(population.size))
    people = np.flatnonzero((site == 0) & (population.age_band == 2))[:3]
    population.episodes[people] += 1
    emergency.attend(people, np.full(3, Arrival.AMBULANCE, np.int8), np.array([1.0, 1.5, 2.0]))
    clock.env.run(until=30.0)
    log = emergency.log.view()
    assert log["admitted"].all() and np.isnan(log["departure_h"]).all()
    assert (log["handover_h"] - log["arrival_h"]).tolist() == pytest.approx([0.0, 1.0, 1.0])


def test_with_no_cubicle_limit_every_ambulance_is_handed_over_on_arrival(
    small_config, population, pools, clock, ledger, hospital_parts
):
    cfg = type(small_config.emergency).model_validate(
        {**small_config.emergency.model_dump(), "majors_cubicles": None}
    )
    emergency = emergency_for(cfg, small_config, population, pools, clock, ledger, hospital_parts)
    people = np.flatnonzero(population.age_band == 5)[:50]
    population.episodes[people] += 1
    arrival_h = np.linspace(0.0, 2.0, people.size)
    emergency.attend(people, np.full(people.size, Arrival.AMBULANCE, np.int8), arrival_h)
    clock.env.run(until=24.0)
    log = emergency.log.view()
    assert np.array_equal(np.sort(log["handover_h"]), np.sort(arrival_h))


def test_every_attendance_leaves_and_admitted_patients_leave_for_a_bed(
    small_config, population, pools, clock, ledger, hospital_parts
):
    hospital, _, catchment, routes = hospital_parts
    emergency = emergency_for(
        small_config.emergency, small_config, population, pools, clock, ledger, hospital_parts
    )
    people = np.flatnonzero(population.age_band == 5)[:200]
    population.episodes[people] += 1
    emergency.attend(
        people, np.full(people.size, Arrival.AMBULANCE, np.int8), np.linspace(0.0, 20.0, people.size)
    )
    clock.env.run(until=72.0)
    settle(clock, ledger, hospital)
    emergency.left_by(clock.env.now)
    log = emergency.log.view()
    assert np.isfinite(log["departure_h"]).all() and (log["departure_h"] >= log["decision_h"]).all()
    admitted = log["admitted"]
    assert admitted.any() and (log["handle"][admitted] >= 0).all()
    lag = small_config.emergency.transfer_to_ward_hours
    assert (log["departure_h"][admitted] - log["decision_h"][admitted] >= lag - 1e-9).all()
    assert not population.in_ae[people].any()


class _Agent:
    """A stand-in for the Mesa agent a journey holds."""

    def __init__(self, person: int, ae_row: int):
        self.person, self.ae_row = person, ae_row

    def remove(self) -> None:
        pass


# --------------------------------------------------------------------------------------
# A&E clinicians: first come, first served on an hourly rota


def seen_by_clinicians(by_hour: list[int], patients: list[tuple[str, float, float]], until: float):
    """When each patient (name, arrival hour, assessment hours) is seen, and the department."""
    n = len(patients)
    department = Department([by_hour], None)
    times = [np.full(n, np.nan) for _ in range(3)]
    department.bind(*times)
    zeros = np.zeros(n)
    arrive = np.array([p[1] for p in patients])
    assess = np.array([p[2] for p in patients])
    department.attend(
        np.arange(n),
        np.zeros(n, np.int64),
        np.zeros(n, bool),
        arrive,
        zeros,
        assess,
        zeros,
        zeros.astype(bool),
    )
    assert department.advance(until) == -1  # nobody admitted
    decision = times[1]
    return {name: decision[i] - assess[i] for i, (name, _, _) in enumerate(patients)}, department


def test_clinicians_take_the_next_patient_the_moment_work_in_hand_ends():
    """Work whose end is known is counted off when the pool is next looked at, but a
    patient waiting for it is seen at that very moment."""
    patients = [("a", 0.25, 2.0), ("b", 0.5, 1.0), ("c", 0.75, 0.5), ("d", 5.0, 1.0)]
    seen, department = seen_by_clinicians([1] * 24, patients, 10.0)
    assert seen == {"a": 0.25, "b": 2.25, "c": 3.25, "d": 5.0}
    assert department.busy == [0] and not department.waiting[0]  # everyone's work is over


def test_a_clinician_going_off_duty_finishes_the_patient_in_hand():
    """Two on duty until 01:00, one after: the second patient is still seen to the end of
    their assessment, and the one waiting is seen only when the busy count falls below
    the single clinician now on duty."""
    patients = [("a", 0.5, 1.0), ("b", 0.75, 1.5), ("c", 1.1, 0.5)]
    seen, _ = seen_by_clinicians([2] + [1] * 23, patients, 5.0)
    # a ends at 1.5, b at 2.25: at 1.5 b still keeps the one clinician on duty busy.
    assert seen == {"a": 0.5, "b": 0.75, "c": 2.25}
