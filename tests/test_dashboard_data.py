"""The dashboard's data layer: what it reads from a results folder, what it refuses, and
the numbers behind its charts.

Most tests read one folder of real short runs (`dashboard_results`, two scenarios by two
replications) or a copy of it that they damage; sweep and payment tables, which other
features write, are added by hand in the layout those features use.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

pytest.importorskip("dash")

from flowsim.dashboard import summaries as sm  # noqa: E402
from flowsim.dashboard.board_paper import board_paper_html  # noqa: E402
from flowsim.dashboard.data import check_results_folder, load_results, read_results, swept_parameters  # noqa: E402
from flowsim.dashboard.headline import TILE_KPIS, comparison_for, ranking, split_targets, tiles  # noqa: E402
from flowsim.results import ResultsError, RunOutput, write_failure, write_run  # noqa: E402

pytestmark = pytest.mark.unit


@pytest.fixture
def damaged(dashboard_results: Path, tmp_path: Path) -> Path:
    """A copy of the results whose kpis file of small_beds_cut replication 1 has a byte
    changed (same size: only its sha256 tells), and with a failed run recorded."""
    root = Path(shutil.copytree(dashboard_results, tmp_path / "results"))
    part = root / "kpis/scenario=small_beds_cut/replication=1/part-0.parquet"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    write_failure(root, "small", 7, "Traceback (most recent call last):\nRuntimeError: boom\n")
    return root


def test_every_table_of_complete_runs_is_read(dashboard_results: Path) -> None:
    results = read_results(dashboard_results)
    assert results.problems == []
    assert set(results.tables) == {"kpis", "daily", "occupancy", "delays", "spend", "flows", "finance"}
    assert results.scenarios == ["small", "small_beds_cut"]
    assert [results.replications(s) for s in results.scenarios] == [2, 2]
    assert results.sites == ["central", "north", "south"]
    assert all(r.complete for r in results.runs) and len(results.runs) == 4
    assert set(sm.PAYMENT_COLUMNS) <= set(results.table("flows").columns)  # what the money page reads


def test_a_damaged_file_is_named_and_the_rest_still_shown(damaged: Path) -> None:
    results = read_results(damaged)
    kpis = results.table("kpis")
    assert kpis is not None
    shown = sorted(zip(kpis["scenario"], kpis["replication"], strict=True))
    assert shown == [("small", 0), ("small", 1), ("small_beds_cut", 0)]
    text = "\n".join(results.problems)
    assert "kpis/scenario=small_beds_cut/replication=1/part-0.parquet" in text and "damaged" in text
    assert re.search(r"scenario 'small' replication 7: the run failed", text)
    assert "Traceback" not in text  # named, never shown as a traceback
    # Other tables of the damaged run are intact and still read.
    assert len(results.table("daily").groupby(["scenario", "replication"])) == 4


def test_a_truncated_file_makes_its_run_incomplete(dashboard_results: Path, tmp_path: Path) -> None:
    root = Path(shutil.copytree(dashboard_results, tmp_path / "results"))
    part = root / "daily/scenario=small/replication=0/part-0.parquet"
    part.write_bytes(part.read_bytes()[:100])
    results = read_results(root)
    run = next(r for r in results.runs if (r.scenario, r.replication) == ("small", 0))
    assert not run.complete and "daily" in (run.problem or "")
    assert len(results.table("daily").groupby(["scenario", "replication"])) == 3
    assert any("daily" in p and "small" in p for p in results.problems)


def test_an_empty_results_folder_says_so(tmp_path: Path) -> None:
    from flowsim.results import claim_results_folder

    root = claim_results_folder(tmp_path / "empty")
    results = read_results(root)
    assert results.tables == {} and results.scenarios == []
    assert results.problems == [f"{root}: no complete run yet (run `flowsim run CONFIG --out {root}`)"]


@pytest.mark.parametrize("make", ["missing", "file", "foreign"])
def test_a_folder_that_is_not_results_is_one_line(tmp_path: Path, make: str) -> None:
    path = tmp_path / "x"
    if make == "file":
        path.write_text("hello")
    elif make == "foreign":
        path.mkdir()
        (path / "notes.txt").write_text("mine")
    with pytest.raises(ResultsError) as caught:
        check_results_folder(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_the_cache_reads_again_when_a_run_changes(dashboard_results: Path, tmp_path: Path) -> None:
    root = Path(shutil.copytree(dashboard_results, tmp_path / "results"))
    first = load_results(root)
    assert load_results(root) is first  # nothing changed: no second read
    shutil.rmtree(root / "runs/scenario=small_beds_cut/replication=1")
    again = load_results(root)
    assert again is not first and again.replications("small_beds_cut") == 1


def test_bands_span_the_replications(dashboard_results: Path) -> None:
    daily = read_results(dashboard_results).table("daily")
    bands = sm.band(daily, "ae_boarders_mean")
    day = bands.iloc[5]
    values = daily[(daily["scenario"] == day["scenario"]) & (daily["date"] == day["date"])][
        "ae_boarders_mean"
    ]
    assert (day["low"], day["mean"], day["high"], day["n"]) == pytest.approx(
        (values.min(), values.mean(), values.max(), 2)
    )


def test_site_occupancy_sums_the_wards_of_a_site(dashboard_results: Path) -> None:
    occupancy = read_results(dashboard_results).table("occupancy")
    system = sm.site_occupancy(occupancy)
    daily = read_results(dashboard_results).table("daily")
    merged = system.merge(daily, on=["scenario", "replication", "date"])
    # The system's occupancy is the daily table's, bed-day for bed-day.
    assert np.allclose(merged["occupancy"], merged["acute_occupancy"])
    north = sm.site_occupancy(occupancy, "north")
    assert len(north) == len(system) and not np.allclose(north["occupancy"], system["occupancy"])


def test_patient_flows_add_up(dashboard_results: Path) -> None:
    results = read_results(dashboard_results)
    kpis = results.table("kpis")
    flows = sm.patient_flows(kpis, results.table("daily"))
    row = flows.iloc[0]
    k = kpis.iloc[0]
    out_of_ae = sum(
        row[f"A&E attendances → {t}"]
        for t in ("Home from A&E", "Admission avoided (virtual ward)", "Admitted to an acute bed")
    )
    assert out_of_ae == pytest.approx(k["ae_attendances"])
    into_bed = sum(row[c] for c in flows.columns if c.endswith("→ Admitted to an acute bed"))
    assert into_bed == pytest.approx(k["emergency_admissions"] + k["elective_admissions"])
    pathways = sum(
        row[f"Admitted to an acute bed → {p}"]
        for p in ("P0: home, no new support", "P1: home with support", "P2: community bed", "P3: care home")
    )
    assert pathways == pytest.approx(k["acute_discharges"] - k["deaths_in_hospital"])
    changes = sm.flow_differences(flows, "small_beds_cut", "small")
    assert set(changes["n"]) == {2}


def test_tiles_and_ranking_use_compares_statistics(dashboard_results: Path) -> None:
    kpis = read_results(dashboard_results).table("kpis")
    c = comparison_for(kpis, None, split_targets("acute_occupancy_mean<=92%; spend_total<=baseline"))
    assert c.baseline == "small"  # compare's rule: no scenario named baseline, so the first
    shown = tiles(c, "small_beds_cut")
    assert [t.kpi for t in shown] == list(TILE_KPIS)
    beds = next(r for r in c.rows if r.kpi == "acute_occupancy_mean" and r.scenario == "small_beds_cut")
    tile = next(t for t in shown if t.kpi == "acute_occupancy_mean")
    assert tile.verdict == beds.verdict and tile.label == "Acute bed occupancy, average"
    assert any(t.startswith("Target Acute bed occupancy, average ≤ 92.0%: met in") for t in tile.targets)
    assert all(t.verdict == "this is the baseline" for t in tiles(c, "small"))
    rank = ranking(c)
    assert list(rank["Scenario"]) == ["small_beds_cut"] and list(rank["Rank"]) == [1]


def _write(root: Path, scenario: str, replication: int, tables: dict[str, pa.Table]) -> None:
    from pydantic import BaseModel, ConfigDict

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        name: str

    meta = {"seed": 1, "spawn_key": [replication], "replication": replication, "scenario": scenario}
    write_run(root, RunOutput(tables=tables, meta=meta), Config(name=scenario), 0.0)


def test_a_sweep_is_recognised_by_parameter_columns_and_ranked(tmp_path: Path) -> None:
    """Parameters beside the KPIs (columns the registry does not know): the sweeps page's
    curve and ranking find the parameter that drives the KPI."""
    rng = np.random.default_rng(3)
    root = tmp_path / "sweep"
    for sample in range(12):
        beds, reablement = 0.8 + 0.04 * (sample % 6), 1.0 + 0.1 * (sample // 6)
        occupancy = 0.95 - 0.3 * (beds - 0.8) - 0.01 * reablement + rng.normal(0, 0.002)
        kpis = pa.table(
            {
                "acute_occupancy_mean": [occupancy],
                "acute.beds_scale": [beds],
                "reablement.capacity_scale": [reablement],
            }
        )
        _write(root, f"sample-{sample}", 0, {"kpis": kpis})
    frame, params = swept_parameters(read_results(root))
    assert params == ["acute.beds_scale", "reablement.capacity_scale"]
    ranked = sm.sensitivity(frame, "acute_occupancy_mean", params)
    assert list(ranked["parameter"]) == params and ranked["coefficient"].iloc[0] < 0
    curve = sm.sweep_curve(frame, "acute_occupancy_mean", "acute.beds_scale")
    assert len(curve) == 6 and curve["mean"].is_monotonic_decreasing and set(curve["n"]) == {2}


def test_a_sweep_is_recognised_by_its_samples_table(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    for sample in range(4):
        _write(root, f"s{sample}", 0, {"kpis": pa.table({"ae_4h_pct": [90.0 + sample]})})
    pd.DataFrame(
        {
            "scenario": [f"s{i}" for i in range(4)],
            "sample": range(4),
            "acute.beds_scale": [0.8, 0.9, 1.0, 1.1],
        }
    ).to_parquet(root / "samples.parquet")
    frame, params = swept_parameters(read_results(root))
    assert params == ["acute.beds_scale"]
    assert list(frame.sort_values("scenario")["acute.beds_scale"]) == [0.8, 0.9, 1.0, 1.1]


def test_a_folder_of_scenarios_is_not_a_sweep(dashboard_results: Path) -> None:
    assert swept_parameters(read_results(dashboard_results)) == (None, [])


def test_a_plans_values_drawn_per_replication_are_not_swept_parameters(tmp_path: Path) -> None:
    """An uncertain plan records its draws as draw.* columns of kpis: still not a sweep."""
    root = tmp_path / "plan"
    for rep in range(3):
        kpis = pa.table({"acute_occupancy_mean": [0.9 + rep / 100], "draw.cut.relative_change": [-0.1 * rep]})
        _write(root, "plan", rep, {"kpis": kpis})
    assert swept_parameters(read_results(root)) == (None, [])


def test_income_and_surplus_from_payments(tmp_path: Path) -> None:
    """A flows table (one row per payment per day): income is what the payee receives,
    surplus income minus the spend the organisation bears."""
    day = dt.date(2016, 4, 1)
    spend = pa.table(
        {
            "date": [day, day],
            "organisation": ["acute_trust", "ccg"],
            "item": ["x", "y"],
            "pounds": [100.0, 5.0],
        }
    )
    flows = pa.table(
        {
            "date": [day],
            "payer": ["ccg"],
            "payee": ["acute_trust"],
            "rule": ["tariff"],
            "item": ["x"],
            "pounds": [120.0],
        }
    )
    root = tmp_path / "money"
    _write(root, "base", 0, {"kpis": pa.table({"spend_total": [105.0]}), "spend": spend, "flows": flows})
    results = read_results(root)
    money = sm.cost_and_income(results.table("spend"), results.table("flows")).set_index("organisation")
    assert money.loc["acute_trust", ["cost", "income", "surplus"]].tolist() == [100.0, 120.0, 20.0]
    assert money.loc["ccg", ["cost", "income", "surplus"]].tolist() == [5.0, 0.0, -5.0]


def test_surplus_is_the_runs_own_accounts_where_it_kept_them(dashboard_results: Path) -> None:
    """A commissioner's surplus counts the budget it is given and what it pays out, as the
    run's finance table does; the organisations' surpluses add up to budgets less costs."""
    results = read_results(dashboard_results)
    finance = results.measured("finance")
    money = sm.cost_and_income(results.measured("spend"), results.measured("flows"), finance)
    run = money[(money["scenario"] == "small") & (money["replication"] == 0)].set_index("organisation")
    own = finance[(finance["scenario"] == "small") & (finance["replication"] == 0)]
    assert run.loc["ccg", "surplus"] == pytest.approx(own.loc[own["organisation"] == "ccg", "surplus"].sum())
    assert run.loc["ccg", "allocation"] > 0 and run.loc["ccg", "payments"] > 0
    assert run["surplus"].sum() == pytest.approx(run["allocation"].sum() - run["cost"].sum(), rel=1e-9)


def test_the_board_paper_is_one_self_contained_file(dashboard_results: Path) -> None:
    results = read_results(dashboard_results)
    c = comparison_for(results.table("kpis"), None, ["acute_occupancy_mean<=92%"])
    text = board_paper_html(results, c, "small_beds_cut", today=dt.date(2026, 12, 3))
    assert text.startswith("<!DOCTYPE html>") and "03 December 2026" in text
    assert '<table class="comparison">' in text and "Acute bed occupancy, average" in text
    assert "Chance of meeting the targets" in text and "Acute bed occupancy, average ≤ 92.0%: met in" in text
    assert text.count("data:image/png;base64,") == 3
    assert "flowsim reproduce " in text and "Assumptions" in text
    # Self-contained: nothing fetched from elsewhere.
    assert not re.search(r"""(src|href)=["']https?:""", text)
