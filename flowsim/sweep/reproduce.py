"""Reproduce an experiment: re-run all its runs (or a sample of them) and check every hash.

Given the spec (`experiments/NAME.yaml`, whose results are in `results/NAME` unless told
otherwise) or a sweep's `experiment.json`, each run is reproduced from its own manifest
(`flowsim.reproduce`): its files on disk checked against the manifest, the run repeated
in a temporary folder and each new file's sha256 compared. A spec that no longer makes
the recorded experiment (edited, or a base config changed) is refused, since its runs
would not be the ones recorded.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import random
from dataclasses import dataclass
from pathlib import Path

from flowsim.reproduce import ReproduceReport, reproduce
from flowsim.results import MANIFEST, ResultsError, run_dir
from flowsim.sweep.runner import EXPERIMENT_FILE, read_experiment_record

__all__ = ["RunCheck", "is_experiment", "reproduce_experiment"]


@dataclass(frozen=True)
class RunCheck:
    """One run of the experiment: its reproduce report, or why there is none."""

    folder: str
    replication: int
    report: ReproduceReport | None
    problem: str | None = None  # not recorded (failed, or never run), or unusable

    @property
    def match(self) -> bool:
        return self.report is not None and self.report.all_match


def is_experiment(path: Path) -> bool:
    """True for a spec (YAML), an experiment.json, or a folder holding one (not a run's)."""
    if path.suffix in (".yaml", ".yml") or path.name == EXPERIMENT_FILE:
        return True
    return path.is_dir() and (path / EXPERIMENT_FILE).is_file() and not (path / MANIFEST).is_file()


def _root_of(target: Path, results: Path | None) -> Path:
    if target.suffix in (".yaml", ".yml"):
        from flowsim.sweep.spec import load_experiment

        experiment = load_experiment(target)
        root = results if results is not None else Path("results") / experiment.spec.name
        record = read_experiment_record(root)
        if record.get("experiment_sha256") != experiment.sha256:
            raise ResultsError(
                f"{target}: does not make the experiment recorded in {root} (sha256 "
                f"{experiment.sha256[:12]}…, recorded {str(record.get('experiment_sha256'))[:12]}…): "
                f"the spec or a config it uses changed since; point --results at its results"
            )
        return root
    return target.parent if target.name == EXPERIMENT_FILE else target


def _check(root: str, folder: str, replication: int) -> RunCheck:
    path = run_dir(root, folder, replication) / MANIFEST
    if not path.is_file():
        return RunCheck(folder, replication, None, "not recorded (the run failed or was never run)")
    try:
        return RunCheck(folder, replication, reproduce(path))
    except (ResultsError, ValueError) as exc:
        return RunCheck(folder, replication, None, str(exc))


def reproduce_experiment(
    target: str | Path,
    *,
    results: str | Path | None = None,
    sample: int | None = None,
    seed: int = 0,
    workers: int = 1,
) -> tuple[Path, list[RunCheck]]:
    """(results folder, one check per run re-run): every run, or `sample` of them drawn
    with `seed`. `ResultsError`/`ConfigError` for a spec or folder that cannot be used."""
    target = Path(target)
    root = _root_of(target, Path(results) if results is not None else None)
    record = read_experiment_record(root)
    runs = [(str(r["folder"]), int(r["replication"])) for r in record["runs"]]
    if sample is not None and sample < len(runs):
        runs = sorted(random.Random(seed).sample(runs, sample))
    if workers <= 1 or len(runs) <= 1:
        return root, [_check(str(root), f, r) for f, r in runs]
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=min(workers, len(runs)), mp_context=context) as pool:
        return root, list(pool.map(_check, [str(root)] * len(runs), *zip(*runs, strict=True)))
