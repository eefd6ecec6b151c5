"""`flowsim compare`: scenarios beside a baseline, paired by replication, in plain words.

The unit tests write hand-made kpis tables with the real results store, so that the
comparison reads them exactly as it reads a run's; one integration test runs the model.
"""

from __future__ import annotations

import math
import re
import shlex
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import BaseModel, ConfigDict
from typer.testing import CliRunner

from flowsim.cli import app
from flowsim.compare import (
    CompareError,
    Target,
    compare,
    compare_kpis,
    parse_target,
    render_markdown,
    render_text,
    targets_path,
    verdict,
    write_comparison,
)
from flowsim.results import RunOutput, write_run
from flowsim.stats import mean_ci, paired_difference, replications_needed, replications_projected

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()
T_975_3 = 3.182446305284263  # t(0.975, 3 degrees of freedom)


class Config(BaseModel):
    """A stand-in for FlowsimConfig: the store needs a name and something to hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str


Runs = dict[str, dict[int, dict[str, float | None]]]


def write_results(root: Path, runs: Runs) -> Path:
    """One kpis row per scenario and replication, written as `flowsim run` writes them."""
    for scenario, replications in runs.items():
        for replication, values in replications.items():
            kpis = pa.table({name: pa.array([value], pa.float64()) for name, value in values.items()})
            daily = pa.table({"day": pa.array([0], pa.int32())})
            meta = {"seed": 1, "spawn_key": [replication], "replication": replication, "scenario": scenario}
            write_run(
                root, RunOutput(tables={"daily": daily, "kpis": kpis}, meta=meta), Config(name=scenario), 0.0
            )
    return root


def occupancy_runs(base: list[float], shift: list[float], kpi: str = "acute_occupancy_mean") -> Runs:
    return {
        "baseline": {r: {kpi: v} for r, v in enumerate(base)},
        "beds_cut": {r: {kpi: v + d} for r, (v, d) in enumerate(zip(base, shift, strict=True))},
    }


def row(comparison, scenario: str, kpi: str):
    (found,) = [r for r in comparison.rows if r.scenario == scenario and r.kpi == kpi]
    return found


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# --- the paired difference and its verdict ---------------------------------------------


@pytest.mark.unit
def test_a_known_paired_difference_gives_its_interval_and_verdict(tmp_path: Path) -> None:
    """Differences 0.05, 0.06, 0.04, 0.05: mean 0.05, s = √(0.0002 / 3), so the interval is
    0.05 ± t(0.975, 3) · s / 2 = 0.05 ± 0.01299: it excludes zero."""
    base = [0.80, 0.82, 0.84, 0.86]
    root = write_results(tmp_path / "res", occupancy_runs(base, [0.05, 0.06, 0.04, 0.05]))
    c = compare(root, kpis=["acute_occupancy_mean"])
    cut = row(c, "beds_cut", "acute_occupancy_mean")
    d = cut.difference.difference
    half = T_975_3 * math.sqrt(0.0002 / 3) / 2
    assert d.mean == pytest.approx(0.05) and d.half_width == pytest.approx(half, rel=1e-9)
    assert (d.lower, d.upper) == pytest.approx((0.05 - half, 0.05 + half))
    assert (cut.paired, cut.unpaired) == (4, 0)
    assert cut.verdict == "higher than baseline, significant"  # occupancy: neither direction is better
    assert cut.interval.mean == pytest.approx(0.88) and row(
        c, "baseline", "acute_occupancy_mean"
    ).verdict == ("baseline")
    table = c.table().to_pylist()
    assert [(r["scenario"], r["significant"]) for r in table] == [("baseline", None), ("beds_cut", True)]
    assert table[1]["difference_lower"] == pytest.approx(0.05 - half)


@pytest.fixture(scope="module")
def directions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three KPIs, one of each better direction, 5% up in one scenario and down in another."""
    base = {"ae_4h_pct": 80.0, "dtoc_beds_mean": 10.0, "acute_beds_mean": 200.0}
    runs: Runs = {
        scenario: {
            r: {k: v * (1 + 0.02 * r) * (1 + sign * (0.05 + 0.01 * (r % 2))) for k, v in base.items()}
            for r in range(3)
        }
        for scenario, sign in (("baseline", 0), ("down", -1), ("up", +1))
    }
    return write_results(tmp_path_factory.mktemp("directions") / "res", runs)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("kpi", "scenario", "expected"),
    [
        ("ae_4h_pct", "up", "better than baseline, significant"),  # higher is better
        ("ae_4h_pct", "down", "worse than baseline, significant"),
        ("dtoc_beds_mean", "up", "worse than baseline, significant"),  # lower is better
        ("dtoc_beds_mean", "down", "better than baseline, significant"),
        ("acute_beds_mean", "up", "higher than baseline, significant"),  # neither is better
        ("acute_beds_mean", "down", "lower than baseline, significant"),
    ],
)
def test_the_better_direction_decides_the_words(
    directions: Path, kpi: str, scenario: str, expected: str
) -> None:
    assert row(compare(directions, kpis=[kpi]), scenario, kpi).verdict == expected


@pytest.mark.unit
def test_a_difference_whose_interval_holds_zero_is_no_significant_difference(tmp_path: Path) -> None:
    root = write_results(tmp_path / "res", occupancy_runs([0.8, 0.82, 0.84], [0.02, -0.01, 0.0]))
    cut = row(compare(root, kpis=["acute_occupancy_mean"]), "beds_cut", "acute_occupancy_mean")
    assert cut.difference.difference.contains(0.0)
    assert cut.verdict == "no significant difference"


@pytest.mark.unit
def test_verdict_when_it_cannot_tell() -> None:
    assert verdict(paired_difference([1.0], [0.0]), "lower").startswith("cannot tell: needs 2")
    assert "undefined" in verdict(paired_difference([1.0, math.nan], [0.0, 0.0]), "lower")
    assert verdict(None, "lower") == "no replication paired with the baseline"


@pytest.mark.unit
def test_unpaired_replications_are_dropped_from_the_difference_and_counted(tmp_path: Path) -> None:
    """The scenario ran replications 0-4, the baseline 0-2 and 7: only 0-2 pair. The wild
    values of replications 3 and 4 move the scenario's mean but not the difference."""
    runs: Runs = {
        "baseline": {r: {"dtoc_beds_mean": v} for r, v in [(0, 10.0), (1, 12.0), (2, 11.0), (7, 50.0)]},
        "more_reablement": {r: {"dtoc_beds_mean": v} for r, v in enumerate([9.0, 10.5, 10.0, 90.0, 95.0])},
    }
    c = compare(write_results(tmp_path / "res", runs), kpis=["dtoc_beds_mean"])
    scenario = row(c, "more_reablement", "dtoc_beds_mean")
    assert (scenario.paired, scenario.unpaired, scenario.interval.n) == (3, 2, 5)
    expected = paired_difference([9.0, 10.5, 10.0], [10.0, 12.0, 11.0])
    assert scenario.difference == expected
    assert scenario.interval == mean_ci([9.0, 10.5, 10.0, 90.0, 95.0])
    assert scenario.verdict == "better than baseline, significant"
    assert (
        "more_reablement: 3 of 5 replications paired with the baseline (no baseline partner for "
        "replications 3 and 4: left out of the differences)." in c.notes()
    )
    record = c.table().to_pylist()[1]
    assert (record["paired_replications"], record["unpaired_replications"]) == (3, 2)


@pytest.mark.unit
def test_compare_kpis_is_a_pure_function_of_a_kpis_table() -> None:
    """Rows in any order: pairs by replication number, and the replications in order."""
    table = pa.table(
        {
            "scenario": ["b", "a", "a", "b"],
            "replication": pa.array([1, 1, 0, 0], pa.int32()),
            "spend_total": [4.0, 2.0, 1.0, 3.0],
        }
    )
    c = compare_kpis(table)
    assert c.baseline == "a" and c.replications == {"a": (0, 1), "b": (0, 1)}
    spend = row(c, "b", "spend_total")
    assert (spend.difference.difference.mean, spend.difference.difference.half_width) == (2.0, 0.0)
    assert spend.verdict == "worse than baseline, significant"  # every replication spent 2 more
    assert spend.interval.mean == 3.5


@pytest.mark.unit
def test_the_baseline_is_named_baseline_else_first_alphabetically_else_chosen(tmp_path: Path) -> None:
    values = {0: {"spend_total": 1.0}, 1: {"spend_total": 2.0}}
    named = write_results(tmp_path / "a", {"a_plan": values, "baseline": values})
    c = compare(named)
    assert (c.baseline, c.scenarios) == ("baseline", ("baseline", "a_plan"))
    assert c.baseline_reason == "the scenario named 'baseline'"

    unnamed = write_results(tmp_path / "b", {"zeta": values, "alpha": values})
    c = compare(unnamed)
    assert c.baseline == "alpha" and "first alphabetically" in c.notes()[0]
    assert compare(unnamed, baseline="zeta").scenarios == ("zeta", "alpha")
    with pytest.raises(CompareError, match="no scenario 'gamma'.*the scenarios are alpha, zeta"):
        compare(unnamed, baseline="gamma")


# --- targets ----------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "acute_occupancy_mean<=92%",
            Target("acute_occupancy_mean", "<=", 0.92, "acute_occupancy_mean<=92%"),
        ),
        (
            "acute_occupancy_mean <= 0.92",
            Target("acute_occupancy_mean", "<=", 0.92, "acute_occupancy_mean <= 0.92"),
        ),
        ("ae_4h_pct>=95%", Target("ae_4h_pct", ">=", 95.0, "ae_4h_pct>=95%")),  # a _pct column is 0-100
        ("dtoc_share_of_beds<=3.5%", Target("dtoc_share_of_beds", "<=", 0.035, "dtoc_share_of_beds<=3.5%")),
        ("spend_total<=£5,500,000", Target("spend_total", "<=", 5.5e6, "spend_total<=£5,500,000")),
        ("spend_total<=baseline", Target("spend_total", "<=", None, "spend_total<=baseline")),
    ],
)
def test_parse_target(text: str, expected: Target) -> None:
    target = parse_target(text)
    assert target == expected or (
        target.threshold == pytest.approx(expected.threshold) and target.kpi == expected.kpi
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("acute_occupancy_mean<92%", "expected KPI<=VALUE, KPI>=VALUE or KPI<=baseline"),
        ("acute_occupancy_mean<=", "expected KPI<=VALUE"),
        ("acute_occupancy_mean<=lots", "'lots' is not a number or 'baseline'"),
        ("acute_occupancy<=92%", "unknown KPI 'acute_occupancy' (did you mean 'acute_occupancy_mean' or"),
        (
            "emergency_admissions<=5%",
            "a percentage suits only a proportion; emergency_admissions is in admissions",
        ),
    ],
)
def test_a_bad_target_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(CompareError) as error:
        parse_target(text)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.unit
def test_targets_report_the_share_of_replications_that_meet_them(tmp_path: Path) -> None:
    """Occupancy ≤ 92% holds in 4 of 4 baseline replications and 2 of 4 of the cut's; spend ≤
    baseline holds in the 3 replications where the cut spent no more; a null value makes
    the share undefined rather than quietly dropping the replication."""
    runs: Runs = {
        "baseline": {
            r: {"acute_occupancy_mean": occ, "spend_total": spend, "readmissions_30d_pct": 8.0}
            for r, (occ, spend) in enumerate([(0.85, 100.0), (0.88, 110.0), (0.90, 105.0), (0.86, 100.0)])
        },
        "beds_cut": {
            r: {"acute_occupancy_mean": occ, "spend_total": spend, "readmissions_30d_pct": readm}
            for r, (occ, spend, readm) in enumerate(
                [(0.91, 95.0, 8.0), (0.95, 110.0, None), (0.92, 107.0, 7.0), (0.97, 99.0, 9.0)]
            )
        },
    }
    root = write_results(tmp_path / "res", runs)
    c = compare(
        root,
        kpis=["acute_occupancy_mean"],
        targets=["acute_occupancy_mean<=92%", "spend_total<=baseline", "readmissions_30d_pct<=10"],
    )
    shares = {(s.scenario, s.target.kpi): s for s in c.target_shares}
    assert shares["baseline", "acute_occupancy_mean"].share == 1.0
    cut = shares["beds_cut", "acute_occupancy_mean"]
    assert (cut.met, cut.replications, cut.share) == (2, 4, 0.5)
    spend = shares["beds_cut", "spend_total"]
    assert (spend.met, spend.replications) == (3, 4)  # 110 <= 110 meets it
    assert ("baseline", "spend_total") not in shares  # the baseline against itself says nothing
    assert shares["beds_cut", "readmissions_30d_pct"].met is None
    assert shares["baseline", "readmissions_30d_pct"].share == 1.0
    assert c.kpis == ("acute_occupancy_mean", "spend_total", "readmissions_30d_pct")  # targets' KPIs join
    table = c.targets_table().to_pylist()
    assert {(r["scenario"], r["target"], r["met"], r["share"]) for r in table} >= {
        ("beds_cut", "acute_occupancy_mean<=92%", 2, 0.5),
        ("beds_cut", "readmissions_30d_pct<=10", None, None),
    }
    text = render_text(c)
    assert "Acute bed occupancy, average ≤ 92.0%" in text and "50% (2 of 4)" in text


# --- how many replications --------------------------------------------------------------


@pytest.mark.unit
def test_the_replications_check_says_how_many_a_precision_needs(tmp_path: Path) -> None:
    """The values of the by-hand case in test_stats: ±6% is reached at 6 replications; ±1%
    is not reached, and about 87 are projected from the six."""
    values = [10.0, 11.0, 11.0, 10.0, 11.0, 10.8]
    runs: Runs = {"baseline": {r: {"mean_los_days": v} for r, v in enumerate(values)}}
    root = write_results(tmp_path / "res", runs)
    reached = row(compare(root, kpis=["mean_los_days"], precision=0.06), "baseline", "mean_los_days")
    assert reached.needed == replications_needed(values, precision=0.06) and reached.needed.n == 6
    c = compare(root, kpis=["mean_los_days"], precision=0.01)
    assert (row(c, "baseline", "mean_los_days").needed.n, row(c, "baseline", "mean_los_days").projected) == (
        None,
        87,
    )
    assert c.most_replications_needed() == 87
    assert "run at least 87 replications" in render_markdown(c)
    assert c.table().to_pylist()[0]["replications_projected"] == 87
    assert "Only one scenario: nothing to compare it with." in c.notes()


@pytest.mark.unit
def test_no_replications_are_projected_for_a_mean_not_clearly_away_from_zero(tmp_path: Path) -> None:
    """A surplus near break-even: a precision relative to its mean would ask for millions of
    runs; the check says it cannot be told, and the headline count leaves it out."""
    surplus = [-2.0e6, 1.5e6, -0.5e6, 1.2e6, 0.1e6]
    los = [10.0, 11.0, 11.0, 10.0, 11.0]
    runs: Runs = {
        "baseline": {
            r: {"surplus_acute_trust": s, "mean_los_days": v} for r, (s, v) in enumerate(zip(surplus, los))
        }
    }
    root = write_results(tmp_path / "res", runs)
    c = compare(root, kpis=["surplus_acute_trust", "mean_los_days"], precision=0.01)
    assert row(c, "baseline", "surplus_acute_trust").projected is None
    assert replications_projected(surplus, 0.01) > 1_000_000  # what it would have said
    assert c.most_replications_needed() == row(c, "baseline", "mean_los_days").projected


# --- outputs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_scenarios(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = occupancy_runs([0.80, 0.82, 0.84, 0.86], [0.05, 0.06, 0.04, 0.05])
    for scenario in runs.values():
        for r, values in scenario.items():
            values["spend_total"] = 1.0e6 + 1000.0 * r
            values["readmissions_30d_pct"] = None  # undefined in every run: shown, never NaN
    return write_results(tmp_path_factory.mktemp("two") / "res", runs)


@pytest.mark.unit
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_csv_and_parquet_round_trip_through_pandas(tmp_path: Path, two_scenarios: Path, fmt: str) -> None:
    pd = pytest.importorskip("pandas")
    out = tmp_path / "out" / f"comparison.{fmt}"
    result = runner.invoke(
        app,
        [
            "compare",
            str(two_scenarios),
            "--kpi",
            "all",
            "--target",
            "spend_total<=baseline",
            "-f",
            fmt,
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Comparison: {out}, {targets_path(out)}\n"
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    frame = read(out)
    assert list(frame.columns[:4]) == ["scenario", "baseline", "kpi", "label"]
    assert len(frame) == 2 * 3  # the three KPIs in the files, by two scenarios
    occupancy = frame[(frame.kpi == "acute_occupancy_mean") & (frame.scenario == "beds_cut")].iloc[0]
    assert occupancy["difference"] == pytest.approx(0.05)
    assert occupancy["verdict"] == "higher than baseline, significant" and bool(occupancy["significant"])
    assert frame[frame.kpi == "readmissions_30d_pct"]["mean"].isna().all()
    if fmt == "csv":
        assert "nan" not in out.read_text().lower()
    targets = read(targets_path(out))
    assert targets[["scenario", "met", "replications"]].values.tolist() == [["beds_cut", 4, 4]]


@pytest.mark.unit
def test_markdown_and_table_outputs(tmp_path: Path, two_scenarios: Path) -> None:
    result = runner.invoke(app, ["compare", str(two_scenarios), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = lines.index(
        "| KPI | Scenario | n | Mean ± 95% CI | Difference from baseline ± 95% CI | Verdict | n for ±5% |"
    )
    assert lines[header + 1].startswith("| --- | --- | ---: |")
    assert "| Acute bed occupancy, average | baseline | 4 | 83.0% ± 4.1 pp | – | baseline |" in result.stdout
    assert (
        "| beds_cut | 4 | 88.0% ± 3.9 pp | +5.0 pp ± 1.3 pp | higher than baseline, significant |"
        in result.stdout
    )

    out = tmp_path / "comparison.md"
    assert (
        runner.invoke(app, ["compare", str(two_scenarios), "-f", "markdown", "-o", str(out)]).exit_code == 0
    )
    assert out.read_text() == result.stdout

    text = runner.invoke(app, ["compare", str(two_scenarios)]).stdout
    assert "scenarios beside the baseline, baseline" in text and "higher than baseline, significant" in text
    assert "Baseline: baseline (the scenario named 'baseline'), 4 replications." in text


@pytest.mark.unit
def test_written_outputs_replace_whole_files(tmp_path: Path, two_scenarios: Path) -> None:
    c = compare(two_scenarios)
    out = tmp_path / "c.csv"
    assert write_comparison(c, "csv", out) == [out]  # no targets: one file
    assert not list(tmp_path.glob(".*tmp"))


# --- bad input: one line, exit status 2, nothing damaged ---------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kpi", "occupancy"], "--kpi occupancy: unknown KPI 'occupancy'"),
        (["--target", "acute_occupancy_mean=0.9"], "expected KPI<=VALUE"),
        (["--target", "bogus<=3"], "unknown KPI 'bogus'"),
        (["--baseline", "nope"], "no scenario 'nope' to use as the baseline"),
        (["--kpi", "ae_4h_pct"], "KPI 'ae_4h_pct' is not in the results' kpis tables"),
        (["--format", "parquet"], "--format parquet writes a file: give one with --out"),
        (["--precision", "0"], "precision must be above 0"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(two_scenarios: Path, args: list[str], message: str) -> None:
    line = one_error_line(runner.invoke(app, ["compare", str(two_scenarios), *args]))
    assert message in line


@pytest.mark.unit
def test_an_empty_or_foreign_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for folder in ("empty", "papers", "missing"):
        if folder != "missing":
            (tmp_path / folder).mkdir(exist_ok=True)
        if folder == "papers":
            (tmp_path / folder / "notes.txt").write_text("not results")
        line = one_error_line(runner.invoke(app, ["compare", str(tmp_path / folder)]))
        assert folder in line and "results folder" in line, line


@pytest.mark.unit
def test_a_failed_compare_leaves_an_earlier_output_intact(tmp_path: Path, two_scenarios: Path) -> None:
    out = tmp_path / "comparison.csv"
    out.write_text("earlier\n")
    one_error_line(
        runner.invoke(app, ["compare", str(two_scenarios), "--target", "x<=1", "-f", "csv", "-o", str(out)])
    )
    assert out.read_text() == "earlier\n"


@pytest.mark.unit
def test_help_teaches_with_an_example() -> None:
    result = runner.invoke(app, ["compare", "--help"])
    assert result.exit_code == 0 and "Example" in result.stdout and "flowsim compare" in result.stdout


# --- the documented commands work ---------------------------------------------------------


def documented_compare_commands() -> list[tuple[str, str]]:
    commands = []
    for doc in ("README.md", "docs/compare.md"):
        text = (REPO / doc).read_text().replace("\\\n", " ")  # join continued lines
        for line in text.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("flowsim compare "):
                commands.append((doc, line))
    return commands


@pytest.mark.unit
def test_the_documented_compare_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `flowsim compare` line of README.md and docs/compare.md runs, on hand-made
    results in the folder it names, holding the scenarios the docs' `flowsim run` lines make."""
    commands = documented_compare_commands()
    assert {doc for doc, _ in commands} == {"README.md", "docs/compare.md"}
    monkeypatch.chdir(tmp_path)
    kpis = {"acute_occupancy_mean": 0.85, "dtoc_share_of_beds": 0.03, "spend_total": 5.5e6, "ae_4h_pct": 90.0}
    scenarios = ("small", "small_beds_cut", "footprint", "acute_beds_minus_10pct")
    runs: Runs = {
        scenario: {r: {k: v * (1 + 0.01 * r + 0.05 * i) for k, v in kpis.items()} for r in range(2)}
        for i, scenario in enumerate(scenarios)
    }
    for folder in {shlex.split(line)[2] for _, line in commands}:
        write_results(Path(folder), runs)
    for doc, line in commands:
        result = runner.invoke(app, shlex.split(line)[1:])
        assert result.exit_code == 0, f"{doc}: {line}\n{result.output}"
        assert "error" not in result.output


# --- end to end with the model ------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.slow
def test_compare_flags_the_bed_cut_as_raising_occupancy(tmp_path: Path) -> None:
    """configs/small.yaml and the same with 10% fewer acute beds, three short replications
    each with the same seeds: occupancy is significantly higher with the cut.

    At 90,000 people (three quarters of small's load on its beds) the cut fills beds
    without saturating them, so the paired difference stands clear of zero at n = 3.
    """
    out = tmp_path / "res"
    short = ["--set", "run.horizon_days=20", "--set", "run.warmup_days=5", "--set", "population.size=90000"]
    short += ["--set", "run.replications=3", "--out", str(out), "-q"]
    config = str(REPO / "configs" / "small.yaml")
    assert runner.invoke(app, ["run", config, *short]).exit_code == 0
    cut = ["--set", "acute.beds_scale=0.9", "--set", "name=small_beds_cut"]
    assert runner.invoke(app, ["run", config, *short, *cut]).exit_code == 0

    result = runner.invoke(
        app,
        [
            "compare",
            str(out),
            "--target",
            "acute_occupancy_mean<=92%",
            "-f",
            "csv",
            "-o",
            str(tmp_path / "c.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    c = compare(out, targets=["acute_occupancy_mean<=92%"])
    assert c.baseline == "small" and c.replications == {"small": (0, 1, 2), "small_beds_cut": (0, 1, 2)}
    occupancy = row(c, "small_beds_cut", "acute_occupancy_mean")
    assert occupancy.paired == 3 and occupancy.difference.difference.lower > 0.0
    assert occupancy.verdict == "higher than baseline, significant"
    assert row(c, "small_beds_cut", "acute_beds_mean").verdict == "lower than baseline, significant"
    assert re.search(
        r"small_beds_cut,small,acute_occupancy_mean,.*higher than baseline, significant",
        (tmp_path / "c.csv").read_text(),
    )
