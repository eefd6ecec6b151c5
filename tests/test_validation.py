"""The validation report (flowsim.validation, `flowsim report validation`): targets read
from YAML, compared with replications' KPIs, and the report built end to end."""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pytest
from typer.testing import CliRunner

from flowsim.cli import app, main
from flowsim.config.loader import ConfigError
from flowsim.stats import mean_ci
from flowsim.validation.calibration import evaluate_features, evaluate_targets
from flowsim.validation.fitted import fitted_parameters
from flowsim.validation.markdown import summary, verdict
from flowsim.validation.measures import CONVERSIONS, MEASURES, Convert, Replication, monthly, value
from flowsim.validation.targets import TargetsFile, check_measures, load_targets

REPO = Path(__file__).resolve().parents[1]
TARGETS = REPO / "configs" / "validation" / "targets.yaml"
runner = CliRunner()


def replication(k: int = 0, daily: dict[str, Any] | None = None, **kpis: float) -> Replication:
    """A replication made by hand: 120,000 people measured over 365 days unless told."""
    row = {"population": 120_000.0, "days": 365.0, "conservation_ok": 1.0, **kpis}
    return Replication(k, row, daily or {}, np.array([]))


def targets_file(*targets: dict[str, Any], features: tuple[dict[str, Any], ...] = ()) -> TargetsFile:
    return TargetsFile.model_validate(
        {"schema_version": 1, "targets": list(targets), "features": list(features)}
    )


ATTENDANCES = {
    "label": "A&E attendances a year, per 1.2 million",
    "kpi": "ae_attendances",
    "convert": "a_year_per_1.2_million",
    "target": 506_000,
    "relative_tolerance": 0.10,
    "unit": "attendances",
    "source": "HES A&E",
}
OCCUPANCY = {
    "label": "Mean G&A occupancy (%)",
    "kpi": "acute_occupancy_mean",
    "convert": "percent",
    "target": 90.0,
    "tolerance": 2.0,
    "unit": "pp",
    "source": "KH03",
}


# --- comparing replications with targets -------------------------------------------------


@pytest.mark.unit
def test_counts_are_scaled_to_a_year_per_1_2_million_before_comparison():
    """50,000 attendances in 365 days among 120,000 people is 500,000 a year per 1.2
    million: inside 506,000 ± 10%; 57,000 (570,000) is outside."""
    reps = [replication(0, ae_attendances=50_000.0), replication(1, ae_attendances=50_600.0)]
    [result] = evaluate_targets(targets_file(ATTENDANCES), reps)
    assert result.values == pytest.approx((500_000.0, 506_000.0))
    assert result.interval == mean_ci([500_000.0, 506_000.0])
    assert result.target.band == pytest.approx((455_400.0, 556_600.0))
    assert result.passed

    half_a_year = [replication(k, days=182.5, ae_attendances=28_500.0) for k in range(2)]
    [result] = evaluate_targets(targets_file(ATTENDANCES), half_a_year)
    assert result.interval.mean == pytest.approx(570_000.0)
    assert not result.passed and verdict(result) == "FAIL"


@pytest.mark.unit
def test_a_pass_whose_interval_leaves_the_band_is_marked_marginal():
    """Occupancy 0.895, 0.905, 0.900 → mean 90%, inside 90 ± 2, and so is its 95% interval
    (± 4.303 × 0.289 = ± 1.24); 0.88, 0.92, 0.91 → mean 90.33% passes but its interval
    (± 5.17) reaches past the band."""
    tight = [replication(k, acute_occupancy_mean=x) for k, x in enumerate((0.895, 0.905, 0.900))]
    [result] = evaluate_targets(targets_file(OCCUPANCY), tight)
    assert result.passed and result.interval_inside and verdict(result) == "PASS"
    loose = [replication(k, acute_occupancy_mean=x) for k, x in enumerate((0.88, 0.92, 0.91))]
    [result] = evaluate_targets(targets_file(OCCUPANCY), loose)
    assert result.interval.mean == pytest.approx(90.333, abs=1e-3)
    assert result.passed and not result.interval_inside and verdict(result) == "PASS †"


@pytest.mark.unit
def test_a_kpi_undefined_in_a_replication_fails_rather_than_passing_on_the_others():
    reps = [replication(0, acute_occupancy_mean=0.90), replication(1, acute_occupancy_mean=math.nan)]
    [result] = evaluate_targets(targets_file(OCCUPANCY), reps)
    assert math.isnan(result.interval.mean) and not result.passed


@pytest.mark.unit
def test_the_summary_names_each_missed_target_with_its_value():
    reps = [
        replication(k, acute_occupancy_mean=x, ae_attendances=50_000.0) for k, x in enumerate((0.85, 0.86))
    ]
    results = evaluate_targets(targets_file(ATTENDANCES, OCCUPANCY), reps)
    analytic = _passing_analytic()
    text = summary(results, [], analytic, [True, True])
    assert text.startswith("1 of 2 calibration targets pass over 2 replications; the model misses ")
    assert "Mean G&A occupancy (%): 85.5 against 90.0 ±2 pp" in text
    assert "Conservation held in every replication." in text
    assert "Conservation FAILED in 1 of 2" in summary(results, [], analytic, [True, False])


def _passing_analytic():
    from flowsim.validation.analytic import AnalyticChecks

    return AnalyticChecks([], [], [], "identical", 10, "compiled", {"erlang": 1, "little": 1, "twins": 1})


@pytest.mark.unit
def test_features_are_set_against_their_expectation_only_when_they_have_one():
    features = (
        {
            "label": "zero-day",
            "measure": "zero_day_share",
            "convert": "percent",
            "how": "input",
            "expect": {"near": 33, "within": 3},
        },
        {
            "label": "waits",
            "measure": "reablement_waiting_mean",
            "convert": "per_1.2_million",
            "how": "emergent",
            "expect": {"above": 1},
        },
        {"label": "readmissions", "measure": "readmissions_30d_pct", "how": "emergent"},
    )
    reps = [
        replication(k, zero_day_share=0.31, reablement_waiting_mean=0.05, readmissions_30d_pct=7.0)
        for k in range(2)
    ]
    zero_day, waits, readmissions = evaluate_features(targets_file(OCCUPANCY, features=features), reps)
    assert zero_day.interval.mean == pytest.approx(31.0) and zero_day.agrees is True
    assert waits.interval.mean == pytest.approx(0.5) and waits.agrees is False  # 0.05 × 1.2m / 120,000
    assert readmissions.agrees is None


# --- the report's own measures ------------------------------------------------------------


def year_of_days(
    start: str = "2016-04-01", warmup: int = 0, days: int = 365, **columns: Any
) -> dict[str, Any]:
    dates = np.arange(np.datetime64(start), np.datetime64(start) + days)
    out: dict[str, Any] = {"date": dates, "warmup": np.arange(days) < warmup}
    out.update({k: np.asarray(v(dates) if callable(v) else v, dtype=float) for k, v in columns.items()})
    return out


def month(dates: np.ndarray) -> np.ndarray:
    return dates.astype("datetime64[M]").astype(int) % 12 + 1


@pytest.mark.unit
def test_seasonal_occupancy_reads_the_measured_winter_and_summer_days():
    """100 beds; 95 occupied in January–March, 85 in June–August, 90 otherwise: winter
    95%, summer 85%, 10 pp apart; the warm-up days (set to 0) are not counted."""

    def occupied(dates):
        m = month(dates)
        return np.where(np.isin(m, (1, 2, 3)), 95.0, np.where(np.isin(m, (6, 7, 8)), 85.0, 90.0))

    daily = year_of_days(warmup=30, days=395, acute_beds=np.full(395, 100.0), acute_bed_days=occupied)
    daily["acute_bed_days"][:30] = 0.0
    rep = replication(daily=daily)
    assert value(rep, "occupancy_jan_mar_pct") == pytest.approx(95.0)
    assert value(rep, "occupancy_jun_aug_pct") == pytest.approx(85.0)
    assert value(rep, "occupancy_winter_minus_summer_pp") == pytest.approx(10.0)


@pytest.mark.unit
def test_monday_against_friday_and_the_year_on_year_drift():
    """1,140 attendances on Mondays, 1,000 on other days: Monday +14% on Friday. Admissions
    10 a day for a year, then 10.5: +5% on the same days a year before."""

    def attendances(dates):
        return np.where((dates.astype(int) + 3) % 7 == 0, 1140.0, 1000.0)

    admissions = np.r_[np.full(395, 10.0), np.full(30, 10.5)]
    rep = replication(
        daily=year_of_days(days=425, ae_attendances=attendances, emergency_admissions=admissions)
    )
    assert value(rep, "ae_monday_vs_friday_pct") == pytest.approx(14.0)
    assert value(rep, "drift_emergency_admissions_pct") == pytest.approx(5.0)
    short = replication(daily=year_of_days(days=100, emergency_admissions=np.full(100, 10.0)))
    assert math.isnan(value(short, "drift_emergency_admissions_pct"))


@pytest.mark.unit
def test_conversions_cover_every_name_the_schema_accepts():
    assert set(CONVERSIONS) == set(get_args(Convert))
    assert not set(MEASURES) & set(["population", "days", "ae_attendances", "acute_occupancy_mean"])


# --- the targets file -----------------------------------------------------------------------


@pytest.mark.unit
def test_the_shipped_targets_file_loads_with_a_source_for_every_target():
    targets = load_targets(TARGETS)
    # the 11 of the era, waits over 4 hours from decision to admit, and the 7 of the community side
    # (delay responsibility, intermediate-care waits, readmission at 65+)
    assert len(targets.targets) == 19
    assert all(t.source.strip() for t in targets.targets)
    assert {t.kpi for t in targets.targets} >= {"ae_attendances", "acute_occupancy_mean", "mean_los_days"}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("tolerance: 3.0", "tolerance: 3.0\n    relative_tolerance: 0.1", 1),
            r":\d+: targets\[2\]: give tolerance or relative_tolerance \(exactly one\)$",
        ),
        (
            ("    unit: pp\n", "    unit: pp\n    tolerence: 1\n", 1),
            r":\d+: targets\[2\]\.tolerence: unknown key 'tolerence' \(did you mean 'tolerance'\?\)",
        ),
        (("convert: percent", "convert: percentage", 1), r":\d+: targets\[3\]\.convert: "),
        (
            ("label: Mean G&A occupancy (%)", "label: A&E conversion to admission, all types (%)"),
            r"label 'A&E conversion to admission, all types \(%\)' is used twice",
        ),
    ],
)
def test_a_bad_targets_file_is_one_line_naming_file_line_and_key(tmp_path, edit, expected):
    bad = tmp_path / "targets.yaml"
    bad.write_text(TARGETS.read_text(encoding="utf-8").replace(*edit), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_targets(bad)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{bad}:")
    assert re.search(expected, message), message


@pytest.mark.unit
def test_a_target_naming_no_kpis_column_is_refused_once_the_columns_are_known():
    targets = targets_file({**OCCUPANCY, "kpi": "acute_occupancy_avg"})
    with pytest.raises(
        ConfigError, match=r"targets.yaml: targets\[0\]\.kpi: 'acute_occupancy_avg' is neither a kpis column"
    ):
        check_measures(targets, ["acute_occupancy_mean"], "targets.yaml")
    check_measures(targets_file(OCCUPANCY), ["acute_occupancy_mean"], "targets.yaml")


# --- the command ----------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replications", "0"], "Invalid value for '--replications'"),
        (["configs/nope.yaml"], "configs/nope.yaml: file not found"),
        (["--set", "run.horizon_days"], "override 'run.horizon_days': expected KEY=VALUE"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(capsys, args, message):
    assert main(["report", "validation", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err


@pytest.mark.unit
def test_an_output_folder_holding_other_files_is_refused_and_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["report", "validation", "configs/small.yaml", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"error: {tmp_path}: holds 'notes.txt', which is not part of a validation report; choose a new or empty folder with --out\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


# --- end to end -----------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.integration
def test_report_on_a_short_small_run_names_every_target_and_leaves_the_docs_alone(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="the report needs the 'report' extra (matplotlib)")
    docs = REPO / "docs" / "validation.md"
    before = sha256(docs)
    out = tmp_path / "validation"
    status = main(
        [
            "report", "validation", "configs/small.yaml", "--out", str(out), "--replications", "2",
            "--workers", "1", "--set", "run.horizon_days=20", "--set", "run.warmup_days=5", "--quiet",
        ]
    )  # fmt: skip
    assert sha256(docs) == before

    report = out / "validation.md"
    text = report.read_text(encoding="utf-8")
    assert (
        "Generated by `flowsim report validation configs/small.yaml --replications 2 --set run.horizon_days=20"
        in text
    )
    assert re.search(r"Config sha256:\*\* `[0-9a-f]{64}`", text)
    header = "| measure | target | tolerance | model mean | 95% CI | pass/fail | source |"
    lines = text.splitlines()
    start = lines.index(header) + 2
    labels = [t.label for t in load_targets(TARGETS).targets]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[start : start + len(labels)]]
    assert [r[0] for r in rows] == labels
    assert all(re.fullmatch(r"PASS( †)?|FAIL", r[5]) for r in rows), rows

    # The command's status and last line agree with the report's verdicts.
    passed = sum(r[5] != "FAIL" for r in rows)
    analytic = text.split("## Analytic checks of the core")[1].split("## Figures")[0]
    assert "FAIL" not in analytic and "DIFFERENT" not in analytic
    assert status == (0 if passed == len(rows) else 1)
    assert capsys.readouterr().out.startswith(
        f"validation: {passed}/{len(rows)} targets pass; analytic checks pass"
    )

    for name in ("occupancy.png", "ae.png", "dtoc.png", "pathways.png"):
        png = out / "validation" / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"](validation/{name})" in text
    # The replications went through the runner into a results store beside the report.
    assert sorted(p.name for p in (out / "results" / "runs" / "scenario=small").iterdir()) == [
        "replication=0",
        "replication=1",
    ]


@pytest.mark.unit
def test_the_fitted_parameters_are_the_lines_marked_cal(tmp_path):
    """A `cal.` note at the end of a line marks that key; one on the comment lines just
    above marks the keys below it that carry no comment of their own."""
    config = tmp_path / "c.yaml"
    config.write_text(
        '# "cal." marks a fitted value (a line about the mark)\n'
        "name: x\n"
        "acute:\n"
        "  los_cv: 0.9          # heavy tail (C); cal.: stranded patients\n"
        "  transfer: 1.0        # (C)\n"
        "  # cal.: P2 and P3 shares\n"
        "  p2_share: {a: 1}\n"
        "  p3_share: {a: 2}\n"
        "  frailty_odds: [1, 2]  # (C)\n"
        "  escalation:\n"
        "    open_at: 0.99      # cal.\n",
        encoding="utf-8",
    )
    assert [(k, v) for k, v, _ in fitted_parameters(config)] == [
        ("acute.los_cv", "0.9"),
        ("acute.p2_share", "{a: 1}"),
        ("acute.p3_share", "{a: 2}"),
        ("acute.escalation.open_at", "0.99"),
    ]
    shipped = [k for k, _, _ in fitted_parameters(REPO / "configs" / "footprint.yaml")]
    assert "community.community_beds" in shipped and "acute.ward_groups.outlier_reserve_share" in shipped
    assert "population.frailty_recovery_per_1000_py" not in shipped  # a sourced input


@pytest.mark.unit
def test_the_month_by_month_table_reads_each_calendar_month_per_1_2_million():
    """120,000 people: 10 delayed beds a day in February and 5 otherwise read as 100 and
    50 per 1.2 million; occupancy and the 4-hour measure are ratios of the month's sums."""
    daily = year_of_days(
        warmup=30,
        days=395,
        start="2016-03-02",
        acute_beds=np.full(395, 100.0),
        acute_bed_days=lambda d: np.where(month(d) == 1, 95.0, 90.0),
        ae_4h_known=np.full(395, 100.0),
        ae_within_4h=lambda d: np.where(month(d) == 12, 80.0, 90.0),
        dtoc_beds=lambda d: np.where(month(d) == 2, 10.0, 5.0),
        emergency_admissions=np.full(395, 30.0),
    )
    by_month = monthly(replication(daily=daily))
    assert sorted(by_month) == list(range(1, 13))  # March's warm-up days are dropped, April on measured
    assert by_month[1]["occupancy_pct"] == pytest.approx(95.0) and by_month[7][
        "occupancy_pct"
    ] == pytest.approx(90.0)
    assert by_month[12]["ae_4h_pct"] == pytest.approx(80.0)
    assert by_month[2]["dtoc_beds"] == pytest.approx(100.0) and by_month[6]["dtoc_beds"] == pytest.approx(
        50.0
    )
    assert by_month[5]["emergency_admissions"] == pytest.approx(300.0)
