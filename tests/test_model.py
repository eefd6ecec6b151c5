"""The whole-system model, end to end on a small footprint.

These tests check what a user relies on: nobody is lost, the same seed gives the same
answer, and each lever moves the system in the direction queueing theory says it must.
Paired runs share a seed, so their difference is the lever's effect, not luck.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from flowsim.config import load_config
from flowsim.metrics.delays import delayed_beds_by_pathway
from flowsim.metrics.kpis import kpis
from flowsim.model import WholeSystemModel, simulate
from flowsim.vocabulary import Origin, Residence

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
pytestmark = pytest.mark.integration


def small(**overrides):
    base = {"run.warmup_days": 20, "run.horizon_days": 60}
    base.update(overrides)
    return load_config(CONFIGS / "small.yaml", base)


@pytest.fixture(scope="module")
def baseline():
    return simulate(small(), 0)


def kpi(output, name: str) -> float:
    return output.tables["kpis"].column(name)[0].as_py()


def test_nobody_is_lost(baseline):
    """Every person is counted every day and everyone in hospital is on a route."""
    daily = baseline.tables["daily"].to_pydict()
    assert set(daily["population"]) == {120_000}
    assert kpi(baseline, "conservation_ok") is True


def _parquet_bytes(table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def test_same_seed_same_bytes():
    a = simulate(small(**{"run.horizon_days": 10, "run.warmup_days": 5}), 3, record_episodes=True)
    b = simulate(small(**{"run.horizon_days": 10, "run.warmup_days": 5}), 3, record_episodes=True)
    for name in ("daily", "kpis", "episodes"):
        assert _parquet_bytes(a.tables[name]) == _parquet_bytes(b.tables[name]), name


def test_a_finished_run_leaves_no_model_behind():
    """A sweep worker runs model after model in one process: each model is freed once its
    run is over, so the worker's memory does not grow run by run."""
    import gc

    def models_alive() -> int:
        gc.collect()
        return sum(isinstance(o, WholeSystemModel) for o in gc.get_objects())

    before = models_alive()
    for replication in range(2):
        simulate(small(**{"run.horizon_days": 5, "run.warmup_days": 2}), replication)
    assert models_alive() == before


def test_replications_differ():
    a = simulate(small(**{"run.horizon_days": 10, "run.warmup_days": 5}), 0)
    b = simulate(small(**{"run.horizon_days": 10, "run.warmup_days": 5}), 1)
    assert not a.tables["daily"].equals(b.tables["daily"])


def test_kpi_columns_follow_the_contract(baseline):
    required = [
        "population",
        "days",
        "ae_attendances",
        "ae_4h_pct",
        "ae_12h_dta_waits",
        "emergency_admissions",
        "emergency_admissions_per_1000",
        "elective_admissions",
        "elective_cancellations",
        "acute_beds_mean",
        "acute_occupancy_mean",
        "acute_occupancy_p95",
        "dtoc_bed_days",
        "dtoc_beds_mean",
        "mean_los_days",
        "pathway_share_p0",
        "pathway_share_p1",
        "pathway_share_p2",
        "pathway_share_p3",
        "spend_total",
    ]
    assert set(required) <= set(baseline.tables["kpis"].column_names)
    assert kpi(baseline, "days") == 60
    shares = sum(kpi(baseline, f"pathway_share_p{i}") for i in range(4))
    assert shares == pytest.approx(1.0)


def test_no_demand_means_no_attendances():
    zero = {
        f"population.demand.{k}.{b}": 0.0
        for k in ("walk_in_per_1000_py", "ambulance_per_1000_py")
        for b in ("0-15", "16-44", "45-64", "65-74", "75-84", "85+")
    }
    zero["primary_care.referral_to_ae_share"] = 0.0
    zero["primary_care.overflow_to_ae_share"] = 0.0
    out = simulate(small(**{"run.horizon_days": 10, "run.warmup_days": 2}, **zero), 0)
    assert kpi(out, "ae_attendances") == 0


def test_fewer_acute_beds_make_things_worse(baseline):
    """A 10% bed cut with nothing else changed: fuller wards, longer A&E waits."""
    cut = simulate(small(**{"acute.beds_scale": 0.9}), 0)
    assert kpi(cut, "acute_beds_mean") < kpi(baseline, "acute_beds_mean")
    assert kpi(cut, "acute_occupancy_mean") > kpi(baseline, "acute_occupancy_mean")
    assert kpi(cut, "ae_boarders_mean") > kpi(baseline, "ae_boarders_mean")
    assert kpi(cut, "ae_4h_pct") < kpi(baseline, "ae_4h_pct")
    assert kpi(cut, "elective_cancellations") > kpi(baseline, "elective_cancellations")


def test_more_community_capacity_cuts_delays():
    """Bed blocking: where community beds and reablement are the constraint, adding them
    frees acute beds held by medically fit patients."""
    tight = simulate(small(**{"community.community_beds": 30, "community.reablement_slots": 110}), 0)
    more = simulate(small(**{"community.community_beds": 60, "community.reablement_slots": 200}), 0)
    assert kpi(tight, "reablement_waiting_mean") > kpi(more, "reablement_waiting_mean")
    assert kpi(more, "dtoc_bed_days") < kpi(tight, "dtoc_bed_days")


def test_a_full_care_home_sector_blocks_beds():
    """No care-home places: every P3 patient waits in hospital, a delay charged to social care."""
    cfg = small(**{"social_care.care_home_places": 0, "run.horizon_days": 30})
    model = WholeSystemModel(cfg, 0)
    model.run()
    logs = model.recorder.logs()
    assert delayed_beds_by_pathway(logs)["P3"][-10:].mean() > 0
    assert model.clock.board.stats()["occupied"][model.pools.index("care_home")] == 0


def test_episodes_table_has_the_contract_columns():
    out = simulate(small(**{"run.horizon_days": 5, "run.warmup_days": 1}), 0, record_episodes=True)
    cols = {
        "person_id",
        "age_band",
        "frailty",
        "route",
        "ae_arrival_h",
        "ae_departure_h",
        "admitted",
        "bed_request_h",
        "bed_start_h",
        "medically_fit_h",
        "pathway",
        "bed_end_h",
        "delayed_hours",
        "site",
    }
    assert cols <= set(out.tables["episodes"].column_names)
    routes = set(out.tables["episodes"].column("route").to_pylist())
    assert {"walk_in", "ambulance"} <= routes
    admitted = out.tables["episodes"].filter(out.tables["episodes"].column("admitted"))
    starts = np.array(admitted.column("bed_start_h").to_pylist(), dtype=float)
    requests = np.array(admitted.column("bed_request_h").to_pylist(), dtype=float)
    ok = ~np.isnan(starts)
    assert (starts[ok] >= requests[ok]).all()


def test_compiled_core_and_python_twin_give_the_same_run(monkeypatch):
    """The whole model, not only the core, is bit-identical on either implementation."""
    import flowsim.model
    from flowsim._core import CompiledBoard, PythonBoard

    if CompiledBoard is None:
        pytest.skip("the compiled core is not built")
    cfg = small(**{"run.horizon_days": 6, "run.warmup_days": 2})
    outputs = []
    for board in (CompiledBoard, PythonBoard):
        monkeypatch.setattr(flowsim.model, "Board", board)
        outputs.append(simulate(cfg, 0, record_episodes=True))
    for name in ("daily", "kpis", "episodes"):
        assert _parquet_bytes(outputs[0].tables[name]) == _parquet_bytes(outputs[1].tables[name]), name


def test_someone_back_in_ae_stays_busy_after_an_earlier_visit_ends():
    """A person who left A&E at 1am and came back at 10pm is still in A&E at midnight,
    so they cannot also be sent in by their GP the next morning."""
    model = WholeSystemModel(small(**{"run.horizon_days": 1, "run.warmup_days": 0}), 0)
    log = model.emergency.log
    first = log.n
    person = 5
    for arrival, departure in ((0.5, 1.0), (22.0, np.nan)):
        log.append(
            person=person,
            person_id=model.population.person_id[person],
            arrival_h=arrival,
            departure_h=departure,
        )
    model.emergency._first_open = first
    model.population.in_ae[person] = True
    model.emergency.left_by(24.0)
    assert model.population.in_ae[person]


def test_places_belong_to_living_people():
    """Nobody dead holds a place, and a package ends when its holder moves to a care home,
    so home-care packages in use match the people living with one (bar transfers under way)."""
    model = WholeSystemModel(small(**{"run.horizon_days": 200, "run.warmup_days": 0}), 0)
    model.run()
    pop, routes = model.population, model.ledger.routes
    for person, handles in model.ledger.open._by_person.items():
        for handle in handles:
            assert routes.person_id[handle] == pop.person_id[person]
    occupied = model.clock.board.stats()["occupied"]
    for pool, residence in (("home_care", Residence.HOME_CARE), ("care_home", Residence.CARE_HOME)):
        residents = int(np.count_nonzero(pop.residence == residence))
        assert abs(occupied[model.pools.index(pool)] - residents) <= 3, pool
    # The people per cohort, kept up to date as people age, change and die, match a count.
    assert (pop.cohort_counts == np.bincount(pop.code, minlength=pop.cohort_counts.size)).all()


def test_ending_a_persons_places_never_cuts_a_hospital_stay_short():
    """A care-home place coming through for someone back in hospital ends their other
    places, not the hospital stay they are on."""
    model = WholeSystemModel(small(**{"run.horizon_days": 3, "run.warmup_days": 0}), 0)
    model.step()
    r = model.ledger.routes.view()
    open_acute = np.flatnonzero((r["site"] >= 0) & np.isnan(r["bed_end_h"]) & ~r["lost"])
    handle = int(open_acute[-1])
    person = int(r["person"][handle])
    model.ledger.end_places(person)
    model.step()
    assert not model.ledger.routes.ended_early[handle]
    assert model.recorder.conservation_failures == []


def test_gridlock_shows_as_boarding_and_trolley_waits_even_if_nobody_leaves():
    """With every acute bed closed, admitted patients wait in A&E: the boarding and 12-hour
    figures must show it, not read zero because nobody has left yet."""
    cut = {"kind": "capacity", "name": "no beds", "pool": "acute", "relative_change": -1.0, "start_day": 0}
    out = simulate(small(**{"run.horizon_days": 3, "run.warmup_days": 0, "interventions": [cut]}), 0)
    assert kpi(out, "ae_boarders_mean") > 10
    assert kpi(out, "ae_12h_dta_waits") > 10


def test_the_starting_census_is_not_counted_as_activity():
    """People already in care homes, and patients already in bed, at the start were not
    admitted in the run: no care-home entries or admissions for them, and their stays
    began before the run."""
    model = WholeSystemModel(small(**{"run.horizon_days": 2, "run.warmup_days": 0}), 0)
    model.run()
    k = kpis(model.recorder.logs())
    assert k["care_home_entries"] < 20
    r = model.ledger.routes.view()
    prefilled = (r["origin"] == Origin.RESIDENT) & (r["site"] >= 0)
    assert prefilled.sum() > 150
    assert (r["bed_start_h"][prefilled] <= 1.0).all() and (r["bed_start_h"][prefilled] < 0).mean() > 0.9


def test_cancelled_electives_are_not_shown_as_admitted():
    cut = {"kind": "capacity", "name": "no beds", "pool": "acute", "relative_change": -1.0, "start_day": 0}
    # No escalation: a list cancelled in advance at an escalated site has no episodes.
    out = simulate(
        small(
            **{"run.horizon_days": 3, "run.warmup_days": 0, "interventions": [cut], "acute.escalation": None}
        ),
        0,
        record_episodes=True,
    )
    ep = out.tables["episodes"].to_pydict()
    electives = [i for i, route in enumerate(ep["route"]) if route == "elective"]
    assert electives and not any(ep["admitted"][i] for i in electives)
    assert kpi(out, "elective_cancellations") == len(electives)


def test_a_run_returns_tidy_tables_that_say_what_each_column_is(baseline):
    """The long tables hold what the daily table no longer does (by site, pool, pathway,
    organisation), and every column carries the registry's metadata."""
    import pyarrow.compute as pc

    from flowsim.metrics.registry import TABLES

    tables = baseline.tables
    assert {"daily", "kpis", "occupancy", "delays", "spend"} <= set(tables)
    for name, table in tables.items():
        assert table.column_names == [m.name for m in TABLES[name]], name
        for field in table.schema:
            assert field.metadata[b"label"] and field.metadata[b"unit"], (name, field.name)
            if pa_is_float(field.type):
                assert not pc.any(pc.is_nan(table.column(field.name))).as_py(), (name, field.name)
    occupancy = tables["occupancy"]
    # Three acute sites of three ward groups and escalation beds each, and five other pools, a day.
    assert occupancy.num_rows == 80 * (3 * 4 + 5)
    spend = pc.sum(tables["spend"].column("pounds")).as_py()
    assert spend == pytest.approx(pc.sum(tables["daily"].column("spend_total")).as_py())
    delayed = pc.sum(tables["delays"].column("beds")).as_py()
    assert delayed == pytest.approx(pc.sum(tables["daily"].column("dtoc_beds")).as_py(), rel=1e-9)


def pa_is_float(typ) -> bool:
    import pyarrow as pa

    return pa.types.is_floating(typ)
