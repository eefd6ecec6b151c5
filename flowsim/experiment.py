"""Replications of one config: run each, write it, skip what is done, survive failures.

Each replication is one run (`flowsim.model.simulate`), written to its own folder by
`flowsim.results.write_run`. A replication whose manifest already records the same config
is skipped, so a killed job resumes where it stopped. "The same" ignores
`run.replications`, which says how many runs to do and changes none of them: asking for
10 replications after 5 runs only the 5 new ones. A run that raises is recorded (its
traceback in ``error.txt``) and the others go on.

Runs go to any `concurrent.futures.Executor`: a local process pool (spawn start method,
so workers never inherit the parent's state) when more than one worker is asked for,
serially in this process otherwise. Progress bars are drawn by this (the parent) process.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import hashlib
import json
import logging
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from flowsim.results import (
    ResultsError,
    claim_results_folder,
    read_manifest,
    run_dir,
    write_failure,
    write_run,
)

if TYPE_CHECKING:
    from flowsim.config.schema import FlowsimConfig

__all__ = ["RunRecord", "is_finished", "run_identity", "run_replications", "run_replications_detailed"]

log = logging.getLogger(__name__)

Status = Literal["done", "skipped", "failed"]
DayProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class RunRecord:
    """What happened to one replication: done now, skipped (done before) or failed."""

    scenario: str
    replication: int
    path: Path
    status: Status
    wall_seconds: float = 0.0
    error: str | None = None  # the last line of the traceback, when failed


def run_identity(config: FlowsimConfig | dict[str, Any]) -> str:
    """sha256 of the config without `run.replications`: equal for configs whose run of a
    given replication is the same."""
    from flowsim.config.loader import canonical_json

    data = copy.deepcopy(config) if isinstance(config, dict) else json.loads(canonical_json(config))
    if isinstance(data.get("run"), dict):
        data["run"].pop("replications", None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_finished(folder: Path, identity: str, episodes: bool) -> bool:
    """True if `folder` holds a complete run with this `run_identity` (and episodes, if wanted)."""
    try:
        manifest = read_manifest(folder)
    except ResultsError:
        return False
    if not isinstance(manifest["config"], dict) or run_identity(manifest["config"]) != identity:
        return False
    if episodes and "episodes.parquet" not in manifest["outputs"]:
        return False
    return all((folder / name).is_file() for name in manifest["outputs"])


def _run_one(
    config: FlowsimConfig,
    replication: int,
    out_dir: str,
    episodes: bool,
    progress: Any = None,
) -> RunRecord:
    """Simulate and write one replication; never raises for a failed run (it is recorded).

    `progress` is a callable ``(days_done, days_total)`` or a queue that receives
    ``(replication, days_done, days_total)`` (from a worker process).
    """
    scenario = config.name
    callback: DayProgress | None
    if progress is None or callable(progress):
        callback = progress
    else:
        queue = progress

        def callback(days_done: int, days_total: int) -> None:
            queue.put((replication, days_done, days_total))

    start = time.perf_counter()
    try:
        from flowsim.model import simulate

        output = simulate(config, replication, record_episodes=episodes, progress=callback)
        wall = time.perf_counter() - start
        path = write_run(out_dir, output, config, wall)
    except Exception as exc:  # recorded, so that the other runs go on
        text = traceback.format_exc()
        try:
            path = write_failure(out_dir, scenario, replication, text).parent
        except Exception:  # the folder itself is unusable: still report the run's error
            path = run_dir(out_dir, scenario, replication)
        last = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return RunRecord(scenario, replication, path, "failed", time.perf_counter() - start, last)
    return RunRecord(scenario, replication, path, "done", wall)


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

    while True:
        try:
            replication, days_done, _ = queue.get(timeout=0.1)
        except queue_module.Empty:
            if stop.is_set():
                return
            continue
        except (EOFError, OSError):  # the manager has gone away
            return
        bars.days(replication, days_done)


def run_replications_detailed(
    config: FlowsimConfig,
    replications: Iterable[int] | None = None,
    out_dir: str | os.PathLike[str] = "results",
    *,
    episodes: bool | None = None,
    progress: bool = False,
    workers: int = 1,
    executor: cf.Executor | None = None,
) -> list[RunRecord]:
    """Run (or skip, if already done) each replication; one `RunRecord` each, in order.

    `replications` defaults to ``range(config.run.replications)``; `episodes` to
    ``config.outputs.episodes``. Pass an `executor` (a Dask client's
    ``get_executor()``, say) to run elsewhere; otherwise `workers` > 1 starts a local
    process pool.
    """
    wanted = sorted(
        set(int(r) for r in (range(config.run.replications) if replications is None else replications))
    )
    if any(r < 0 for r in wanted):
        raise ValueError("replication numbers must be 0 or more")
    if workers < 1:
        raise ValueError("workers must be 1 or more")
    episodes = config.outputs.episodes if episodes is None else bool(episodes)
    root = claim_results_folder(out_dir)  # before any worker writes: refuse a foreign folder now
    identity = run_identity(config)
    days_total = config.run.warmup_days + config.run.horizon_days

    records: dict[int, RunRecord] = {}
    todo: list[int] = []
    for replication in wanted:
        folder = run_dir(root, config.name, replication)
        if is_finished(folder, identity, episodes):
            log.info("replication %d already done with this config: skipped (%s)", replication, folder)
            records[replication] = RunRecord(config.name, replication, folder, "skipped")
        else:
            todo.append(replication)

    label = f"{config.name}: {len(todo)} run{'s' if len(todo) != 1 else ''}"
    with _Bars(progress and bool(todo), label, days_total * len(todo)) as bars:
        if executor is None and (workers == 1 or len(todo) <= 1):
            for replication in todo:
                record = _run_one(config, replication, str(root), episodes, bars.for_replication(replication))
                bars.finished(replication, days_total)
                records[replication] = _logged(record)
        else:
            for record in _run_parallel(
                config, todo, str(root), episodes, bars, days_total, workers, executor
            ):
                records[record.replication] = _logged(record)
    return [records[r] for r in wanted]


def _run_parallel(
    config: FlowsimConfig,
    todo: Sequence[int],
    out_dir: str,
    episodes: bool,
    bars: _Bars,
    days_total: int,
    workers: int,
    executor: cf.Executor | None,
) -> Iterable[RunRecord]:
    own = executor is None
    manager = None
    queue = None
    if own:
        context = multiprocessing.get_context("spawn")
        executor = cf.ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context)
        if bars.enabled:  # day-by-day progress from the workers
            manager = context.Manager()
            queue = manager.Queue()
    assert executor is not None
    stop = threading.Event()
    drainer = None
    if queue is not None:
        drainer = threading.Thread(target=_drain, args=(queue, bars, stop), daemon=True)
        drainer.start()
    try:
        futures = {
            executor.submit(_run_one, config, replication, out_dir, episodes, queue): replication
            for replication in todo
        }
        for future in cf.as_completed(futures):
            replication = futures[future]
            try:
                record = future.result()
            except Exception as exc:  # the worker itself died (killed, out of memory, ...)
                record = _worker_died(config.name, replication, out_dir, exc)
            bars.finished(replication, days_total)
            yield record
    finally:
        stop.set()
        if drainer is not None:
            drainer.join(timeout=5)
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
        if manager is not None:
            manager.shutdown()


def _worker_died(scenario: str, replication: int, out_dir: str, exc: BaseException) -> RunRecord:
    text = "".join(traceback.format_exception(exc))
    path = write_failure(out_dir, scenario, replication, text).parent
    return RunRecord(scenario, replication, path, "failed", error=f"worker died: {type(exc).__name__}: {exc}")


def _logged(record: RunRecord) -> RunRecord:
    if record.status == "failed":
        log.error(
            "replication %d failed: %s (traceback in %s)",
            record.replication,
            record.error,
            record.path / "error.txt",
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
) -> list[Path]:
    """Run each replication of `config` into `out_dir`; return their folders, in order.

    A folder of a failed run holds ``error.txt`` and no ``manifest.json``; use
    `run_replications_detailed` to get each run's status.
    """
    records = run_replications_detailed(
        config,
        replications,
        out_dir,
        episodes=episodes,
        progress=progress,
        workers=workers,
        executor=executor,
    )
    return [record.path for record in records]
