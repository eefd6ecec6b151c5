"""A five-year plan's levers: uncertain effect sizes, site consolidation, demographic change,
the social-care budget, and several scenarios run in one command.

Effects are checked with paired seeds (the same replication with and without the lever).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from flowsim.budget import care_capacity_factors, purchase_price_factors
from flowsim.catchment import Catchment
from flowsim.cli import app
from flowsim.config import load_config
from flowsim.config.loader import ConfigError
from flowsim.config.schema import Draw
from flowsim.experiment import run_replications
from flowsim.metrics.tables import run_tables
from flowsim.model import WholeSystemModel, simulate
from flowsim.pools import Pools
from flowsim.uncertainty import quantile, resolve
from flowsim.vocabulary import AGE_BANDS, Arrival

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SMALL = CONFIGS / "small.yaml"

UNSURE_CUT = {
    "kind": "capacity",
    "name": "beds cut",
    "pool": "acute",
    "relative_change": {"distribution": "uniform", "low": -0.15, "high": -0.05},
    "start_day": {"distribution": "triangular", "low": 2, "mode": 4, "high": 9},
}
SOUTH_INTO_CENTRAL = {
    "kind": "consolidation",
    "name": "south into central",
    "closing_site": "south",
    "receiving_sites": {"central": 1.0},
    "start_day": 10,
    "extra_travel_minutes": 20.0,
}


def small(overrides=None, interventions=()):
    return load_config(SMALL, {**(overrides or {}), "interventions": list(interventions)})


# --- uncertain effect sizes -------------------------------------------------------------


@pytest.mark.unit
def test_each_replication_draws_its_own_values_and_draws_them_again_on_a_rerun():
    config = small(interventions=[UNSURE_CUT])
    drawn = [resolve(config, r)[1] for r in range(6)]
    assert drawn == [resolve(config, r)[1] for r in range(6)]  # reproducible
    cuts = [d["draw.beds cut.relative_change"] for d in drawn]
    starts = [d["draw.beds cut.start_day"] for d in drawn]
    assert len(set(cuts)) == 6 and all(-0.15 <= c <= -0.05 for c in cuts)
    assert all(2 <= s <= 9 and s == int(s) for s in starts)
    resolved = resolve(config, 0)[0].interventions[0]
    assert resolved.relative_change == cuts[0] and resolved.start_day == int(starts[0])
    assert isinstance(resolved.start_day, int)
    assert resolve(small(), 0) == (small(), {})  # nothing uncertain: the config as it is


@pytest.mark.unit
def test_distributions_stay_within_their_bounds_and_centre_where_they_should():
    u = np.linspace(0.0, 1.0, 1001)
    for spec, centre in (
        ({"distribution": "uniform", "low": -1.0, "high": 1.0}, 0.0),
        ({"distribution": "triangular", "low": 0.0, "mode": 0.0, "high": 1.0}, 1 - np.sqrt(0.5)),
        ({"distribution": "normal", "low": -0.5, "high": 2.0, "mean": 0.0, "sd": 1.0}, None),
    ):
        draw = Draw.model_validate(spec)
        values = np.array([quantile(draw, x) for x in u])
        assert values.min() >= spec["low"] and values.max() <= spec["high"]
        assert np.all(np.diff(values) >= 0)
        if centre is not None:
            assert quantile(draw, 0.5) == pytest.approx(centre)
    normal = Draw.model_validate({"distribution": "normal", "low": -5, "high": 5, "mean": 0.0, "sd": 1.0})
    assert quantile(normal, 0.8413447) == pytest.approx(1.0, abs=1e-4)  # truncation far out: a normal


@pytest.mark.unit
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"distribution": "uniform", "low": 0.1, "high": -0.1}, "relative_change.high: must be above low"),
        ({"distribution": "triangular", "low": -0.1, "high": 0.1}, "a triangular distribution needs mode"),
        ({"distribution": "triangular", "low": -0.1, "high": 0.1, "mode": 0.3}, "0.3 is outside [low, high]"),
        ({"distribution": "normal", "low": -0.1, "high": 0.1, "mean": 0.0}, "needs mean and sd"),
        ({"distribution": "beta", "low": -0.1, "high": 0.1}, "relative_change.distribution"),
        ({"distribution": "uniform", "low": -2, "high": 0.1}, "low (-2) is not a valid value here"),
        ({"distribution": "uniform", "low": -0.1, "high": 0.1, "mode": 0.0}, "not a parameter of a uniform"),
        ({"distribution": "uniform", "low": -0.1}, "relative_change.high: required key is missing"),
    ],
)
def test_a_bad_distribution_is_one_line_naming_the_field(value, expected):
    lever = {**UNSURE_CUT, "relative_change": value}
    with pytest.raises(ConfigError) as caught:
        small(interventions=[lever])
    message = str(caught.value)
    assert "\n" not in message and "interventions[0].relative_change" in message
    assert expected in message


@pytest.mark.unit
def test_a_day_drawn_must_have_whole_day_bounds():
    lever = {**UNSURE_CUT, "start_day": {"distribution": "uniform", "low": 2, "high": 9.5}}
    with pytest.raises(ConfigError, match=r"start_day: high \(9.5\) is not a valid value here"):
        small(interventions=[lever])


@pytest.mark.integration
def test_values_drawn_are_recorded_in_kpis_and_manifest(tmp_path):
    config = small({"run.warmup_days": 1, "run.horizon_days": 2, "run.replications": 2}, [UNSURE_CUT])
    folders = run_replications(config, out_dir=tmp_path)
    import pandas as pd

    kpis = pd.read_parquet(tmp_path / "kpis").sort_values("replication")
    column = "draw.beds cut.relative_change"
    assert kpis[column].nunique() == 2
    for folder, (_, row) in zip(folders, kpis.iterrows(), strict=True):
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["meta"]["draws"][column] == row[column]
        assert manifest["config"]["interventions"][0]["relative_change"]["distribution"] == "uniform"


# --- site consolidation -----------------------------------------------------------------


@pytest.mark.unit
def test_a_consolidation_moves_the_closing_sites_beds_into_the_receiving_sites_ward_groups():
    lever = {**SOUTH_INTO_CENTRAL, "transition_days": 5, "transition_beds_unavailable_share": 0.1}
    config = small(interventions=[lever])
    pools = Pools.from_config(config)
    capacity = np.array(pools.capacities, dtype=float)
    before = {s: sum(capacity[p] for p in pools.group_pools(i)) for i, s in enumerate(pools.sites)}
    at: dict[int, np.ndarray] = {}
    for t, pool, value in pools.capacity_schedule(config):
        capacity[pool] = value
        at[int(t // 24)] = capacity.copy()
    south, central = pools.sites.index("south"), pools.sites.index("central")

    def beds(day, site):
        return sum(at[day][p] for p in pools.group_pools(site))

    assert beds(10, south) == 0
    assert beds(15, central) == before["central"] + before["south"]  # one bigger pool, same total
    assert beds(10, central) == pytest.approx(0.9 * beds(15, central), abs=len(pools.groups))  # transition
    for g in range(len(pools.groups)):  # each ward group keeps its own beds
        assert (
            at[15][pools.acute(central, g)]
            == pools.capacities[pools.acute(central, g)] + pools.capacities[pools.acute(south, g)]
        )


@pytest.mark.unit
def test_the_closing_sites_practices_join_the_receiving_sites_and_travel_further():
    practice = np.arange(20) % 10
    catchment = Catchment([0.5, 0.3, 0.2], practices=10, practice_of_person=practice)
    closing = catchment.site_of_practice == 2
    catchment.reassign(2, [(0, 0.5), (1, 0.5)], extra_travel_h=0.25)
    assert not np.any(catchment.site_of_practice == 2)
    assert sorted(catchment.site_of_practice[closing]) == [0, 1]
    assert np.all(catchment.travel_hours(np.arange(20)) == np.where(closing[practice], 0.25, 0.0))


def test_the_order_receiving_sites_are_written_in_does_not_change_the_run():
    """The manifest holds a config as canonical JSON (keys sorted), so a consolidation's
    receiving sites are taken in name order whatever order the YAML wrote them in."""
    split = {"kind": "consolidation", "name": "south split", "closing_site": "south", "start_day": 5}
    one = small(interventions=[{**split, "receiving_sites": {"north": 0.4, "central": 0.6}}])
    two = small(interventions=[{**split, "receiving_sites": {"central": 0.6, "north": 0.4}}])
    assert list(one.interventions[0].receiving_sites) == ["central", "north"]
    assert one.model_dump_json() == two.model_dump_json()


@pytest.mark.unit
def test_a_consolidation_names_sites_that_exist_and_closes_each_once():
    with pytest.raises(ConfigError, match=r"receiving_sites: unknown site 'west'"):
        small(interventions=[{**SOUTH_INTO_CENTRAL, "receiving_sites": {"west": 1.0}}])
    with pytest.raises(ConfigError, match="cannot receive its own beds"):
        small(interventions=[{**SOUTH_INTO_CENTRAL, "receiving_sites": {"south": 1.0}}])
    with pytest.raises(ConfigError, match="shares must sum to 1"):
        small(interventions=[{**SOUTH_INTO_CENTRAL, "receiving_sites": {"central": 0.5, "north": 0.4}}])
    again = {
        **SOUTH_INTO_CENTRAL,
        "name": "again",
        "closing_site": "central",
        "receiving_sites": {"north": 1.0},
    }
    with pytest.raises(ConfigError, match="already closes or receives"):
        small(interventions=[SOUTH_INTO_CENTRAL, again])


@pytest.mark.integration
@pytest.mark.slow
def test_pooling_three_sites_into_two_at_the_same_beds_fills_the_receiver_and_shortens_bed_waits():
    # The beds alone: small.yaml's 7 majors cubicles (2-3 a site) would gate arrivals more
    # than the beds do, and the handover is not what pooling is about.
    overrides = {"run.warmup_days": 20, "run.horizon_days": 40, "emergency.majors_cubicles": None}
    runs = {}
    for label, levers in (("three", []), ("two", [SOUTH_INTO_CENTRAL])):
        model = WholeSystemModel(small(overrides, levers), 0)
        model.run()
        runs[label] = (model, run_tables(model.recorder.logs()))
    kpis = {label: tables["kpis"].to_pandas().iloc[0] for label, (_, tables) in runs.items()}
    occupancy = {label: tables["occupancy"].to_pandas() for label, (_, tables) in runs.items()}

    def occupied(label, site):
        o = occupancy[label]
        o = o[o.date >= o.date.min() + np.timedelta64(20, "D")]
        return o[o.site == site].groupby("date").occupied.sum().mean()

    assert occupied("two", "central") > 1.5 * occupied("three", "central")
    assert kpis["two"].acute_beds_mean == pytest.approx(kpis["three"].acute_beds_mean, abs=1.0)
    # A bigger pool at the same total beds runs fuller and yet makes fewer patients wait.
    assert kpis["two"].acute_occupancy_mean > kpis["three"].acute_occupancy_mean
    assert kpis["two"].ae_dta_over_4h_share < kpis["three"].ae_dta_over_4h_share
    model = runs["two"][0]
    log = model.emergency.log.view()
    closed = model.pools.sites.index("south")
    home = np.searchsorted(np.cumsum([0.40, 0.35, 0.25]), (model.population.practice + 0.5) / 15)
    same = model.population.person_id[log["person"]] == log["person_id"]  # slot not yet reused
    from_south = (home[log["person"]] == closed) & same
    ambulance = log["arrival"] == Arrival.AMBULANCE
    after = log["arrival_h"] >= 10 * 24.0 + 20 / 60
    assert np.all(log["travel_h"][from_south & ambulance & after] == pytest.approx(20 / 60))
    assert np.all(log["travel_h"][same & (~from_south | ~ambulance)] == 0.0)
    assert np.all(log["site"][after & from_south] != closed)
    # Reported: the minutes the closure added to the average ambulance journey in the window.
    window = log["arrival_h"] >= 20 * 24.0
    expected = 60.0 * log["travel_h"][window & ambulance].sum() / np.count_nonzero(window & ambulance)
    assert kpis["three"].ambulance_extra_travel_minutes == 0.0
    assert kpis["two"].ambulance_extra_travel_minutes == pytest.approx(expected)
    assert 0.2 * 20 < kpis["two"].ambulance_extra_travel_minutes < 0.5 * 20  # the south's share


# --- demographic change -----------------------------------------------------------------


@pytest.mark.unit
def test_growth_by_age_band_adds_newcomers_and_moves_people_up_the_bands(population):
    growth = np.array([0.01, 0.01, 0.01, 0.02, 0.05, 0.10])
    counts = np.bincount(population.age_band, minlength=6)
    born = 0
    rng = np.random.default_rng(3)
    for _ in range(365):
        born += population.grow(rng, growth).size
    after = np.bincount(population.age_band, minlength=6)
    assert population.size == 10_000 + born and population.person_id.size == population.size
    assert np.unique(population.person_id).size == population.size
    assert (after - counts)[1:] == pytest.approx(counts[1:] * growth[1:], rel=0.35, abs=15)
    assert after[5] > counts[5] * 1.07  # the 85+ grow by ~10%, by ageing into the band


@pytest.mark.integration
@pytest.mark.slow
def test_growth_raises_the_oldest_and_their_attendances_against_the_same_seed():
    overrides = {"run.warmup_days": 0, "run.horizon_days": 365, "population.size": 10_000}
    # The fastest growth the schema takes, so that the effect stands well clear of chance:
    # a growing population draws everyone's luck afresh, so the pair shares little of it.
    growth = {band: 0.2 for band in AGE_BANDS}
    lever = {"kind": "demography", "name": "fast growth", "growth_per_year": growth}
    runs = {}
    for label, levers in (("still", []), ("growing", [lever])):
        model = WholeSystemModel(small(overrides, levers), 0)
        model.run()
        runs[label] = (model, run_tables(model.recorder.logs())["kpis"].to_pandas().iloc[0])
    oldest = {label: np.count_nonzero(m.population.age_band == 5) for label, (m, _) in runs.items()}
    assert oldest["growing"] > 1.05 * oldest["still"]  # +20% expected
    assert runs["growing"][1].ae_attendances > 1.04 * runs["still"][1].ae_attendances  # +10% expected


@pytest.mark.unit
def test_growth_that_would_outgrow_the_largest_footprint_is_refused():
    lever = {"kind": "demography", "name": "boom", "growth_per_year": {b: 0.2 for b in AGE_BANDS}}
    with pytest.raises(ConfigError, match="growth_per_year: the population could grow to"):
        small({"population.size": 2_900_000}, [lever])


# --- the social-care budget -------------------------------------------------------------


@pytest.mark.unit
def test_places_follow_the_budget_at_their_prices():
    config = small()
    cut = {"kind": "social_care_budget", "name": "cut", "relative_change": -0.1, "start_day": 0}

    def factors(**changes):
        lever = small(interventions=[{**cut, **changes}]).interventions[0]
        return care_capacity_factors(config, lever)

    assert factors() == pytest.approx({"home_care": 0.9, "care_home": 0.9})
    assert factors(relative_change=0.0, home_care_price_change=0.05)["home_care"] == pytest.approx(1 / 1.05)
    home = 680 * 25 * 365  # packages x price a day (payments.purchase.home_care_day) x days
    total = home + 630 * 99 * 365
    assert factors(home_care_share_of_change=1.0) == pytest.approx(
        {"home_care": 1 - 0.1 * total / home, "care_home": 1.0}
    )
    with pytest.raises(ConfigError, match="would take more than the whole home_care budget"):
        small(interventions=[{**cut, "relative_change": -0.5, "home_care_share_of_change": 1.0}])


@pytest.mark.unit
def test_the_council_pays_a_price_rise_on_the_places_it_still_buys():
    """A price rise buys fewer places (capacity / (1 + rise)) and each costs the council the
    new price, ramped in together: its purchase spend stays at its budget, not below it."""
    rise = {"kind": "social_care_budget", "name": "fees", "relative_change": 0.0, "start_day": 10}
    config = small(interventions=[{**rise, "home_care_price_change": 0.05, "ramp_days": 4}])
    factors = purchase_price_factors(config, 20)
    assert factors["home_care_day"][:10] == pytest.approx(1.0)
    assert factors["home_care_day"][10:14] == pytest.approx([1.0125, 1.025, 1.0375, 1.05])
    assert factors["home_care_day"][14:] == pytest.approx(1.05) and factors["care_home_day"] == pytest.approx(
        1.0
    )
    places = care_capacity_factors(config, config.interventions[0])["home_care"]
    assert places * factors["home_care_day"][-1] == pytest.approx(1.0)  # the same pounds


@pytest.mark.integration
@pytest.mark.slow
def test_a_ten_percent_budget_cut_shrinks_care_and_lengthens_p3_delays():
    overrides = {"run.warmup_days": 10, "run.horizon_days": 50}
    cut = {"kind": "social_care_budget", "name": "cut", "relative_change": -0.1, "start_day": 0}
    out = {label: simulate(small(overrides, levers), 0) for label, levers in (("as is", []), ("cut", [cut]))}

    def capacity(label, pool):
        o = out[label].tables["occupancy"].to_pandas()
        return o[o.pool == pool].capacity.mean()

    def p3_delayed_bed_days(label):
        d = out[label].tables["delays"].to_pandas()
        return d[d.pathway == "P3"].beds.sum()

    for pool in ("home_care", "care_home"):
        assert capacity("cut", pool) == pytest.approx(0.9 * capacity("as is", pool), abs=1)
    assert p3_delayed_bed_days("cut") > 1.2 * p3_delayed_bed_days("as is")


# --- several configs in one command ------------------------------------------------------


@pytest.mark.integration
@pytest.mark.slow
def test_several_configs_run_with_the_same_seeds_into_one_folder(tmp_path):
    runner = CliRunner()
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"extends: {SMALL}\nname: plan\nacute:\n  beds_scale: 0.9\n")
    other_seed = tmp_path / "other.yaml"
    other_seed.write_text(f"extends: {SMALL}\nname: other\nrun:\n  seed: 7\n")
    short = ["--horizon-days", "2", "--warmup-days", "1", "--replications", "2", "-q"]
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", str(SMALL), str(plan), *short, "--out", str(out)])
    assert result.exit_code == 0, result.output
    runs = sorted(p.relative_to(out / "runs").as_posix() for p in (out / "runs").glob("*/*"))
    assert runs == [f"scenario={s}/replication={r}" for s in ("plan", "small") for r in (0, 1)]
    seeds = {json.loads((out / "runs" / r / "manifest.json").read_text())["seed"] for r in runs}
    assert len(seeds) == 1
    assert runner.invoke(app, ["compare", str(out), "--format", "csv"]).exit_code == 0
    # Another config under a name the folder holds is refused before anything runs.
    result = runner.invoke(
        app, ["run", str(SMALL), str(plan), *short[2:], "--horizon-days", "3", "--out", str(out)]
    )
    assert result.exit_code == 2 and "already holds runs of another config" in result.stderr
    assert sorted(p.relative_to(out / "runs").as_posix() for p in (out / "runs").glob("*/*")) == runs
    for args, message in (
        ([str(SMALL), str(plan), *short], "several configs need --out"),
        ([str(SMALL), str(other_seed), *short, "--out", str(out)], "different run.seed"),
        ([str(plan), str(plan), *short, "--out", str(out)], "each scenario needs its own name"),
    ):
        result = runner.invoke(app, ["run", *args])
        assert result.exit_code == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.integration
@pytest.mark.slow
def test_a_plan_with_every_new_lever_repeats_bit_for_bit():
    from tests.golden.outputs import table_digests

    growth = {band: 0.1 for band in AGE_BANDS}
    levers = [
        {
            **SOUTH_INTO_CENTRAL,
            "start_day": 4,
            "transition_days": 3,
            "transition_beds_unavailable_share": 0.1,
        },
        {
            "kind": "social_care_budget",
            "name": "cut",
            "relative_change": -0.1,
            "start_day": 2,
            "ramp_days": 4,
        },
        {"kind": "demography", "name": "growth", "growth_per_year": growth},
        UNSURE_CUT,
    ]
    config = small({"run.warmup_days": 2, "run.horizon_days": 8}, levers)
    first, again = (table_digests(simulate(config, 1).tables) for _ in range(2))
    assert first == again
