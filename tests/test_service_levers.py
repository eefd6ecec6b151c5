"""Service levers act on mechanism: paired runs (same seed, with and without the lever)
show the direction of each lever's effect, and a bad parameter is one line of the loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flowsim.config import ConfigError, load_config
from flowsim.metrics.tables import run_tables
from flowsim.model import WholeSystemModel, simulate
from flowsim.vocabulary import FRAILTY_LEVELS, Origin, Residence

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
pytestmark = pytest.mark.integration

COST = {"name": "the lever", "annual_cost": 365_000.0, "payer": "ccg", "start_day": 5}
PROACTIVE = {
    "kind": "proactive_care",
    "min_frailty": "moderate",
    "walk_in_change": -0.5,
    "ambulance_change": -0.5,
    "gp_capacity_change": 0.5,
    **COST,
}
CARE_HOMES = {"kind": "care_home_support", "attendance_change": -0.8, "admission_change": -0.8, **COST}
AVOIDANCE = {
    "kind": "admission_avoidance",
    "extra_slots": 30,
    "eligible_share": 0.3,
    "min_age_band": "65-74",
    **COST,
}
D2A = {
    "kind": "discharge_to_assess",
    "assessment_moved_share": 1.0,
    "pathway_shift": 0.0,
    "goal_shares": {"P1": 0.45, "P2": 0.04, "P3": 0.01},
    **COST,
}
SEVEN_DAY = {
    "kind": "seven_day_discharge",
    "weekend_discharge_factor": 1.0,
    "assessment_hours_change": -0.5,
    **COST,
}


def small(levers, *, size=40_000, days=30, seed=None, **more):
    """configs/small.yaml on a smaller population and a short horizon, with these levers."""
    overrides = {
        "run.warmup_days": 5,
        "run.horizon_days": days,
        "population.size": size,
        "interventions": levers,
        **more,
    }
    if seed is not None:
        overrides["run.seed"] = seed
    return load_config(CONFIGS / "small.yaml", overrides)


def daily(levers, **kw):
    return simulate(small(levers, **kw), 0).tables["daily"].to_pandas()


def paired(lever, **kw):
    """The daily tables of a run without and with the lever, same seed."""
    return daily([], **kw), daily([lever], **kw)


def mean_los(d):
    return d.acute_los_days_sum.sum() / d.acute_discharges.sum()


# --- proactive care ----------------------------------------------------------------------


def test_proactive_care_lowers_the_cohorts_attendances_and_adds_gp_appointments():
    """The frail cohort walks in and calls ambulances less; practices see more patients."""
    models = []
    for levers in ([], [PROACTIVE]):
        model = WholeSystemModel(small(levers), 0)
        model.run()
        models.append(model)
    cohort = [int(np.count_nonzero(m.emergency.log.frailty[: m.emergency.log.n] >= 2)) for m in models]
    others = [int(np.count_nonzero(m.emergency.log.frailty[: m.emergency.log.n] < 2)) for m in models]
    assert cohort[1] < 0.8 * cohort[0]
    assert others[1] == pytest.approx(others[0], rel=0.05)  # the rest of the population barely moves
    tables = [run_tables(m.recorder.logs()) for m in models]
    gp = [sum(t["daily"].column("gp_consultations").to_pylist()) for t in tables]
    assert gp[1] > gp[0]
    # The appointments added are paid for: general practice's fixed cost rises by half (the
    # lever's gp_capacity_change) once the lever is in place.
    fixed = []
    for t in tables:
        spend = t["spend"].to_pandas()
        mine = spend[
            (spend.item == "gp_consultation")
            & (spend.part == "fixed")
            & (spend.date >= spend.date.min() + np.timedelta64(5, "D"))
        ]
        fixed.append(mine.pounds.sum())
    assert fixed[1] == pytest.approx(1.5 * fixed[0])


def test_proactive_care_costs_from_its_start_but_acts_only_after_its_lag():
    """Days before start_day + lag_days are identical, though the money is already spent."""
    lever = {**PROACTIVE, "lag_days": 10}
    base, late = (simulate(small(levers, days=25), 0).tables for levers in ([], [lever]))
    b, m = base["daily"].to_pandas(), late["daily"].to_pandas()
    first_effect = 5 + 10
    same = b.day < first_effect
    assert b[same].ae_attendances.tolist() == m[same].ae_attendances.tolist()
    assert b[~same].ae_attendances.sum() > m[~same].ae_attendances.sum()
    spend = late["spend"].to_pandas()
    cost = spend[spend.intervention == "the lever"]
    assert set(cost.organisation) == {"ccg"}
    assert cost.pounds.sum() == pytest.approx(1000.0 * (30 - 5))  # from day 5 to the end


@pytest.mark.slow
def test_proactive_care_can_target_the_people_most_at_risk():
    """Risk stratification: the cohorts with the highest emergency rates, up to 5% of people."""
    lever = {k: v for k, v in PROACTIVE.items() if k != "min_frailty"} | {"top_risk_share": 0.05}
    model = WholeSystemModel(small([lever]), 0)
    _, cohort = model.demand.cohorts[0]
    pop = model.population
    members = cohort[pop.code]
    assert 0.0 < members.mean() <= 0.05
    risk = model.demand.base[0] + model.demand.base[1]  # walk-in + ambulance, per person-year
    assert risk[pop.code[members]].min() >= risk[pop.code[~members]].max()
    b, m = paired(lever)
    assert m.ae_attendances.sum() < 0.95 * b.ae_attendances.sum()


# --- enhanced health in care homes ---------------------------------------------------------


def emergency_admissions_by_residence(config) -> np.ndarray:
    """Emergency admissions requested in a run, by where the patient lived (home,
    home care, care home), counted as A&E and general practice ask for a bed."""
    model = WholeSystemModel(config, 0)
    counts = np.zeros(3, dtype=np.int64)
    for owner in (model.emergency, model.hospital):
        ask = owner.admit

        def admit(person, routes, i, origin, *args, _ask=ask, **kw):
            if origin != Origin.ELECTIVE:
                counts[model.population.residence[person]] += 1
            return _ask(person, routes, i, origin, *args, **kw)

        owner.admit = admit
    model.run()
    return counts


@pytest.mark.slow
def test_care_home_support_lowers_residents_admissions():
    base = emergency_admissions_by_residence(small([], size=60_000))
    more = emergency_admissions_by_residence(small([CARE_HOMES], size=60_000))
    assert more[Residence.CARE_HOME] < 0.5 * base[Residence.CARE_HOME]
    assert base[Residence.CARE_HOME] >= 20  # enough residents' admissions to tell
    at_home = more[Residence.HOME] / base[Residence.HOME]
    assert at_home == pytest.approx(1.0, abs=0.05)


# --- admission avoidance -------------------------------------------------------------------


@pytest.mark.slow
def test_virtual_wards_take_admissions_from_ae_and_gps_and_fill_their_slots():
    config = small([AVOIDANCE])
    base, more = (simulate(c, 0).tables for c in (small([]), config))
    b, m = base["daily"].to_pandas(), more["daily"].to_pandas()
    assert m.emergency_admissions.sum() < b.emergency_admissions.sum()
    assert m.admissions_avoided.sum() > 2 * b.admissions_avoided.sum()
    assert m.direct_admissions.sum() < b.direct_admissions.sum()  # GP referrals too
    occupancy = more["occupancy"].to_pandas()
    ward = occupancy[occupancy.pool == "virtual_ward"]
    assert ward.capacity.iloc[-1] == pytest.approx(6 + 30)  # small.yaml's 6 slots and the lever's 30
    assert ward.occupied.mean() > 6  # beyond what the old slots could hold


def test_a_full_virtual_ward_leaves_the_patient_to_be_admitted():
    """No slots at all: every eligible patient is admitted, exactly as without the lever."""
    closed = {"emergency.virtual_ward_slots": 0}
    lever = {**AVOIDANCE, "extra_slots": 0, "eligible_share": 1.0}
    b, m = daily([], days=10, **closed), daily([lever], days=10, **closed)
    assert m.admissions_avoided.sum() == 0
    assert m.emergency_admissions.tolist() == b.emergency_admissions.tolist()


# --- discharge to assess -------------------------------------------------------------------


def test_discharge_to_assess_moves_the_assessment_out_of_the_acute_bed():
    """The wait once fit shrinks by as much as the stay in the service grows."""
    routes, home = {}, -1
    for levers in ([], [{**D2A, "start_day": 0}]):
        builder = WholeSystemModel(small(levers, size=20_000, days=1), 0).hospital.routes
        home = builder.pool["home"]  # a package restarted at home: no assessment to move
        n = 2000
        routes[len(levers)] = builder.acute_routes(
            np.arange(n),
            np.ones(n, dtype=np.int64),
            np.full(n, 5),  # 85+
            np.full(n, FRAILTY_LEVELS.index("moderate")),
            np.zeros(n, dtype=np.int8),
            np.zeros(n, dtype=np.int64),
            np.full(n, 48.0),
            np.zeros(n, dtype=bool),
        )
    before, after = routes[0], routes[1]
    assessed = (before.n_legs > 1) & (before.readies[:, 1] > 0) & (before.pools[:, 1] != home)
    assert assessed.sum() > 100
    assert np.all(after.readies[assessed, 1] == 0.0)
    assert np.allclose(
        after.stays[assessed, 1] - before.stays[assessed, 1], before.readies[assessed, 1], rtol=1e-12
    )
    assert np.array_equal(after.pathway, before.pathway)  # no shift asked for


@pytest.mark.slow
def test_discharge_to_assess_cuts_delayed_bed_days_and_length_of_stay():
    b, m = paired({**D2A, "pathway_shift": 0.5, "min_age_band": "65-74"}, size=60_000)
    assert m.dtoc_bed_days.sum() < 0.9 * b.dtoc_bed_days.sum()
    assert mean_los(m) < mean_los(b)
    # The pathway shares move toward the goals: fewer bed-based discharges.
    assert (m.discharges_p2 + m.discharges_p3).sum() < (b.discharges_p2 + b.discharges_p3).sum()


# --- seven-day discharge -------------------------------------------------------------------


@pytest.mark.slow
def test_seven_day_discharging_raises_weekend_discharges_and_lowers_occupancy():
    b, m = paired(SEVEN_DAY, size=60_000, seed=1)
    weekend = b.date.map(lambda d: d.weekday() >= 5)
    assert m.acute_discharges[weekend].sum() > 1.2 * b.acute_discharges[weekend].sum()
    assert m.acute_occupancy.mean() < b.acute_occupancy.mean()
    assert mean_los(m) < mean_los(b)


def test_an_earlier_discharge_hour_discharges_earlier_in_the_day():
    morning = [0.0] * 8 + [1.0, 3.0, 5.0, 5.0] + [0.0] * 12
    runs = []
    for levers in ([], [{"kind": "seven_day_discharge", "discharge_hour_profile": morning, **COST}]):
        model = WholeSystemModel(small(levers, size=20_000, days=15), 0)
        model.run()
        r = model.ledger.routes
        n = r.n
        left = (r.site[:n] >= 0) & np.isfinite(r.bed_end_h[:n]) & (r.bed_start_h[:n] > 7 * 24.0)
        hours = r.bed_end_h[:n][left] % 24.0
        runs.append(np.mean(hours < 12.0))
    assert runs[1] > runs[0] + 0.2


# --- money ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lever", [PROACTIVE, CARE_HOMES, AVOIDANCE, D2A, SEVEN_DAY], ids=lambda x: x["kind"])
def test_each_levers_running_cost_lands_on_its_payer_from_its_start(lever):
    lever = {**lever, "payer": "community_provider", "end_day": 9}
    spend = simulate(small([lever], size=20_000, days=5), 0).tables["spend"].to_pandas()
    cost = spend[spend.intervention == "the lever"].sort_values("date")
    assert set(cost.organisation) == {"community_provider"}
    assert set(cost.item) == {"running_cost"}
    # Days 0-9 of the run (a 5-day warm-up, then 5 days): spent on days 5 to 8.
    assert cost.pounds.tolist() == pytest.approx([0.0] * 5 + [1000.0] * 4 + [0.0])


# --- bad parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lever", "key", "value", "named"),
    [
        (PROACTIVE, "min_frailty", "very", "min_frailty"),
        (PROACTIVE, "lag_days", -1, "lag_days"),
        (PROACTIVE, "top_risk_share", 0.1, "min_frailty"),  # two cohorts at once
        (PROACTIVE, "top_risk_share", 0.0, "top_risk_share"),
        (CARE_HOMES, "admission_change", -2.0, "admission_change"),
        (AVOIDANCE, "eligible_share", 1.5, "eligible_share"),
        (D2A, "goal_shares", {"P1": 0.9, "P2": 0.2, "P3": 0.1}, "goal_shares"),
        (SEVEN_DAY, "end_day", 5, "end_day"),
    ],
)
def test_a_bad_lever_parameter_is_one_line_naming_its_key(lever, key, value, named):
    with pytest.raises(ConfigError) as info:
        load_config(CONFIGS / "small.yaml", {"interventions": [{**lever, key: value}]})
    message = str(info.value)
    assert "\n" not in message
    assert named in message and "interventions" in message


def test_a_seven_day_lever_that_changes_nothing_is_refused():
    lever = {"kind": "seven_day_discharge", **COST}
    with pytest.raises(ConfigError, match="changes nothing"):
        load_config(CONFIGS / "small.yaml", {"interventions": [lever]})


LEVER_SCENARIOS = {
    "proactive_care_frail": "proactive_care",
    "enhanced_health_care_homes": "care_home_support",
    "virtual_wards_rapid_response": "admission_avoidance",
    "discharge_to_assess": "discharge_to_assess",
    "seven_day_discharge": "seven_day_discharge",
}


@pytest.mark.parametrize("name", sorted(LEVER_SCENARIOS))
def test_each_lever_has_a_scenario_file_that_extends_the_footprint(name):
    config = load_config(CONFIGS / "scenarios" / f"{name}.yaml")
    footprint = load_config(CONFIGS / "footprint.yaml")
    assert config.name == name
    assert [c.kind for c in config.interventions] == [LEVER_SCENARIOS[name]]
    assert config.population == footprint.population  # only the lever differs
    assert config.interventions[0].start_day == footprint.run.warmup_days  # 1 April 2016


def test_virtual_ward_slots_ramp_in_and_close_at_the_end():
    from flowsim.pools import Pools

    lever = {**AVOIDANCE, "extra_slots": 30, "start_day": 2, "ramp_days": 3, "end_day": 10}
    config = small([lever], size=20_000, days=20)
    pools = Pools.from_config(config)
    ward = pools.index("virtual_ward")
    steps = [(t / 24.0, capacity) for t, pool, capacity in pools.capacity_schedule(config) if pool == ward]
    assert steps == [(2.0, 6 + 10), (3.0, 6 + 20), (4.0, 6 + 30), (10.0, 6)]
