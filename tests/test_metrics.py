"""The measures, on hand-made logs: each derivation is a pure function of what a run recorded.

Every test writes down a few attendances, routes or pool figures whose answer is known by
hand, and checks the table a user would read.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from flowsim.config import load_config
from flowsim.ledger import route_registry
from flowsim.metrics.delays import delay_categories
from flowsim.metrics.kpis import kpis
from flowsim.metrics.logs import ATTENDANCE_COLUMNS, CENSUS, POOL_HOURS, RunLogs
from flowsim.metrics.per_day import count_at_midnights, interval_hours_by_day
from flowsim.metrics.readmissions import readmitted
from flowsim.metrics.reference import reference_markdown
from flowsim.metrics.registry import FRACTION, HEADLINE_KPIS, PERCENT, TABLES, kpi
from flowsim.metrics.tables import run_tables, to_table
from flowsim.pools import Pools
from flowsim.tables import Columns
from flowsim.vocabulary import Arrival, Origin

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.unit

H = 24.0  # hours in a day


def make_logs(
    days: int,
    *,
    warmup: int = 0,
    attendances=(),
    routes=(),
    capacity=None,
    occupied_hours=None,
    state_occupied=None,
    cancellations_h=(),
    care_home_entries_h=(),
    interventions=(),
    failures=(),
) -> RunLogs:
    """Logs of a `days`-day run of configs/small.yaml with only the given activity.

    `capacity` maps a pool name to its places (the same every day, or one value a day);
    every pool not named has none. `occupied_hours` maps a pool name to its place-hours in
    use each day; `state_occupied` to the places in use at each midnight (days + 1 values).
    """
    config = load_config(
        ROOT / "configs" / "small.yaml",
        {
            "run.start_date": "2016-04-01",  # day d of the run is the (d + 1)th of April
            "acute.ward_groups": [],  # one pool per site, named acute_<site>
            "acute.escalation": None,
            "run.warmup_days": warmup,
            "run.horizon_days": days - warmup,
            "interventions": list(interventions),
        },
    )
    pools = Pools.from_config(config)
    ae = Columns(fill={"travel_h": 0.0, "handover_h": np.nan}, **ATTENDANCE_COLUMNS)  # no site closed
    for row in attendances:
        ae.append(**row)
    r = route_registry()
    for row in routes:
        r.append(**row)
    n = len(pools.names)
    cap_per_day = np.zeros((days, n))
    for name, places in (capacity or {}).items():
        cap_per_day[:, pools.index(name)] = places
    occ_per_day = np.zeros((days, n))
    for name, hours in (occupied_hours or {}).items():
        occ_per_day[:, pools.index(name)] = hours
    state_occ = np.zeros((days + 1, n), dtype=np.int64)
    for name, count in (state_occupied or {}).items():
        state_occ[:, pools.index(name)] = count
    state_cap = np.vstack([cap_per_day, cap_per_day[-1:]]).astype(np.int64)

    def cumulative(per_day):
        return np.vstack([np.zeros((1, n)), np.cumsum(per_day, axis=0)])

    hours = {k: cumulative(np.zeros((days, n))) for k in POOL_HOURS}
    hours["capacity_hours"] = cumulative(cap_per_day * H)
    hours["occupied_hours"] = cumulative(occ_per_day)
    return RunLogs(
        config=config,
        pools=pools,
        attendances=ae.view(),
        routes=r.view(),
        pool_hours=hours,
        pool_state={
            "capacity": state_cap,
            "occupied": state_occ,
            "requested": np.zeros((days + 1, n), np.int64),
        },
        census={name: np.full(days, 1000 if name == "population" else 0) for name in CENSUS},
        gp_consultations=np.zeros(days, dtype=np.int64),
        cancellations_h=np.asarray(cancellations_h, dtype=np.float64),
        care_home_entries_h=np.asarray(care_home_entries_h, dtype=np.float64),
        conservation_failures=tuple(failures),
    )


def column(table: pa.Table, name: str) -> list:
    return table.column(name).to_pylist()


# -- A&E ----------------------------------------------------------------------------------


def test_four_hour_measure_by_day_of_arrival_counts_those_still_waiting_as_breaches():
    logs = make_logs(
        2,
        attendances=[
            dict(arrival_h=1.0, departure_h=4.9, arrival=Arrival.WALK_IN),  # within 4 hours (3.9)
            dict(arrival_h=2.0, departure_h=6.5, arrival=Arrival.WALK_IN),  # a breach (4.5)
            dict(arrival_h=20.0, departure_h=25.0, arrival=Arrival.AMBULANCE),  # left the next day: a breach
            dict(arrival_h=40.0, arrival=Arrival.WALK_IN),  # still in A&E 8 hours later: a breach
            dict(arrival_h=46.0, arrival=Arrival.WALK_IN),  # in A&E for 2 hours at the end: not known yet
        ],
    )
    daily = run_tables(logs)["daily"]
    assert column(daily, "ae_attendances") == [3, 2]
    assert column(daily, "ae_4h_known") == [3, 1]
    assert column(daily, "ae_within_4h") == [1, 0]
    assert column(daily, "ae_departures") == [2, 1]
    assert column(daily, "ae_4h_pct") == pytest.approx([100 / 3, 0.0])
    k = kpis(logs)
    assert k["ae_4h_pct"] == pytest.approx(25.0)
    assert k["ae_ambulance_share"] == pytest.approx(0.2)


def test_a_day_without_attendances_has_no_four_hour_figure_and_says_why():
    logs = make_logs(2, attendances=[dict(arrival_h=30.0, departure_h=31.0, arrival=Arrival.WALK_IN)])
    tables = run_tables(logs)
    assert column(tables["daily"], "ae_4h_pct") == [None, 100.0]
    field = tables["daily"].schema.field("ae_4h_pct")
    assert b"4-hour outcome" in field.metadata[b"null_when"]


def test_twelve_hour_waits_count_on_the_day_the_twelve_hours_run_out_even_if_still_waiting():
    admitted = dict(admitted=True, arrival=Arrival.AMBULANCE)
    logs = make_logs(
        3,
        attendances=[
            dict(arrival_h=8.0, decision_h=10.0, departure_h=23.0, **admitted),  # 13 h: day 0
            dict(arrival_h=18.0, decision_h=20.0, departure_h=33.0, **admitted),  # runs out at 32 h: day 1
            dict(arrival_h=48.0, decision_h=50.0, **admitted),  # still there at 72 h: runs out at 62 h
            dict(arrival_h=60.0, decision_h=65.0, **admitted),  # only 7 h by the end: no
            dict(arrival_h=1.0, decision_h=2.0, departure_h=30.0, arrival=Arrival.WALK_IN),  # not admitted
            dict(arrival_h=3.0, decision_h=4.0, departure_h=15.9, **admitted),  # 11.9 h: no
        ],
    )
    daily = run_tables(logs)["daily"]
    assert column(daily, "ae_12h_dta_waits") == [1, 1, 1]
    # Boarding: hours between decision and leaving (or the end), by day.
    expected = [13.0 + 4.0 + 11.9, 9.0, 22.0 + 7.0]
    assert column(daily, "ae_boarding_hours") == pytest.approx(expected)
    assert column(daily, "ae_boarders_mean") == pytest.approx([e / 24 for e in expected])


def test_interval_hours_are_split_at_midnight():
    hours = interval_hours_by_day(np.array([10.0, 30.0, np.nan, 5.0]), np.array([40.0, 30.0, 50.0, 100.0]), 3)
    # [10, 40): 14 + 16; [30, 30) nothing; NaN start nothing; [5, 100): 19 + 24 + 24 (cut at 72)
    assert hours == pytest.approx([14.0 + 19.0, 16.0 + 24.0, 24.0])


# -- acute ----------------------------------------------------------------------------------


def test_stranded_patients_are_counted_at_the_midnight_ending_each_day():
    start = np.array([-200.0, 0.0, 30.0])
    end = np.array([np.nan, 7 * H + 5.0, 2 * H])
    # The one in bed since before the run is stranded every night; the second from the
    # midnight of day 6 (7 days since 0 h) until it leaves at 173 h; the third never.
    assert count_at_midnights(start, end, 9, 7 * H).tolist() == [1, 1, 1, 1, 1, 1, 2, 1, 1]
    acute = dict(origin=Origin.AE_ADMISSION, site=0)
    logs = make_logs(
        9,
        routes=[
            dict(bed_start_h=-200.0, **{**acute, "origin": Origin.RESIDENT}),
            dict(bed_start_h=0.0, bed_end_h=7 * H + 5.0, fit_h=7 * H + 5.0, pathway=0, **acute),
            dict(bed_start_h=30.0, bed_end_h=2 * H, fit_h=2 * H, pathway=0, **acute),
        ],
    )
    daily = run_tables(logs)["daily"]
    assert column(daily, "stranded") == [1, 1, 1, 1, 1, 1, 2, 1, 1]
    assert column(daily, "super_stranded") == [0] * 9
    assert column(daily, "emergency_admissions") == [1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert column(daily, "acute_discharges") == [0, 0, 1, 0, 0, 0, 0, 1, 0]


def _discharge(pid, band, end_h, origin=Origin.AE_ADMISSION, dies=False):
    return dict(
        person_id=pid,
        age_band=band,
        origin=origin,
        site=0,
        request_h=end_h - 50.0,
        bed_start_h=end_h - 48.0,
        fit_h=end_h,
        bed_end_h=end_h,
        pathway=0,
        dies=dies,
    )


def _admission(pid, band, request_h, origin=Origin.AE_ADMISSION, reached_bed=True):
    return dict(
        person_id=pid,
        age_band=band,
        origin=origin,
        site=0,
        request_h=request_h,
        bed_start_h=request_h + 1.0 if reached_bed else np.nan,
    )


def test_readmissions_within_30_days_of_a_live_discharge_in_the_window():
    day = H
    routes = [
        _discharge(1, 1, 100.0),
        _admission(1, 1, 150.0),  # back 50 hours later: readmitted
        _discharge(2, 4, 50.0, origin=Origin.DIRECT_ADMISSION),
        _admission(2, 4, 50.0 + 31 * day),  # 31 days later: not a 30-day readmission
        _discharge(3, 5, 60.0),
        _admission(3, 5, 80.0, origin=Origin.ELECTIVE),  # an elective is not a readmission
        _admission(3, 5, 90.0, reached_bed=False),  # nor a request that never reached a bed
        _discharge(4, 5, 70.0),
        _admission(4, 5, 70.0 + 29 * day),  # 29 days later: readmitted
        _discharge(5, 5, 80.0, dies=True),  # died: not a discharge
        _discharge(6, 5, 11 * day),  # too late in the window for 30 days of follow-up
        _discharge(7, 2, 20.0, origin=Origin.RESIDENT),  # in bed when the run began
    ]
    logs = make_logs(40, routes=routes)
    k = kpis(logs)
    assert k["readmissions_30d_pct"] == pytest.approx(50.0)  # people 1 and 4 of 1, 2, 3, 4
    assert k["readmissions_30d_65plus_pct"] == pytest.approx(100 / 3)  # 4 of 2, 3, 4
    # Of the nine emergency admissions that reached a bed, seven were of people 65+.
    assert k["emergency_admissions_65plus_share"] == pytest.approx(7 / 9)


def test_an_admission_at_the_moment_of_discharge_is_not_a_readmission():
    reg = route_registry()
    for row in (
        _discharge(1, 1, 10.0),
        _admission(1, 1, 10.0),
        _discharge(2, 1, 10.0),
        _admission(2, 1, 10.5),
    ):
        reg.append(**row)
    r = reg.view()
    assert readmitted(r, np.array([0, 2]), 30 * H).tolist() == [False, True]


def test_readmissions_need_thirty_days_of_follow_up_in_the_window():
    logs = make_logs(20, routes=[_discharge(1, 1, 100.0), _admission(1, 1, 150.0)])
    table = run_tables(logs)["kpis"]
    assert column(table, "readmissions_30d_pct") == [None]
    assert b"follow-up" in table.schema.field("readmissions_30d_pct").metadata[b"null_when"]


# -- occupancy -------------------------------------------------------------------------------


def test_occupancy_of_a_pool_with_no_places_is_null_not_nan():
    logs = make_logs(2, capacity={"acute_north": 10, "acute_central": 10, "acute_south": 10})
    tables = run_tables(logs)
    occ = tables["occupancy"]
    care_home = occ.filter(pc.equal(occ.column("pool"), "care_home"))
    assert column(care_home, "capacity") == [0.0, 0.0]
    assert column(care_home, "occupancy") == [None, None]
    assert column(care_home, "site") == [None, None]
    assert column(tables["kpis"], "care_home_occupancy_mean") == [None]
    assert tables["occupancy"].schema.field("occupancy").metadata[b"null_when"]


def test_a_capacity_cut_shows_as_overfull_beds_not_only_as_occupancy_above_one():
    """North has 10 beds on day 0 and 5 from day 1 with 10 patients still in them (a cut
    evicts no one); they leave one a day."""
    days = 4
    north_beds = np.array([10, 5, 5, 5])
    in_use_at_midnight = np.array([10, 10, 9, 8, 7])
    logs = make_logs(
        days,
        capacity={"acute_north": north_beds, "acute_central": 20, "acute_south": 0},
        occupied_hours={"acute_north": np.array([10, 9.5, 8.5, 7.5]) * H, "acute_central": 10 * H},
        state_occupied={"acute_north": in_use_at_midnight, "acute_central": 10},
    )
    tables = run_tables(logs)
    occ = tables["occupancy"]
    north = occ.filter(pc.equal(occ.column("site"), "north"))
    assert column(north, "capacity") == [10.0, 5.0, 5.0, 5.0]
    assert column(north, "overfull") == [0, 5, 4, 3]
    assert column(north, "occupancy") == pytest.approx([1.0, 1.9, 1.7, 1.5])
    south = occ.filter(pc.equal(occ.column("site"), "south"))
    assert column(south, "occupancy") == [None] * days
    daily = tables["daily"]
    assert column(daily, "acute_overfull_beds") == [0, 5, 4, 3]
    assert column(daily, "acute_beds") == [30.0, 25.0, 25.0, 25.0]
    assert column(tables["kpis"], "acute_overfull_bed_days") == [12]
    assert column(tables["kpis"], "acute_occupancy_mean") == pytest.approx([(20 + 19.5 + 18.5 + 17.5) / 105])


# -- delays and spend --------------------------------------------------------------------


def test_delays_split_between_assessment_and_the_wait_for_the_place():
    """A P2 patient fit at 10 h, assessed by 20 h, leaves the bed at 34 h; a P3 patient
    waiting for a jointly funded nursing home is fit at 30 h and assessed by 36 h. The footprint charges
    both parts of a community-bed wait to the NHS ("further non-acute NHS care" after the
    assessment), and a nursing home's assessment and wait to both NHS and social care."""
    admitted = dict(origin=Origin.AE_ADMISSION, bed_start_h=0.0)
    p2 = dict(admitted, site=0, pathway=2, fit_h=10.0, onward_request_h=20.0, service_kind=0)
    p3 = dict(admitted, site=1, pathway=3, fit_h=30.0, onward_request_h=36.0, service_kind=2)
    logs = make_logs(2, routes=[{**p2, "bed_end_h": 34.0}, p3])
    delays = run_tables(logs)["delays"].to_pylist()
    beds = {
        (r["date"].day, r["pathway"], r["reason"], r["responsible_organisation"]): r["beds"] for r in delays
    }
    assert beds[(1, "P2", "completion_of_assessment", "nhs")] == pytest.approx(10 / 24)  # 10-20 h
    assert beds[(1, "P2", "further_non_acute_nhs_care", "nhs")] == pytest.approx(4 / 24)  # 20-24 h
    assert beds[(2, "P2", "further_non_acute_nhs_care", "nhs")] == pytest.approx(10 / 24)
    assert beds[(2, "P3", "completion_of_assessment", "both")] == pytest.approx(6 / 24)  # 30-36 h
    assert beds[(2, "P3", "nursing_home", "both")] == pytest.approx(12 / 24)  # waiting for a place, to 48 h
    assert beds[(2, "P3", "residential_home", "social_care")] == 0.0
    assert len(delays) == 2 * len(delay_categories(logs.config))
    k = kpis(logs)
    assert k["dtoc_beds_p2_mean"] == pytest.approx(24 / 24 / 2)
    assert k["dtoc_beds_both_mean"] == pytest.approx(18 / 24 / 2)
    assert k["dtoc_beds_nhs_mean"] == pytest.approx(24 / 24 / 2)
    assert k["dtoc_beds_nursing_home_mean"] == pytest.approx(12 / 24 / 2)
    assert k["dtoc_beds_completion_of_assessment_mean"] == pytest.approx(16 / 24 / 2)
    assert k["dtoc_beds_housing_mean"] == 0.0  # a reason the model does not represent


def test_spend_rows_add_up_to_each_organisation_and_the_system():
    lever = {
        "kind": "running_cost",
        "name": "new team",
        "payer": "community_provider",
        "annual_cost": 3650.0,
        "start_day": 1,
    }
    logs = make_logs(
        3,
        attendances=[
            dict(arrival_h=t, departure_h=t + 1, arrival=Arrival.AMBULANCE) for t in (1.0, 2.0, 30.0)
        ],
        interventions=[lever],
    )
    tables = run_tables(logs)
    spend = tables["spend"].to_pandas()
    costs = logs.config.costs
    # The ambulance service: its fixed cost every day, a conveyance's variable cost on top.
    ambulance = spend[spend.organisation == "ambulance_trust"].groupby("date").pounds.sum().tolist()
    fixed = costs.ambulance_conveyance.fixed_per_1000_people_a_day * logs.config.population.size / 1000
    per_conveyance = costs.ambulance_conveyance.unit_cost
    assert ambulance == pytest.approx([fixed + 2 * per_conveyance, fixed + per_conveyance, fixed])
    team = spend[spend.intervention == "new team"]
    assert team.item.unique().tolist() == ["running_cost"]
    assert team.pounds.tolist() == pytest.approx([0.0, 10.0, 10.0])
    assert column(tables["daily"], "spend_total") == pytest.approx(
        spend.groupby("date").pounds.sum().tolist()
    )
    k = kpis(logs)
    assert k["spend_community_provider"] == pytest.approx(20.0)
    assert k["spend_total"] == pytest.approx(spend.pounds.sum())


# -- types and metadata ----------------------------------------------------------------------


def _busy_logs() -> RunLogs:
    routes = [
        _discharge(1, 4, 30.0),
        {**_admission(2, 5, 40.0, origin=Origin.ELECTIVE), "bed_end_h": 60.0, "fit_h": 50.0, "pathway": 1},
        {**_admission(3, 5, 41.0, origin=Origin.ELECTIVE, reached_bed=False), "lost": True},
        _admission(4, 2, 3.0),
    ]
    return make_logs(
        3,
        warmup=1,
        attendances=[
            dict(
                person_id=4,
                arrival_h=1.0,
                decision_h=2.0,
                departure_h=4.0,
                admitted=True,
                handle=3,
                arrival=Arrival.WALK_IN,
            ),
            dict(person_id=5, arrival_h=50.0, departure_h=51.0, arrival=Arrival.AMBULANCE),
        ],
        routes=routes,
        capacity={"acute_north": 10, "acute_central": 10, "acute_south": 10, "care_home": 5},
        cancellations_h=[41.0 + 4],
    )


def test_counts_are_integers_and_conservation_is_a_flag():
    tables = run_tables(_busy_logs(), episodes=True)
    for name, table in tables.items():
        for measure in TABLES[name]:
            typ = table.schema.field(measure.name).type
            if measure.kind == "count":
                assert typ == pa.int64(), (name, measure.name)
            if measure.kind == "flag":
                assert typ == pa.bool_(), (name, measure.name)
    assert column(tables["kpis"], "conservation_ok") == [True]
    assert column(tables["kpis"], "elective_cancellations") == [1]
    failed = run_tables(make_logs(1, failures=["day 0: deaths and newcomers do not balance"]))
    assert column(failed["kpis"], "conservation_ok") == [False]


def test_every_column_of_every_table_carries_its_label_unit_scale_and_direction():
    tables = run_tables(_busy_logs(), episodes=True)
    assert set(tables) == set(TABLES)
    for name, table in tables.items():
        assert table.column_names == [m.name for m in TABLES[name]]
        for field in table.schema:
            meta = field.metadata
            for key in (b"label", b"unit", b"scale", b"better", b"kind", b"description"):
                assert meta and meta.get(key), (name, field.name, key)
            col = table.column(field.name)
            if col.null_count:
                assert b"null_when" in meta, (name, field.name)
            if pa.types.is_floating(field.type):
                assert not pc.any(pc.is_nan(col)).as_py(), (name, field.name)


def test_episodes_have_their_date_and_warmup_flag():
    episodes = run_tables(_busy_logs(), episodes=True)["episodes"].to_pylist()
    first = {(e["route"], e["person_id"]): e for e in episodes}
    walk_in = first[("walk_in", 4)]
    assert str(walk_in["date"]) == "2016-04-01" and walk_in["warmup"] and walk_in["admitted"]
    assert walk_in["bed_request_h"] == 3.0
    elective = first[("elective", 2)]
    assert str(elective["date"]) == "2016-04-02" and not elective["warmup"]
    assert elective["delayed_hours"] == 10.0 and elective["pathway"] == "P1"
    cancelled = first[("elective", 3)]
    assert not cancelled["admitted"] and cancelled["bed_start_h"] is None
    assert len(episodes) == 4  # two A&E attendances and two electives, no pre-filled stay


# -- the registry --------------------------------------------------------------------------


def test_one_convention_for_proportions():
    for measures in TABLES.values():
        for m in measures:
            if m.name.endswith("_pct"):
                assert m.kind == "proportion" and m.scale == PERCENT and m.unit == "%", m.name
            elif m.kind == "proportion":
                assert m.scale == FRACTION, m.name


def test_headline_kpis_are_labelled_and_formatted_from_the_registry():
    assert set(HEADLINE_KPIS) <= {m.name for m in TABLES["kpis"]}
    assert kpi("acute_occupancy_mean").format(0.9512) == "95.1%"
    assert kpi("ae_4h_pct").format(87.25) == "87.2%"
    assert kpi("spend_total").format(1234567.4) == "£1,234,567"
    assert kpi("emergency_admissions_per_1000").format(101.256) == "101.26"
    assert kpi("ae_4h_pct").format(None) == kpi("ae_4h_pct").format(math.nan) == "–"


def test_run_logs_refuse_pool_figures_of_the_wrong_shape():
    logs = make_logs(2)
    with pytest.raises(ValueError, match=r"pool_state\['capacity'\] must have shape \(3, 9\)"):
        RunLogs(**{**logs.__dict__, "pool_state": {k: v[:-1] for k, v in logs.pool_state.items()}})
    with pytest.raises(ValueError, match="census"):
        RunLogs(**{**logs.__dict__, "census": {k: v[:1] for k, v in logs.census.items()}})


def test_the_kpi_reference_is_up_to_date():
    """docs/kpis.md is generated from the registry: `python -m flowsim.metrics.reference docs/kpis.md`."""
    assert (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8") == reference_markdown()


def test_a_table_refuses_a_missing_value_its_metadata_does_not_explain():
    columns = {m.name: np.array([1.0]) for m in TABLES["delays"]}
    columns.update(
        date=np.array(["2016-04-01"], dtype="datetime64[D]"), pathway=np.array(["P1"], dtype=object)
    )
    columns["responsible_organisation"] = np.array(["nhs"], dtype=object)
    columns["reason"] = np.array(["housing"], dtype=object)
    assert to_table("delays", columns).num_rows == 1
    with pytest.raises(ValueError, match=r"delays\.beds: a missing value"):
        to_table("delays", {**columns, "beds": np.array([np.nan])})
    with pytest.raises(ValueError, match="not a whole number"):
        to_table("daily", {m.name: np.array([0.5]) for m in TABLES["daily"]})
