"""Replications of one config: run each, commit it whole, skip what is done, survive failures.

Each replication is one run (`flowsim.model.simulate`). Its tables and manifest are
written to the folder's staging area (in a worker, when there are workers) and committed
by this process, one run at a time, while it holds the folder's lock: a second command
on the same folder is refused, and a kill at any moment leaves whole runs only.

A replication whose manifest records the same config (`run_identity`: the config less
`run.replications`, `outputs` and `description`) and whose files on disk match the
manifest's sha256 is skipped, so a killed job resumes where it stopped; a damaged one is
named and run again. A folder that holds runs of another config under the scenario's
name is refused, unless asked to `overwrite` them. A run that raises is recorded (its
traceback in ``error.txt``) and the others go on; results that cannot be written (a full
disk) stop everything with one line.

Runs go to any `concurrent.futures.Executor`: a local process pool (spawn start method,
so workers never inherit the parent's state) when more than one worker is asked for,
serially in this process otherwise. Pool workers ignore Ctrl-C (this process handles it),
and die with this process, even if it is killed outright. Progress bars are drawn here.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from flowsim.results import (
    ERROR_FILE,
    MANIFEST,
    ResultsError,
    StagedRun,
    commit_run,
    defer_interrupts,
    lock_results_folder,
    manifest_problems,
    read_manifest,
    run_dir,
    run_identity,
    settle_scenario,
    stage_failure,
    stage_run,
    verify_run,
)

if TYPE_CHECKING:
    from flowsim.config.schema import FlowsimConfig

__all__ = [
    "RunRecord",
    "RunsInterrupted",
    "is_finished",
    "run_identity",
    "run_replications",
    "run_replications_detailed",
]

log = logging.getLogger(__name__)

Status = Literal["done", "skipped", "failed"]
DayProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class RunRecord:
    """What happened to one replication: done now, skipped (done before) or failed."""

    scenario: str
    replication: int
    path: Path  # the run's folder (manifest.json, or error.txt if it failed)
    status: Status
    wall_seconds: float = 0.0
    error: str | None = None  # the last line of the traceback, when failed


class RunsInterrupted(KeyboardInterrupt):
    """Ctrl-C: the runs committed so far are kept whole; queued and running ones are not."""

    def __init__(self, records: Sequence[RunRecord], not_done: Sequence[int]):
        super().__init__()
        self.records = list(records)
        self.not_done = sorted(not_done)

    def summary(self) -> str:
        return tally(self.records, self.not_done)


def _numbers(values: Iterable[int]) -> str:
    """0, 1, 2, 5 as '0-2, 5'."""
    values = sorted(values)
    spans: list[str] = []
    start = prev = None
    for v in [*values, None]:
        if v is not None and prev is not None and v == prev + 1:
            prev = v
            continue
        if start is not None:
            spans.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = v
    return ", ".join(spans)


def tally(records: Sequence[RunRecord], not_done: Sequence[int]) -> str:
    """What a stopped command kept and what it did not, as one phrase."""
    kept = [r.replication for r in records if r.status in ("done", "skipped")]
    failed = [r.replication for r in records if r.status == "failed"]
    parts = [f"kept {len(kept)} complete run{'s' if len(kept) != 1 else ''}"]
    if kept:
        parts[0] += f" (replication {_numbers(kept)})"
    if failed:
        parts.append(f"{len(failed)} failed (replication {_numbers(failed)})")
    if not_done:
        parts.append(f"not done: replication {_numbers(not_done)}")
    return "; ".join(parts)


def is_finished(folder: Path, identity: str, episodes: bool) -> bool:
    """True if `folder` (a run's folder) holds a complete, undamaged run with this
    `run_identity` (and an episodes table, if wanted)."""
    scenario = folder.parent.name.removeprefix("scenario=")
    replication = int(folder.name.removeprefix("replication="))
    return _why_not_finished(folder.parents[2], scenario, replication, identity, episodes) is None


def _why_not_finished(
    root: Path, scenario: str, replication: int, identity: str, episodes: bool
) -> str | None:
    """None if the run can be skipped; otherwise why not, or '' if it was never done."""
    folder = run_dir(root, scenario, replication)
    if not (folder / MANIFEST).is_file():
        return ""
    try:
        manifest = read_manifest(folder)
    except ResultsError as exc:
        return str(exc)
    problems = manifest_problems(manifest)
    if problems:
        return f"{folder / MANIFEST}: {problems[0]}"
    if (manifest["scenario"], manifest["replication"]) != (scenario, replication):
        return f"{folder / MANIFEST}: describes another run"
    if run_identity(manifest["config"]) != identity:
        return "made with another config"
    if episodes and "episodes" not in manifest["outputs"]:
        return ""  # asked for episodes now: run again, quietly
    problems = verify_run(root, manifest)
    return "; ".join(problems) if problems else None


# --------------------------------------------------------------------------------------
# One run (in this process or in a worker)


@dataclass(frozen=True)
class _Outcome:
    """A run simulated and staged, or why not (picklable: workers return it)."""

    replication: int
    staged: StagedRun | None
    wall_seconds: float
    error: str | None = None  # last line of the model's traceback
    traceback: str | None = None
    write_error: str | None = None  # the files could not be written: stop everything


_WORKER_PROGRESS: Any = None  # a worker's queue to the parent's progress bar


def _stage_one(
    config: FlowsimConfig,
    replication: int,
    root: str,
    episodes: bool,
    progress: DayProgress | bool | None = None,
    sweep: Mapping[str, Any] | None = None,
) -> _Outcome:
    """Simulate one replication and write it to the staging area; never raises for a run
    that fails (it is reported). `progress` True sends day counts to the parent's bar;
    `sweep` (a sweep's record of the run) adds its parameters and keeps its tables."""
    callback: DayProgress | None
    if progress is True:
        queue = _WORKER_PROGRESS
        callback = None if queue is None else lambda done, total: queue.put((replication, done, total))
    else:
        callback = progress or None
    start = time.perf_counter()
    try:
        from flowsim.model import simulate

        output = simulate(config, replication, record_episodes=episodes, progress=callback)
        if sweep is not None:
            from flowsim.sweep.tables import apply_sweep

            apply_sweep(output, sweep)
    except Exception as exc:  # reported, so that the other runs go on
        last = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return _Outcome(replication, None, time.perf_counter() - start, last, traceback.format_exc())
    wall = time.perf_counter() - start
    try:
        staged = stage_run(root, output, config, wall)
    except ResultsError as exc:  # tables that cannot be stored: the run is wrong
        return _Outcome(replication, None, wall, str(exc), traceback.format_exc())
    except OSError as exc:
        return _Outcome(replication, None, wall, write_error=exc.strerror or str(exc))
    return _Outcome(replication, staged, wall)


# --------------------------------------------------------------------------------------
# Worker processes


def _set_parent_death_signal() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _watch_parent(parent: int, stop: Any) -> None:
    """Exit at once when the parent is gone (also where there is no PDEATHSIG) or says stop."""
    while True:
        if os.getppid() != parent or stop.wait(0.25):
            os._exit(1)


def _worker_init(parent: int, stop: Any, progress: Any) -> None:
    global _WORKER_PROGRESS
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _set_parent_death_signal()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    _WORKER_PROGRESS = progress
    threading.Thread(target=_watch_parent, args=(parent, stop), daemon=True, name="watch-parent").start()


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Ignore Ctrl-C for the block (main thread only): while workers start, so that they
    inherit the ignoring, and while stopping, so a second Ctrl-C cannot cut that short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


class _Bars:
    """A rich progress bar over all days of all runs still to do (parent process only)."""

    def __init__(self, enabled: bool, label: str, total_days: int):
        self.enabled = enabled
        self._done: dict[int, int] = {}
        self._lock = threading.Lock()
        if not enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("days"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        self.task = self.progress.add_task(label, total=total_days)

    def __enter__(self) -> _Bars:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()

    def days(self, replication: int, days_done: int) -> None:
        if not self.enabled:
            return
        with self._lock:
            before = self._done.get(replication, 0)
            if days_done > before:
                self._done[replication] = days_done
                self.progress.advance(self.task, days_done - before)

    def finished(self, replication: int, days_total: int) -> None:
        self.days(replication, days_total)

    def for_replication(self, replication: int) -> DayProgress | None:
        if not self.enabled:
            return None
        return lambda days_done, days_total: self.days(replication, days_done)


def _drain(queue: Any, bars: _Bars, stop: threading.Event) -> None:
    """Move workers' day counts from the queue onto the bar until told to stop."""
    import queue as queue_module

    while not stop.is_set():
        try:
            replication, days_done, _ = queue.get(timeout=0.1)
        except queue_module.Empty:
            continue
        except (EOFError, OSError, ValueError):  # the queue has gone away
            return
        bars.days(replication, days_done)


# --------------------------------------------------------------------------------------
# Replications


def run_replications_detailed(
    config: FlowsimConfig,
    replications: Iterable[int] | None = None,
    out_dir: str | os.PathLike[str] = "results",
    *,
    episodes: bool | None = None,
    progress: bool = False,
    workers: int = 1,
    executor: cf.Executor | None = None,
    overwrite: bool = False,
) -> list[RunRecord]:
    """Run (or skip, if already done) each replication; one `RunRecord` each, in order.

    `replications` defaults to ``range(config.run.replications)``; `episodes` to
    ``config.outputs.episodes``. Pass an `executor` (a Dask client's
    ``get_executor()``, say) to run elsewhere; otherwise `workers` > 1 starts a local
    process pool. `overwrite` replaces runs of another config under this scenario name.

    Raises `ResultsError` (one line) if the folder cannot be used (not flowsim's, written
    by another command, holding another config) or results cannot be written, and
    `RunsInterrupted` on Ctrl-C; both after stopping every run still going.
    """
    wanted = sorted(
        set(int(r) for r in (range(config.run.replications) if replications is None else replications))
    )
    if any(r < 0 for r in wanted):
        raise ValueError("replication numbers must be 0 or more")
    if workers < 1:
        raise ValueError("workers must be 1 or more")
    episodes = config.outputs.episodes if episodes is None else bool(episodes)
    days_total = config.run.warmup_days + config.run.horizon_days

    with lock_results_folder(out_dir) as root:
        try:
            settle_scenario(root, config.name, config, overwrite=overwrite)
        except OSError as exc:
            raise ResultsError(f"{root}: cannot write results ({exc.strerror or exc})") from None
        identity = run_identity(config)
        records: dict[int, RunRecord] = {}
        todo: list[int] = []
        for replication in wanted:
            folder = run_dir(root, config.name, replication)
            why = _why_not_finished(root, config.name, replication, identity, episodes)
            if why is None:
                log.info("replication %d already done with this config: skipped (%s)", replication, folder)
                records[replication] = RunRecord(config.name, replication, folder, "skipped")
                continue
            if why:
                log.warning("replication %d is damaged (%s): running it again", replication, why)
            todo.append(replication)

        def settle(outcome: _Outcome) -> None:
            with defer_interrupts():  # a Ctrl-C now waits until the run is committed and counted
                records[outcome.replication] = _logged(_commit(root, config.name, outcome, records, todo))

        label = f"{config.name}: {len(todo)} run{'s' if len(todo) != 1 else ''}"
        with _Bars(progress and bool(todo), label, days_total * len(todo)) as bars:
            try:
                if executor is None and (workers == 1 or len(todo) <= 1):
                    for replication in todo:
                        outcome = _stage_one(
                            config, replication, str(root), episodes, bars.for_replication(replication)
                        )
                        bars.finished(replication, days_total)
                        settle(outcome)
                else:
                    _run_parallel(config, todo, root, episodes, bars, days_total, workers, executor, settle)
            except KeyboardInterrupt:
                raise RunsInterrupted(list(records.values()), [r for r in todo if r not in records]) from None
        return [records[r] for r in wanted]


def _commit(
    root: Path, scenario: str, outcome: _Outcome, records: dict[int, RunRecord], todo: Sequence[int]
) -> RunRecord:
    """Commit a staged run, or record a failed one; results that cannot be written stop all."""
    replication = outcome.replication
    folder = run_dir(root, scenario, replication)

    def stop(reason: str) -> ResultsError:
        not_done = [r for r in todo if r not in records and r != replication]
        return ResultsError(
            f"{root}: cannot write results ({reason}); "
            f"{tally(list(records.values()), [replication, *not_done])}"
        )

    if outcome.write_error is not None:
        raise stop(outcome.write_error)
    try:
        if outcome.staged is not None:
            commit_run(root, outcome.staged)
            return RunRecord(scenario, replication, folder, "done", outcome.wall_seconds)
        commit_run(root, stage_failure(root, scenario, replication, outcome.traceback or str(outcome.error)))
    except OSError as exc:
        what = exc.strerror or str(exc)
        if outcome.staged is None:
            what += f"; replication {replication} had failed: {outcome.error}"
        raise stop(what) from None
    return RunRecord(scenario, replication, folder, "failed", outcome.wall_seconds, outcome.error)


def _run_parallel(
    config: FlowsimConfig,
    todo: Sequence[int],
    root: Path,
    episodes: bool,
    bars: _Bars,
    days_total: int,
    workers: int,
    executor: cf.Executor | None,
    settle: Callable[[_Outcome], None],
) -> None:
    """Run `todo` on `executor` (or a local pool of `workers`), settling each as it ends.

    On any exception (Ctrl-C, results that cannot be written) queued runs are cancelled
    and the local pool's workers told to exit at once, before the exception goes on.
    """
    own = executor is None
    stop_workers = queue = None
    if own:
        context = multiprocessing.get_context("spawn")
        stop_workers = context.Event()
        queue = context.Queue() if bars.enabled else None
        executor = cf.ProcessPoolExecutor(
            max_workers=min(workers, len(todo)),
            mp_context=context,
            initializer=_worker_init,
            initargs=(os.getpid(), stop_workers, queue),
        )
    assert executor is not None
    stop_drain = threading.Event()
    drainer = None
    if queue is not None:
        drainer = threading.Thread(target=_drain, args=(queue, bars, stop_drain), daemon=True)
        drainer.start()
    futures: dict[cf.Future[_Outcome], int] = {}
    finished = False
    try:
        with _ctrl_c_ignored():  # pool workers start now, and inherit the ignoring
            for replication in todo:
                future = executor.submit(_stage_one, config, replication, str(root), episodes, own)
                futures[future] = replication
        for future in cf.as_completed(futures):
            replication = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the worker itself died (killed, out of memory, ...)
                text = "".join(traceback.format_exception(exc))
                error = f"worker died: {type(exc).__name__}: {exc}".splitlines()[0]
                outcome = _Outcome(replication, None, 0.0, error, text)
            bars.finished(replication, days_total)
            settle(outcome)
        finished = True
    finally:
        with _ctrl_c_ignored():
            for future in futures:
                future.cancel()
            if own:
                assert stop_workers is not None
                if not finished:
                    stop_workers.set()  # runs under way end now: their files are never committed
                executor.shutdown(wait=True, cancel_futures=True)
            stop_drain.set()
            if drainer is not None:
                drainer.join(timeout=5)
            if queue is not None:
                queue.close()
                queue.cancel_join_thread()


def _logged(record: RunRecord) -> RunRecord:
    if record.status == "failed":
        log.error(
            "replication %d failed: %s (traceback in %s)",
            record.replication,
            record.error,
            record.path / ERROR_FILE,
        )
    return record


def run_replications(
    config: FlowsimConfig,
    replications: Iterable[int] | None = None,
    out_dir: str | os.PathLike[str] = "results",
    episodes: bool | None = None,
    progress: bool = False,
    *,
    workers: int = 1,
    executor: cf.Executor | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Run each replication of `config` into `out_dir`; return their folders, in order.

    A run's folder (``out_dir/runs/scenario=NAME/replication=K``) holds its
    ``manifest.json``, or ``error.txt`` if it failed; use `run_replications_detailed` to
    get each run's status.
    """
    records = run_replications_detailed(
        config,
        replications,
        out_dir,
        episodes=episodes,
        progress=progress,
        workers=workers,
        executor=executor,
        overwrite=overwrite,
    )
    return [record.path for record in records]
