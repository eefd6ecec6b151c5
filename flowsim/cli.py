"""The `flowsim` command: run a config, validate it, reproduce a run, show the set-up.

Every problem a user can fix (a bad config, a bad argument, a results folder that is not
flowsim's) is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import typer

if TYPE_CHECKING:
    import pyarrow as pa

    from flowsim.config.schema import FlowsimConfig
    from flowsim.experiment import RunRecord

__all__ = ["app", "main"]

app = typer.Typer(
    name="flowsim",
    help=(
        "Whole-system patient flow for a local health and care system: A&E, acute beds, "
        "discharge pathways, community and social care.\n\n"
        "Start with `flowsim validate configs/footprint.yaml`, then "
        "`flowsim run configs/footprint.yaml`; `flowsim COMMAND --help` explains each command."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,
)

# --------------------------------------------------------------------------------------
# Errors as one line


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the errors a user can fix into one line and exit status 2."""
    from flowsim.config.loader import ConfigError
    from flowsim.results import ResultsError

    try:
        yield
    except (ConfigError, ResultsError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        # Typer would turn this into a silent exit 130; say so, and never a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _load(config: Path, overrides: dict[str, object]) -> FlowsimConfig:
    from flowsim.config.loader import load_config

    return load_config(config, overrides or None)


def _overrides(pairs: Sequence[str]) -> dict[str, object]:
    from flowsim.config.loader import parse_overrides

    return parse_overrides(list(pairs))


SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Override any config value by its dotted key path, e.g. --set acute.beds_scale=0.9 "
        "(repeatable; the value is read as YAML).",
    ),
]


# --------------------------------------------------------------------------------------
# flowsim run


@app.command()
def run(
    configs: Annotated[
        list[Path],
        typer.Argument(
            help="The config (YAML) to run, or several (configs/scenarios/*.yaml) to run with the same seeds "
            "into one results folder.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Results folder (needed for several configs).  [default: results/NAME, NAME being the config's name]",
            show_default=False,
        ),
    ] = None,
    replications: Annotated[
        int | None, typer.Option(min=1, help="Number of replications (run.replications).", show_default=False)
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Root random seed (run.seed).", show_default=False)
    ] = None,
    horizon_days: Annotated[
        int | None,
        typer.Option(min=1, help="Days measured after warm-up (run.horizon_days).", show_default=False),
    ] = None,
    warmup_days: Annotated[
        int | None,
        typer.Option(min=0, help="Warm-up days, not measured (run.warmup_days).", show_default=False),
    ] = None,
    episodes: Annotated[
        bool,
        typer.Option("--episodes", help="Also write episodes.parquet, one row per episode of care (large)."),
    ] = False,
    workers: Annotated[int, typer.Option(min=1, help="Replications run in parallel, one process each.")] = 1,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace the runs OUT holds under this scenario name if another config made them "
            "(without it, such a run is refused).",
        ),
    ] = False,
    set_: SetOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no KPI table.")] = False,
) -> None:
    """Simulate a config and write its results: daily figures, headline KPIs, manifest.

    Each table is a Parquet dataset, OUT/TABLE/scenario=NAME/replication=K/part-0.parquet
    (read one whole with `pandas.read_parquet("OUT/kpis")`); each run's manifest.json,
    which `flowsim reproduce` re-runs, is in OUT/runs/scenario=NAME/replication=K/. A run
    appears whole or not at all. Replications already done with the same config, with
    files that match their manifest, are skipped, so a killed run resumes where it
    stopped; a damaged one is run again. Runs of another config under the same name are
    refused unless --overwrite. Ctrl-C keeps the runs finished so far. The command ends
    with a table of the headline KPIs after warm-up (mean over replications).

    Several configs run one after another with the same replication seeds (they must
    share run.seed, or take --seed), into one folder that `flowsim compare` reads; all are
    loaded, and checked against what the folder holds, before any runs.

    **Examples**

        flowsim run configs/footprint.yaml
        flowsim run configs/footprint.yaml --replications 10 --workers 4 --out results/base
        flowsim run configs/footprint.yaml --horizon-days 30 --set acute.beds_scale=0.9
        flowsim run configs/footprint.yaml configs/scenarios/*.yaml --replications 10 --out results/plans
    """
    overrides = _overrides(set_ or [])
    for key, value in (
        ("run.replications", replications),
        ("run.seed", seed),
        ("run.horizon_days", horizon_days),
        ("run.warmup_days", warmup_days),
        ("outputs.episodes", True if episodes else None),
    ):
        if value is not None:
            overrides[key] = value
    with _user_errors():
        loaded = [_load(config, overrides) for config in configs]
        out_dir = out if out is not None else Path("results") / loaded[0].name
        from flowsim.results import lock_results_folder, settle_scenario

        show_progress = not quiet and sys.stdout.isatty()
        failed = False
        with contextlib.ExitStack() as held:
            if len(loaded) > 1:  # one command writes the folder from the check to the last run
                _check_together(loaded, configs, out)
                root = held.enter_context(lock_results_folder(out_dir))
                if not overwrite:
                    for cfg in loaded:
                        settle_scenario(root, cfg.name, cfg)  # refuses another config under a name it holds
            failed = _run_each(loaded, out_dir, show_progress, workers, overwrite, quiet)
        if failed:
            raise typer.Exit(1)


def _run_each(
    loaded: list[FlowsimConfig],
    out_dir: Path,
    show_progress: bool,
    workers: int,
    overwrite: bool,
    quiet: bool,
) -> bool:
    """Run each config's replications in turn; True if any run failed."""
    from flowsim.experiment import RunsInterrupted, run_replications_detailed

    def which(cfg: FlowsimConfig) -> str:
        return f"{cfg.name}: " if len(loaded) > 1 else ""  # one config: as before

    failed = False
    for cfg in loaded:
        try:
            records = run_replications_detailed(
                cfg, None, out_dir, progress=show_progress, workers=workers, overwrite=overwrite
            )
        except RunsInterrupted as exc:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C cannot cut this short
            typer.echo(
                f"interrupted: {out_dir}: {which(cfg)}{exc.summary()}; run the same command again to do the rest",
                err=True,
            )
            raise typer.Exit(130) from None
        try:
            _report_run(cfg, out_dir, records, quiet)
        except typer.Exit:  # some runs failed (logged): the other configs still run
            failed = True
    return failed


def _check_together(loaded: list[FlowsimConfig], paths: Sequence[Path], out: Path | None) -> None:
    """Several configs go into one folder with the same seeds, or not at all."""
    from flowsim.config.loader import ConfigError

    if out is None:
        _fail("several configs need --out DIR: the one results folder that holds them all")
    names: dict[str, Path] = {}
    for cfg, path in zip(loaded, paths, strict=True):
        if cfg.name in names:
            raise ConfigError(
                f"{path}: name {cfg.name!r} is also the name of {names[cfg.name]}; each scenario needs its own name"
            )
        names[cfg.name] = path
    seeds = {cfg.run.seed for cfg in loaded}
    if len(seeds) > 1:
        listed = ", ".join(f"{path} {cfg.run.seed}" for cfg, path in zip(loaded, paths, strict=True))
        raise ConfigError(
            f"the configs have different run.seed ({listed}); give --seed to run them with the same seeds"
        )


def _report_run(cfg: FlowsimConfig, out_dir: Path, records: list[RunRecord], quiet: bool) -> None:
    done = [r for r in records if r.status == "done"]
    skipped = [r for r in records if r.status == "skipped"]
    failed = [r for r in records if r.status == "failed"]  # each already logged as an error
    counts = ", ".join(
        text
        for group, text in (
            (done, f"{len(done)} new run{'s' if len(done) != 1 else ''}"),
            (skipped, f"{len(skipped)} skipped (done before)"),
            (failed, f"{len(failed)} failed"),
        )
        if group
    )
    if not quiet and len(failed) < len(records):
        _print_kpis(cfg, out_dir, [r.replication for r in records if r.status != "failed"])
    typer.echo(f"Results: {out_dir} ({counts})")
    if failed:
        raise typer.Exit(1)


def _kpi_rows(kpis: pa.Table) -> list[tuple[str, str, str]]:
    """(label, mean, min–max) for each headline KPI present in the table, as the registry
    labels and formats it."""
    import pyarrow.compute as pc

    from flowsim.metrics.registry import HEADLINE_KPIS, kpi

    rows = []
    for column in HEADLINE_KPIS:
        if column not in kpis.column_names:
            continue
        measure = kpi(column)
        values = kpis.column(column).cast("double")
        mean = pc.mean(values).as_py()
        lo, hi = pc.min(values).as_py(), pc.max(values).as_py()
        spread = f"{measure.format(lo)} – {measure.format(hi)}" if kpis.num_rows > 1 else ""
        rows.append((measure.label, measure.format(mean), spread))
    return rows


def _print_kpis(cfg: FlowsimConfig, out_dir: Path, replications: list[int]) -> None:
    import pyarrow.compute as pc
    from rich.table import Table

    from flowsim.results import read_table

    # Read back, each file checked against its manifest: the table shows what was stored.
    kpis = read_table(out_dir, "kpis", scenario=cfg.name, replications=replications)
    n = kpis.num_rows
    days = pc.max(kpis.column("days")).as_py() if "days" in kpis.column_names else cfg.run.horizon_days
    table = Table(
        title=(
            f"{cfg.name}: headline KPIs over {days:,.0f} days after {cfg.run.warmup_days} warm-up days"
            f" ({n} replication{'s' if n != 1 else ''})"
        ),
        title_justify="left",
    )
    table.add_column("KPI")
    table.add_column("mean" if n > 1 else "value", justify="right")
    if n > 1:
        table.add_column("range over replications", justify="right")
    for label, mean, spread in _kpi_rows(kpis):
        table.add_row(label, mean, *([spread] if n > 1 else []))
    _console().print(table)


# --------------------------------------------------------------------------------------
# flowsim validate


@app.command()
def validate(
    config: Annotated[Path, typer.Argument(help="The config (YAML) to check.", show_default=False)],
    set_: SetOption = None,
) -> None:
    """Check a config without running it: YAML, `extends:` chain, every key and value.

    Prints "ok: NAME (sha256 HASH)": the hash every result of this config will carry
    — or one line naming the file, the key path and what was expected (exit status 2).

    **Example**

        flowsim validate configs/footprint.yaml --set run.seed=7
    """
    from flowsim.config.loader import config_hash

    with _user_errors():
        cfg = _load(config, _overrides(set_ or []))
        typer.echo(f"ok: {cfg.name} (sha256 {config_hash(cfg)})")


# --------------------------------------------------------------------------------------
# flowsim reproduce


@app.command()
def reproduce(
    manifest: Annotated[
        Path,
        typer.Argument(
            help="A run's manifest.json (or its folder), or an experiment: its spec (YAML) or "
            "experiment.json.",
            show_default=False,
        ),
    ],
    sample: Annotated[
        int | None,
        typer.Option(
            min=1, help="Experiment: re-run only this many runs, drawn at random.", show_default=False
        ),
    ] = None,
    results: Annotated[
        Path | None,
        typer.Option(
            help="Experiment spec: its results folder.  [default: results/NAME]", show_default=False
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Experiment: runs re-run in parallel.")] = 1,
) -> None:
    """Check a recorded run's files against its manifest, re-run it and compare bit for bit.

    Each table's file in the results folder is checked against the sha256 its manifest
    records (a damaged file is named); the config, replication and seed come from the
    manifest, the run is repeated in a temporary folder and each new file's sha256 is
    compared too. Exit status 0 if all match, 1 if a file is damaged or the re-run
    differs, 2 if the manifest cannot be used.

    **Example**

        flowsim reproduce results/demo/runs/scenario=footprint/replication=0/manifest.json
        flowsim reproduce experiments/sensitivity.yaml --sample 5

    An experiment (see `flowsim sweep`) is reproduced run by run, each from its manifest;
    one line a run, exit status 0 only if every hash of every run matches.
    """
    from rich.table import Table

    from flowsim.reproduce import reproduce as reproduce_run
    from flowsim.sweep.reproduce import is_experiment

    if is_experiment(manifest):
        _reproduce_experiment(manifest, results, sample, workers)
        return

    with _user_errors():
        console = _console()
        if sys.stdout.isatty():
            with console.status("Re-running the recorded run…"):
                report = reproduce_run(manifest)
        else:
            report = reproduce_run(manifest)
    table = Table(
        title=f"{report.scenario}, replication {report.replication} (config sha256 {report.config_sha256[:12]}…)",
        title_justify="left",
    )
    table.add_column("table")
    table.add_column("recorded sha256")
    table.add_column("on disk")
    table.add_column("re-run")
    table.add_column("result")

    def short(sha: str | None, recorded: str | None) -> str:
        if sha is None:
            return "(none)"
        return "same" if sha == recorded else sha[:16]

    for check in report.files:
        table.add_row(
            check.name,
            (check.recorded_sha256 or "(none)")[:16],
            short(check.disk_sha256, check.recorded_sha256) if check.disk_checked else "not checked",
            short(check.rerun_sha256, check.recorded_sha256),
            f"[green]{check.verdict}[/green]" if check.match else f"[red]{check.verdict.upper()}[/red]",
        )
    console.print(table)
    if not report.disk_checked:
        console.print("note: files on disk not checked (the manifest is not inside its results folder)")
    for note in report.environment_notes:
        console.print(f"note: {note}", markup=False)
    n = len(report.files)
    if report.all_match:
        where = "on disk and re-run" if report.disk_checked else "re-run"
        typer.echo(f"reproduced: all {n} tables match ({where})")
        return
    problems = [f"{check.name} {check.verdict}" for check in report.mismatches]
    typer.echo(f"not reproduced: {len(problems)} of {n} tables: {', '.join(problems)}")
    raise typer.Exit(1)


# --------------------------------------------------------------------------------------
# flowsim info


@app.command()
def info(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print as JSON (for scripts and bug reports).")
    ] = False,
) -> None:
    """Show the flowsim version, the active core and the versions of key packages.

    This is what every run's manifest records. The core is "compiled" (Cython) or
    "python" (the pure-Python twin: same results, far slower; FLOWSIM_PURE_PYTHON=1
    forces it).

    **Example**

        flowsim info --json
    """
    from rich.table import Table

    from flowsim.results import environment

    env = environment()
    if as_json:
        typer.echo(json.dumps(env, indent=2, sort_keys=True))
        return
    table = Table(title="flowsim", title_justify="left", show_header=False)
    table.add_column("item")
    table.add_column("value")
    commit = env["git_commit"]
    table.add_row("flowsim", env["flowsim_version"])
    table.add_row(
        "git commit",
        f"{commit[:12]}{' (uncommitted changes)' if env['git_dirty'] else ''}" if commit else "–",
    )
    table.add_row("core", env["core"])
    table.add_row("Python", f"{env['python']} ({env['python_implementation']})")
    for name, version in env["packages"].items():
        table.add_row(name, version)
    table.add_row("platform", env["platform"]["platform"])
    table.add_row("CPUs", str(env["platform"]["cpu_count"]))
    _console().print(table)


# --------------------------------------------------------------------------------------
# flowsim report …

report_app = typer.Typer(
    name="report",
    help="Build a report from replications of a config (Markdown and figures).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(report_app)


@report_app.command("validation")
def report_validation(
    config: Annotated[Path, typer.Argument(help="The config (YAML) to validate.", show_default=True)] = Path(
        "configs/footprint.yaml"
    ),
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the report, its figures and its runs.")
    ] = Path("results/validation"),
    replications: Annotated[int, typer.Option(min=1, help="Replications to run.")] = 3,
    workers: Annotated[int, typer.Option(min=1, help="Replications run in parallel, one process each.")] = 2,
    targets: Annotated[
        Path | None,
        typer.Option(
            help="Targets file.  [default: configs/validation/targets.yaml of this checkout]",
            show_default=False,
        ),
    ] = None,
    docs: Annotated[
        bool, typer.Option("--docs", help="Also write the repository's docs/validation.md and its figures.")
    ] = False,
    set_: SetOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or messages.")] = False,
) -> None:
    """Set a config beside the national figures it must reproduce, and check the core
    against queueing theory.

    Runs the replications into OUT/runs/ (skipping any already done with the same
    config), compares their KPIs with the calibration targets (mean and 95% t interval
    over replications), runs the analytic checks of the core (Erlang B and C, Little's
    law, twins, conservation) and writes OUT/validation.md with its figures in
    OUT/validation/. Exit status 0 if everything passes, 1 if a target or check fails
    (the report is written either way), 2 for a bad argument or file.

    **Examples**

        flowsim report validation
        flowsim report validation configs/small.yaml --replications 2 --out results/val-small
        flowsim report validation --docs      # regenerate docs/validation.md
    """
    from flowsim.validation.report import ReportError, RunsFailed, build_report, outcome_line

    say = None if quiet else (lambda message: typer.echo(message, err=True))
    with _user_errors():
        overrides = _overrides(set_ or [])
        command = " ".join(
            ["flowsim report validation", str(config)]
            + ([f"--replications {replications}"] if replications != 3 else [])
            + [f"--set {pair}" for pair in set_ or []]
        )
        try:
            outcome = build_report(
                config,
                overrides=overrides,
                out_dir=out,
                replications=replications,
                workers=workers,
                targets_path=targets,
                docs=docs,
                progress=not quiet and sys.stderr.isatty(),
                command=command,
                log=say,
            )
        except ReportError as exc:
            _fail(str(exc))
        except RunsFailed as exc:
            _fail(str(exc), code=1)
    typer.echo(outcome_line(outcome))
    if not outcome.passed:
        raise typer.Exit(1)


# --------------------------------------------------------------------------------------
# flowsim compare


@app.command()
def compare(
    results: Annotated[
        Path, typer.Argument(help="A results folder (the --out of `flowsim run`).", show_default=False)
    ],
    baseline: Annotated[
        str | None,
        typer.Option(
            help="The scenario to compare with.  [default: the scenario named 'baseline', else the first "
            "alphabetically]",
            show_default=False,
        ),
    ] = None,
    format_: Annotated[
        Literal["table", "csv", "parquet", "markdown"],
        typer.Option("--format", "-f", help="table (the terminal), csv, parquet or markdown."),
    ] = "table",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file instead of the terminal (parquet needs it)."),
    ] = None,
    kpi: Annotated[
        list[str] | None,
        typer.Option(
            "--kpi",
            metavar="NAME",
            help="A KPI to compare, by its column name (repeatable; 'all' for every one).  [default: the "
            "headline KPIs]",
            show_default=False,
        ),
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            metavar="'KPI<=VALUE'",
            help="A target each replication should meet: KPI<=VALUE, KPI>=VALUE or KPI<=baseline; a "
            "proportion takes a percentage, e.g. 'acute_occupancy_mean<=92%' (repeatable).",
            show_default=False,
        ),
    ] = None,
    precision: Annotated[
        float,
        typer.Option(help="Precision the replications check aims at: ± this share of the mean."),
    ] = 0.05,
) -> None:
    """Compare scenarios with a baseline: is the change better, worse or no different, and
    does the plan meet its targets?

    For each KPI and scenario: the mean over replications with its 95% interval, and the
    difference from the baseline paired replication by replication (scenarios run with
    the same seeds share common random numbers) with its interval and a verdict ("worse
    than baseline, significant"). Replications without a baseline partner are left out
    of the differences, and counted. For each target, the share of replications in which
    each scenario meets it: the chance that the plan works. The last column says how many
    replications the KPI needs for the stated precision (Hoad, Robinson and Davies 2010).

    **Examples**

        flowsim compare results/beds
        flowsim compare results/beds --target 'acute_occupancy_mean<=92%' --target 'spend_total<=baseline'
        flowsim compare results/beds --kpi all --format csv --out results/beds-compare.csv
    """
    from flowsim.compare import CompareError, parse_target, render, write_comparison
    from flowsim.compare import compare as compare_results

    with _user_errors():
        try:
            if format_ == "parquet" and out is None:
                raise CompareError("--format parquet writes a file: give one with --out")
            if format_ == "csv" and out is None and target:
                raise CompareError("--format csv with --target writes two tables: give a file with --out")
            targets = [parse_target(t) for t in target or []]
            kpis = [k.strip() for item in kpi for k in item.split(",") if k.strip()] if kpi else None
            comparison = compare_results(results, baseline, kpis, targets, precision=precision)
            if out is not None:
                written = write_comparison(comparison, format_, out)
            elif format_ == "table":
                from flowsim.compare import print_comparison

                print_comparison(comparison, _console())
                return
            else:
                typer.echo(render(comparison, format_), nl=False)
                return
        except CompareError as exc:
            _fail(str(exc))
    typer.echo(f"Comparison: {', '.join(str(p) for p in written)}")


# --------------------------------------------------------------------------------------
# flowsim sweep, flowsim summarise (experiments: flowsim/sweep/, flowsim/summarise.py)


@app.command()
def sweep(
    experiment: Annotated[
        Path, typer.Argument(help="An experiment spec (experiments/NAME.yaml).", show_default=False)
    ],
    workers: Annotated[str, typer.Option(help="Runs at once: a number, or 'auto' for one per CPU.")] = "1",
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="A Dask scheduler's address (tcp://host:8786): run on its workers.", show_default=False
        ),
    ] = None,
    cluster: Annotated[
        Literal["local"] | None,
        typer.Option(help="'local': start a Dask LocalCluster of --workers processes.", show_default=False),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Results folder.  [default: results/NAME]", show_default=False),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace the runs of another experiment (or config) OUT holds."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Run every (scenario, sample, replication) of an experiment: on local cores, or a
    Dask cluster.

    Each run is stored as `flowsim run` stores one (OUT/TABLE/scenario=S/replication=K),
    a swept run under scenario S.sNNNN, with its parameter values as columns of `kpis`
    and a `samples` table; OUT/experiment.json records the spec, its hash, the code
    version and every run's status. A run that fails is recorded with its traceback and
    the others go on (exit status 1 then). Started again with the same command after a
    kill, it skips finished runs. Another experiment in OUT is refused unless --overwrite.

    **Examples**

        flowsim sweep experiments/sensitivity.yaml --workers auto
        flowsim sweep experiments/england.yaml --cluster local --workers 2
        flowsim sweep experiments/england.yaml --scheduler tcp://10.0.0.5:8786
    """
    import os

    from flowsim.sweep.runner import SweepInterrupted, open_executor, run_sweep
    from flowsim.sweep.spec import load_experiment

    with _user_errors():
        if workers == "auto":
            n_workers = max(
                1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
            )
        elif workers.isdigit() and int(workers) >= 1:
            n_workers = int(workers)
        else:
            _fail(f"--workers {workers!r}: expected a number of 1 or more, or 'auto'")
        if scheduler is not None and cluster is not None:
            _fail("give --scheduler or --cluster local, not both")
        spec = load_experiment(experiment)
        out_dir = out if out is not None else Path("results") / spec.spec.name
        try:
            with open_executor(n_workers, scheduler, cluster == "local") as (executor, slots):
                runs = run_sweep(
                    spec,
                    out_dir,
                    workers=n_workers,
                    executor=executor,
                    slots=slots,
                    overwrite=overwrite,
                    progress=not quiet,
                )
        except SweepInterrupted as exc:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            typer.echo(
                f"interrupted: {out_dir}: {exc.summary()}; run the same command again to do the rest",
                err=True,
            )
            raise typer.Exit(130) from None
    from flowsim.sweep.runner import tally

    failed = [r for r in runs if r.status == "failed"]
    for run in failed[:10]:
        typer.echo(
            f"failed: {run.folder} replication {run.replication}: {run.error} "
            f"(traceback in {out_dir}/runs/scenario={run.folder}/replication={run.replication}/error.txt)",
            err=True,
        )
    if len(failed) > 10:
        typer.echo(f"failed: … and {len(failed) - 10} more (see {out_dir}/experiment.json)", err=True)
    typer.echo(f"Sweep {spec.spec.name}: {out_dir} ({tally(runs)})")
    if failed:
        raise typer.Exit(1)


@app.command()
def summarise(
    results: Annotated[
        Path, typer.Argument(help="A sweep's results folder (its --out).", show_default=False)
    ],
    format_: Annotated[
        Literal["table", "csv", "markdown"],
        typer.Option(
            "--format",
            "-f",
            help="table (the terminal), csv (the tidy table; with --out, OUT-sensitivity.csv too) or markdown.",
        ),
    ] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of the terminal.")
    ] = None,
    kpi: Annotated[
        list[str] | None,
        typer.Option(
            "--kpi", metavar="NAME", help="A KPI by column name (repeatable).  [default: the headline KPIs]"
        ),
    ] = None,
    by: Annotated[
        Literal["sample", "scenario", "total"],
        typer.Option(
            help="A row per sample (with its parameters), per scenario (samples pooled), or 'total': "
            "all scenarios together (counts, beds and money added; shares and rates weighted by population; e.g. national)."
        ),
    ] = "sample",
) -> None:
    """Summarise a sweep: KPI means and 95% intervals with their parameters, and which
    parameters matter most.

    One tidy table: a row per scenario and sample (its parameter values, each KPI's mean
    over replications and 95% interval), then, per KPI, the global sensitivity of the
    design: Sobol first-order and total indices (SALib) for a Sobol design, the swing
    of each parameter's main effect (a tornado ranking) for a grid or sampled design.

    **Examples**

        flowsim summarise results/sensitivity
        flowsim summarise results/england --by scenario --format csv --out england.csv
    """
    from flowsim.summarise import SummaryError, print_summary, render_summary, summarise_sweep

    with _user_errors():
        try:
            kpis = [k.strip() for item in kpi for k in item.split(",") if k.strip()] if kpi else None
            summary = summarise_sweep(results, kpis, by=by)
        except SummaryError as exc:
            _fail(str(exc))
        if format_ == "table" and out is None:
            print_summary(summary, _console())
            return
        text = render_summary(summary, "markdown" if format_ == "table" else format_)
        if out is None:
            typer.echo(text, nl=False)
            return
        out.write_text(text, encoding="utf-8")
        written = [out]
        if format_ == "csv" and summary.sensitivity:
            from flowsim.summarise import render_sensitivity_csv

            written.append(out.with_name(f"{out.stem}-sensitivity{out.suffix}"))
            written[-1].write_text(render_sensitivity_csv(summary), encoding="utf-8")
    typer.echo(f"Summary: {', '.join(str(p) for p in written)}")


def _reproduce_experiment(target: Path, results: Path | None, sample: int | None, workers: int) -> None:
    """`flowsim reproduce` of an experiment: a line a run, then the verdict."""
    from flowsim.sweep.reproduce import reproduce_experiment

    with _user_errors():
        root, checks = reproduce_experiment(target, results=results, sample=sample, workers=workers)
    for check in checks:
        where = f"{check.folder} replication {check.replication}"
        if check.report is None:
            typer.echo(f"NOT REPRODUCED  {where}: {check.problem}")
        elif check.match:
            typer.echo(f"match           {where}: all {len(check.report.files)} tables")
        else:
            bad = ", ".join(f"{f.name} {f.verdict}" for f in check.report.mismatches)
            typer.echo(f"NOT REPRODUCED  {where}: {bad}")
    failed = [c for c in checks if not c.match]
    if failed:
        typer.echo(f"not reproduced: {len(failed)} of {len(checks)} runs of {root}")
        raise typer.Exit(1)
    typer.echo(f"reproduced: all {len(checks)} runs of {root} match (on disk and re-run)")


# flowsim dashboard


@app.command()
def dashboard(
    results: Annotated[
        Path,
        typer.Argument(
            help="A results folder (the --out of `flowsim run`): one run, several scenarios or a sweep.",
            show_default=False,
        ),
    ],
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to serve on (0: any free port).")] = 8050,
    host: Annotated[
        str, typer.Option(help="Address to bind: 127.0.0.1 serves this machine only; 0.0.0.0 every network.")
    ] = "127.0.0.1",
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            metavar="'KPI<=VALUE'",
            help="A target for the overview's chance of meeting it, as in `flowsim compare` (repeatable).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the dashboard of a results folder in the browser: headline tiles against the
    baseline, capacity over time, patient flow, money, sweeps, provenance and a board paper.

    Binds to 127.0.0.1 (this machine only) unless told otherwise with --host. For a
    production server, see docs/dashboard.md (`dashboards/wsgi.py`).

    **Examples**

        flowsim dashboard results/beds
        flowsim dashboard results/beds --port 8060 --target 'acute_occupancy_mean<=92%'
    """
    from flowsim.compare import CompareError, parse_target

    with _user_errors():
        try:
            from flowsim.dashboard.data import check_results_folder

            check_results_folder(results)
            for text in target or []:
                parse_target(text)
        except CompareError as exc:
            _fail(str(exc))
        try:
            from flowsim.dashboard import create_app
        except ImportError as exc:
            _fail(
                f"the dashboard needs its extra packages ({exc.name} is missing): pip install 'flowsim[dashboard]'"
            )
        port = _free_port(host, port)
        app_ = create_app(results, target or [])
        typer.echo(f"flowsim dashboard of {results} on http://{host}:{port}/ (Ctrl-C stops it)")
        app_.run(host=host, port=port, debug=False)


def _free_port(host: str, port: int) -> int:
    """`port` if it can be bound on `host` (any free port for 0); else one line and exit 2
    (the web server would otherwise print its own advice and exit 1)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, *_, address = infos[0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
            return int(probe.getsockname()[1])
    except OSError as exc:
        _fail(f"cannot serve on {host}:{port} ({exc.strerror or exc}); choose another --port or --host")


# --------------------------------------------------------------------------------------
# Entry point


def _click_exceptions() -> tuple[type[Exception], type[BaseException]]:
    """Click's ClickException and Abort as Typer uses them (its own copy or click's)."""
    click_exception = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
    return click_exception, typer.Abort


class _LowercaseLevel(logging.Formatter):
    """ "error: …", "warning: …": log lines read like the command's own messages."""

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)
        record.levelname = record.levelname.lower()
        return super().format(record)


def main(argv: Sequence[str] | None = None) -> int:
    """The console entry point: logging set up here (never at import), errors as one line."""
    handler = logging.StreamHandler()
    handler.setFormatter(_LowercaseLevel("%(levelname)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    click_exception, abort = _click_exceptions()
    command = typer.main.get_command(app)
    try:
        result = command.main(
            args=list(argv) if argv is not None else None, prog_name="flowsim", standalone_mode=False
        )
    except click_exception as exc:
        message = exc.format_message()  # type: ignore[attr-defined]
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        typer.echo(f"error: {message}{hint}", err=True)
        return int(getattr(exc, "exit_code", 2) or 2)
    except abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    return result if isinstance(result, int) else 0
