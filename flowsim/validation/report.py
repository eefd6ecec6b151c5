"""Build the validation report: run the replications, compare, check, draw, write.

The replications go through the package's runner into the results store
(``OUT/results/``, resumable like any `flowsim run`), and are read back from its kpis, daily
and episode tables. The report and its figures go to ``OUT/validation.md`` and
``OUT/validation/``; with ``docs=True`` also to the repository's ``docs/validation.md`` and
``docs/validation/``. Nothing else is written.
"""

from __future__ import annotations

import math
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from flowsim.validation.analytic import AnalyticChecks, run_analytic_checks
from flowsim.validation.calibration import FeatureResult, TargetResult, evaluate_features, evaluate_targets
from flowsim.validation.measures import Replication

if TYPE_CHECKING:
    import pyarrow as pa

    from flowsim.config.schema import FlowsimConfig
    from flowsim.experiment import RunRecord

__all__ = [
    "DEFAULT_TARGETS",
    "ReportError",
    "ReportOutcome",
    "RunsFailed",
    "build_report",
    "outcome_line",
    "read_replications",
]

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TARGETS = REPO / "configs" / "validation" / "targets.yaml"
REPORT = "validation.md"
FIGURES = "validation"  # the figures' folder, beside the report and named after it
RUNS = "results"  # a flowsim results folder of the report's replications


class ReportError(Exception):
    """The report cannot be built as asked (a user can fix it); str() is one line."""


class RunsFailed(Exception):
    """A replication failed to run; str() is one line naming its traceback file."""


@dataclass(frozen=True)
class ReportOutcome:
    report: Path
    docs: Path | None
    targets: list[TargetResult]
    features: list[FeatureResult]
    analytic: AnalyticChecks
    conservation: list[bool]
    seconds: float

    @property
    def passed(self) -> bool:
        """Every target passes, every analytic check holds, conservation held everywhere."""
        return all(r.passed for r in self.targets) and self.analytic.passed and all(self.conservation)


def _read_history(targets_file: Path) -> str:
    """history.md beside the targets file: the measured effect of each mechanism as it was
    added (written by hand from earlier reports; empty if there is none)."""
    path = targets_file.parent / "history.md"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _shown(path: Path) -> str:
    """A path as the report prints it: relative to the repository when inside it."""
    try:
        return Path(path).resolve().relative_to(REPO).as_posix()
    except ValueError:
        return str(path)


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ReportError(
            "the validation report draws its figures with matplotlib, which is not installed: "
            "pip install 'flowsim[report]'"
        ) from None


def _claim_out(out: Path) -> None:
    """Refuse an output folder that holds anything but an earlier validation report."""
    if out.exists() and not out.is_dir():
        raise ReportError(f"{out}: exists and is not a folder; choose a folder with --out")
    if out.is_dir():
        ours = {REPORT, FIGURES, RUNS}
        strangers = sorted(e.name for e in out.iterdir() if e.name not in ours and not e.name.startswith("."))
        if strangers:
            raise ReportError(
                f"{out}: holds {strangers[0]!r}, which is not part of a validation report; "
                "choose a new or empty folder with --out"
            )
    out.mkdir(parents=True, exist_ok=True)


def _docs_folder() -> Path:
    from flowsim.results import git_commit

    commit, _ = git_commit()
    if commit is None or not (REPO / "docs").is_dir():
        raise ReportError(
            "--docs writes the repository's docs/validation.md, but flowsim is not running from "
            "its own checkout (with a docs folder)"
        )
    return REPO / "docs"


def _write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------
# Reading the runs back


def _select(table: pa.Table, scenario: str, replications: Sequence[int]) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    keep = pc.and_(
        pc.equal(table["scenario"], scenario),
        pc.is_in(table["replication"], value_set=pa.array(replications, pa.int32())),
    )
    return table.filter(keep)


def _delayed_beds_by_pathway(delays: pa.Table, dates: pa.ChunkedArray) -> dict[str, np.ndarray]:
    """Delayed beds each day by the pathway awaited (`dtoc_beds_p1` ...), from the long
    delays table: the sum over responsible organisations."""
    import pyarrow.compute as pc

    by_date = {d: i for i, d in enumerate(dates.to_pylist())}
    out = {}
    for pathway in ("P1", "P2", "P3"):
        rows = delays.filter(pc.equal(delays["pathway"], pathway))
        beds = np.zeros(len(by_date))
        for date, value in zip(rows["date"].to_pylist(), rows["beds"].to_pylist()):
            beds[by_date[date]] += value
        out[f"dtoc_beds_{pathway.lower()}"] = beds
    return out


def read_replications(
    runs: Path, config: FlowsimConfig, records: Sequence[RunRecord]
) -> tuple[list[Replication], list[str]]:
    """The replications of `records` read back from the results store, and the kpis
    table's column names."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from flowsim.results import open_dataset, read_manifest, read_table

    wanted = [r.replication for r in records]
    kpis = _select(read_table(runs, "kpis"), config.name, wanted)
    daily = _select(read_table(runs, "daily"), config.name, wanted)
    delays = _select(read_table(runs, "delays"), config.name, wanted)
    episodes = (
        open_dataset(runs, "episodes")
        .to_table(
            columns=["replication", "ae_arrival_h"],
            filter=(ds.field("scenario") == config.name) & ds.field("replication").isin(wanted),
        )
        .filter(pc.is_valid(pc.field("ae_arrival_h")))
    )
    t0 = config.run.warmup_days * 24.0
    t1 = t0 + config.run.horizon_days * 24.0
    out = []
    for record in records:
        r = record.replication
        row = kpis.filter(pc.equal(kpis["replication"], r)).to_pylist()
        if len(row) != 1:
            raise RunsFailed(f"{record.path}: expected one kpis row for replication {r}, found {len(row)}")
        # A null KPI (e.g. readmissions with too short a follow-up) reads as NaN.
        kpi_row = {
            k: math.nan if v is None else float(v)
            for k, v in row[0].items()
            if v is None or isinstance(v, (int, float))
        }
        days = daily.filter(pc.equal(daily["replication"], r)).sort_by("day")
        columns = {name: days.column(name).to_numpy(zero_copy_only=False) for name in days.column_names}
        columns.update(
            _delayed_beds_by_pathway(delays.filter(pc.equal(delays["replication"], r)), days["date"])
        )
        arrivals = episodes.filter(pc.equal(episodes["replication"], r))["ae_arrival_h"].to_numpy()
        arrivals = arrivals[(arrivals >= t0) & (arrivals < t1)]
        wall = float(read_manifest(record.path).get("wall_seconds", math.nan))
        out.append(Replication(r, kpi_row, columns, np.asarray(arrivals, dtype=np.float64), wall))
    return out, list(kpis.column_names)


# --------------------------------------------------------------------------------------
# The report


def build_report(
    config_path: str | os.PathLike[str],
    *,
    overrides: Mapping[str, object] | None = None,
    out_dir: str | os.PathLike[str] = Path("results") / "validation",
    replications: int = 3,
    workers: int = 2,
    targets_path: str | os.PathLike[str] | None = None,
    docs: bool = False,
    progress: bool = False,
    command: str | None = None,
    log: Callable[[str], None] | None = None,
) -> ReportOutcome:
    """Run `replications` of the config, compare them with the targets, run the analytic
    checks, and write the report; return what it found.

    Raises `ConfigError` (config or targets file), `ReportError` or `ResultsError` for
    what a user can fix, `RunsFailed` if a replication fails.
    """
    from flowsim.config.loader import load_config
    from flowsim.experiment import run_replications_detailed
    from flowsim.validation.figures import draw_figures
    from flowsim.validation.markdown import ReportContext, render
    from flowsim.validation.targets import check_measures, load_targets

    say = log or (lambda message: None)
    start = time.perf_counter()
    if replications < 1:
        raise ReportError(f"--replications must be 1 or more, got {replications}")
    if workers < 1:
        raise ReportError(f"--workers must be 1 or more, got {workers}")
    _require_matplotlib()
    config = load_config(config_path, overrides)
    targets_file = Path(targets_path) if targets_path is not None else DEFAULT_TARGETS
    targets = load_targets(targets_file)
    docs_dir = _docs_folder() if docs else None
    out = Path(out_dir)
    _claim_out(out)

    say(f"validation: {replications} replication(s) of {config.name} on {workers} worker(s)")
    records = run_replications_detailed(
        config, range(replications), out / RUNS, episodes=True, progress=progress, workers=workers
    )
    failed = [r for r in records if r.status == "failed"]
    if failed:
        first = failed[0]
        raise RunsFailed(
            f"replication {first.replication} failed ({first.error}); traceback in {first.path / 'error.txt'}"
        )
    reps, kpi_columns = read_replications(out / RUNS, config, records)
    check_measures(targets, kpi_columns, targets_file)
    target_results = evaluate_targets(targets, reps)
    feature_results = evaluate_features(targets, reps)

    say("validation: analytic checks of the core")
    analytic = run_analytic_checks()
    say("validation: figures")
    figures = draw_figures(reps, target_results, out / FIGURES)

    context = ReportContext(
        command=command or f"flowsim report validation {_shown(Path(config_path))}",
        config=config,
        config_label=_shown(Path(config_path)),
        config_path=str(config_path),
        history=_read_history(targets_file),
        targets_label=_shown(targets_file),
        replications=reps,
        reused=sum(r.status == "skipped" for r in records),
        workers=min(workers, replications),
        seconds=time.perf_counter() - start,
    )
    text = render(context, target_results, feature_results, analytic, figures, FIGURES).encode("utf-8")
    report = out / REPORT
    _write_atomic(report, text)
    docs_report = None
    if docs_dir is not None:
        for name, _ in figures:
            _write_atomic(docs_dir / FIGURES / name, (out / FIGURES / name).read_bytes())
        docs_report = docs_dir / REPORT
        _write_atomic(docs_report, text)
    return ReportOutcome(
        report,
        docs_report,
        target_results,
        feature_results,
        analytic,
        [bool(rep.kpis["conservation_ok"]) for rep in reps],
        time.perf_counter() - start,
    )


def outcome_line(outcome: ReportOutcome) -> str:
    """One line for the terminal: what passed and where the report is."""
    passed = sum(r.passed for r in outcome.targets)
    where = str(outcome.report) + (f" and {outcome.docs}" if outcome.docs else "")
    return (
        f"validation: {passed}/{len(outcome.targets)} targets pass; analytic checks "
        f"{'pass' if outcome.analytic.passed else 'FAIL'}; conservation "
        f"{'holds' if all(outcome.conservation) else 'FAILS'}; wrote {where} in {outcome.seconds:.0f} s"
    )
