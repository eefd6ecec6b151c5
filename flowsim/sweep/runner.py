"""Run every (scenario, sample, replication) of an experiment into one results folder.

The runs are those of `flowsim run`: each simulated and staged where it runs (this
process, a local process pool, or a Dask worker: the folder must then be on a filesystem
the workers share), and committed here, one at a time, under the folder's lock
(`flowsim.experiment`, `flowsim.results`, `flowsim.journal`). So a run is whole or
absent, a killed sweep (this process, or a worker) started again skips every finished
run and does the rest, and a run that raises is recorded with its traceback while the
others go on. `experiment.json` beside the runs records the spec, its hash, the code
version and every run's status; a folder holding another experiment is refused unless
`overwrite`.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import json
import logging
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowsim import journal
from flowsim.experiment import (
    _commit,
    _ctrl_c_ignored,
    _Outcome,
    _stage_one,
    _why_not_finished,
    _worker_init,
)
from flowsim.results import (
    MANIFEST,
    ResultsError,
    defer_interrupts,
    environment,
    lock_results_folder,
    read_manifest,
    run_identity,
    settle_scenario,
)
from flowsim.sweep.progress import SweepProgress
from flowsim.sweep.tables import sweep_record

if TYPE_CHECKING:
    from flowsim.sweep.spec import Cell, Experiment

__all__ = [
    "EXPERIMENT_FILE",
    "SweepInterrupted",
    "SweepRun",
    "open_executor",
    "read_experiment_record",
    "run_sweep",
]

EXPERIMENT_FILE = "experiment.json"
RECORD_KIND = "flowsim-experiment"
RECORD_VERSION = 1

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep and what became of it."""

    folder: str  # its scenario folder: `scenario=<folder>` in every table
    scenario: str
    sample: int | None
    replication: int
    status: str  # done, skipped (done before), failed, or pending (not run yet)
    error: str | None = None
    wall_seconds: float = 0.0


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C: the runs committed so far are kept; the same command does the rest."""

    def __init__(self, runs: list[SweepRun]):
        super().__init__()
        self.runs = runs

    def summary(self) -> str:
        return tally(self.runs)


def tally(runs: list[SweepRun]) -> str:
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    order = ("done", "skipped", "failed", "pending")
    return ", ".join(f"{counts[s]} {'not done' if s == 'pending' else s}" for s in order if counts.get(s))


# --------------------------------------------------------------------------------------
# experiment.json


def read_experiment_record(root: str | os.PathLike[str]) -> dict[str, Any]:
    """The experiment.json of a sweep's results folder; `ResultsError` if it cannot be used."""
    path = Path(root) / EXPERIMENT_FILE
    if Path(root).is_file() and Path(root).name == EXPERIMENT_FILE:
        path = Path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(
            f"{path}: no such file; is {path.parent} the --out of a `flowsim sweep`?"
        ) from None
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot read ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != RECORD_KIND:
        raise ResultsError(f'{path}: not a flowsim experiment record (no "kind": "{RECORD_KIND}")')
    if data.get("version") != RECORD_VERSION:
        raise ResultsError(
            f"{path}: experiment record version {data.get('version')!r}, expected {RECORD_VERSION}"
        )
    return data


def _record(experiment: Experiment, runs: dict[tuple[str, int], SweepRun]) -> dict[str, Any]:
    spec = experiment.spec
    samples = []
    seen = set()
    for cell in experiment.cells:
        if cell.sample is not None and cell.sample not in seen:
            seen.add(cell.sample)
            samples.append({"sample": cell.sample, **cell.parameters})
    return {
        "kind": RECORD_KIND,
        "version": RECORD_VERSION,
        "name": spec.name,
        "spec_path": str(experiment.path),
        "spec": json.loads(experiment.spec_text),
        "experiment_sha256": experiment.sha256,
        **{
            k: v
            for k, v in environment().items()
            if k in ("flowsim_version", "git_commit", "git_dirty", "core")
        },
        "design": spec.sweep.design if spec.sweep else None,
        "parameters": experiment.parameters,
        "samples": samples,
        "unit_samples": None if experiment.unit_samples is None else experiment.unit_samples.tolist(),
        "scenarios": sorted({c.scenario for c in experiment.cells}),
        "runs": [asdict(run) for run in runs.values()],
        "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _write_record(root: Path, record: dict[str, Any]) -> None:
    text = json.dumps(record, indent=1, sort_keys=False, ensure_ascii=False) + "\n"
    journal.write_durably(root / EXPERIMENT_FILE, text.encode("utf-8"))


def _check_same_experiment(root: Path, experiment: Experiment, overwrite: bool) -> None:
    if not (root / EXPERIMENT_FILE).exists():
        return
    held = read_experiment_record(root)
    if held.get("experiment_sha256") == experiment.sha256 or overwrite:
        return
    raise ResultsError(
        f"{root}: holds experiment {held.get('name')!r} made from another spec (sha256 "
        f"{str(held.get('experiment_sha256'))[:12]}…, this one {experiment.sha256[:12]}…); "
        f"write to another folder with --out, or replace its runs with --overwrite"
    )


# --------------------------------------------------------------------------------------
# Where runs go


@contextlib.contextmanager
def open_executor(
    workers: int, scheduler: str | None = None, local_cluster: bool = False
) -> Iterator[tuple[cf.Executor | None, int]]:
    """(executor, slots): None for this process's own pool of `workers`; a Dask client's
    executor for a scheduler address or a local Dask cluster of `workers` processes."""
    if scheduler is None and not local_cluster:
        yield None, workers
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ResultsError("Dask is not installed: pip install 'flowsim[sweep]'") from None
    with contextlib.ExitStack() as stack:
        if local_cluster:
            cluster = stack.enter_context(
                LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout="20s"))
            except (OSError, TimeoutError) as exc:
                raise ResultsError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        slots = sum(client.nthreads().values()) or workers
        yield client.get_executor(pure=False), slots


# --------------------------------------------------------------------------------------
# Running


def _key(cell: Cell, replication: int) -> tuple[str, int]:
    return (cell.name, replication)


def _work(cell: Cell) -> int:
    """A run's work, roughly: people times days."""
    run = cell.config.run
    return cell.config.population.size * (run.warmup_days + run.horizon_days)


def _skippable(root: Path, cell: Cell, replication: int, identity: str, record: dict[str, Any]) -> bool:
    episodes = cell.config.outputs.episodes
    if _why_not_finished(root, cell.name, replication, identity, episodes) is not None:
        return False
    manifest = read_manifest(
        root / "runs" / f"scenario={cell.name}" / f"replication={replication}" / MANIFEST
    )
    return bool(manifest.get("meta", {}).get("sweep") == record)


def run_sweep(
    experiment: Experiment,
    out_dir: str | os.PathLike[str],
    *,
    workers: int = 1,
    executor: cf.Executor | None = None,
    slots: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    log_every_seconds: float = 10.0,
) -> list[SweepRun]:
    """Run (or skip, if done) every run of `experiment` into `out_dir`; one `SweepRun` each.

    `executor` (a Dask client's ``get_executor()``) runs them elsewhere; otherwise
    `workers` > 1 starts a local process pool, and 1 runs them here. Raises `ResultsError`
    (one line) for a folder that cannot be used, `SweepInterrupted` on Ctrl-C.
    """
    if workers < 1:
        raise ValueError("workers must be 1 or more")
    spec = experiment.spec
    with lock_results_folder(out_dir) as root:
        _check_same_experiment(root, experiment, overwrite)
        try:
            for cell in experiment.cells:
                settle_scenario(root, cell.name, cell.config, overwrite=overwrite)
        except OSError as exc:
            raise ResultsError(f"{root}: cannot write results ({exc.strerror or exc})") from None
        runs: dict[tuple[str, int], SweepRun] = {}
        todo: list[tuple[Cell, int, dict[str, Any]]] = []
        for cell in experiment.cells:
            identity = run_identity(cell.config)
            record = sweep_record(spec.name, cell.scenario, cell.sample, cell.parameters, spec.tables)
            for replication in range(spec.replications):
                status = "skipped" if _skippable(root, cell, replication, identity, record) else "pending"
                runs[_key(cell, replication)] = SweepRun(
                    cell.name, cell.scenario, cell.sample, replication, status
                )
                if status == "pending":
                    todo.append((cell, replication, record))
        _write_record(root, _record(experiment, runs))
        last_write = [time.monotonic()]
        # The biggest runs first, so that a long one does not start last and run alone.
        todo.sort(key=lambda job: -_work(job[0]))

        def settle(cell: Cell, outcome: _Outcome, bar: SweepProgress) -> None:
            with defer_interrupts():  # a Ctrl-C now waits until the run is committed and counted
                rec = _commit(root, cell.name, outcome, {}, [])
                runs[_key(cell, outcome.replication)] = SweepRun(
                    cell.name,
                    cell.scenario,
                    cell.sample,
                    outcome.replication,
                    rec.status,
                    rec.error,
                    round(rec.wall_seconds, 3),
                )
            bar.finished(rec.status == "failed")
            if time.monotonic() - last_write[0] > 2.0:
                _write_record(root, _record(experiment, runs))
                last_write[0] = time.monotonic()

        skipped = len(runs) - len(todo)
        n_slots = slots or (workers if executor is None else 1)
        bar = SweepProgress(
            len(runs),
            slots=min(n_slots, max(1, len(todo))),
            skipped=skipped,
            enabled=progress,
            every_seconds=log_every_seconds,
        )
        try:
            with bar:
                if executor is None and (workers == 1 or len(todo) <= 1):
                    for cell, replication, record in todo:
                        settle(cell, _stage_one(*_stage_args(cell, replication, root, record)), bar)
                else:
                    _run_parallel(todo, root, workers, executor, lambda c, o: settle(c, o, bar))
        except KeyboardInterrupt:
            raise SweepInterrupted(list(runs.values())) from None
        finally:
            with contextlib.suppress(OSError):
                _write_record(root, _record(experiment, runs))
        return list(runs.values())


def _stage_args(cell: Cell, replication: int, root: Path, record: dict[str, Any]) -> tuple[Any, ...]:
    """What `_stage_one` needs to run one (cell, replication) into `root`, here or in a worker."""
    return (cell.config, replication, str(root), cell.config.outputs.episodes, None, record)


POOL_RESTARTS = 2  # new local pools after a worker dies, before its runs count as failed


def _run_parallel(
    todo: list[tuple[Cell, int, dict[str, Any]]],
    root: Path,
    workers: int,
    executor: cf.Executor | None,
    settle: Callable[[Cell, _Outcome], None],
) -> None:
    """Run `todo` on `executor`, or on a local spawn pool, settling each run as it ends.

    A local pool whose worker dies (killed, out of memory) is broken for every run it
    holds: those runs go to a new pool, up to `POOL_RESTARTS` times, then count as failed.
    (A Dask scheduler reschedules a dead worker's runs itself.)
    """
    if executor is not None:
        _run_on(executor, todo, root, settle, lose_to_broken_pool=False)
        return
    remaining = todo
    for attempt in range(POOL_RESTARTS + 1):
        context = multiprocessing.get_context("spawn")
        stop_workers = context.Event()
        pool = cf.ProcessPoolExecutor(
            max_workers=min(workers, len(remaining)),
            mp_context=context,
            initializer=_worker_init,
            initargs=(os.getpid(), stop_workers, None),
        )
        remaining = _run_on(
            pool,
            remaining,
            root,
            settle,
            lose_to_broken_pool=attempt < POOL_RESTARTS,
            stop_workers=stop_workers,
        )
        if not remaining:
            return
        log.warning("a worker of the local pool died: %d run(s) go to a new pool", len(remaining))


def _run_on(
    executor: cf.Executor,
    todo: list[tuple[Cell, int, dict[str, Any]]],
    root: Path,
    settle: Callable[[Cell, _Outcome], None],
    *,
    lose_to_broken_pool: bool,
    stop_workers: Any = None,
) -> list[tuple[Cell, int, dict[str, Any]]]:
    """Submit `todo`, settle each run as it ends; return the runs a broken local pool lost
    (when `lose_to_broken_pool`). On any exception queued runs are cancelled and a local
    pool (`stop_workers` given) is stopped at once."""
    from concurrent.futures.process import BrokenProcessPool

    futures: dict[cf.Future[_Outcome], tuple[Cell, int, dict[str, Any]]] = {}
    lost: list[tuple[Cell, int, dict[str, Any]]] = []
    finished = False
    try:
        with _ctrl_c_ignored():  # pool workers start now, and inherit the ignoring
            for job in todo:
                cell, replication, record = job
                future = executor.submit(_stage_one, *_stage_args(cell, replication, root, record))
                futures[future] = job
        for future in cf.as_completed(futures):
            cell, replication, record = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the worker itself died (killed, out of memory, ...)
                if lose_to_broken_pool and isinstance(exc, BrokenProcessPool):
                    lost.append(futures[future])
                    continue
                text = "".join(traceback.format_exception(exc))
                error = f"worker died: {type(exc).__name__}: {exc}".splitlines()[0]
                outcome = _Outcome(replication, None, 0.0, error, text)
            settle(cell, outcome)
        finished = True
    finally:
        with _ctrl_c_ignored():
            for future in futures:
                future.cancel()
            if stop_workers is not None:
                if not finished:
                    stop_workers.set()  # runs under way end now: their files are never committed
                executor.shutdown(wait=True, cancel_futures=True)
    return lost
