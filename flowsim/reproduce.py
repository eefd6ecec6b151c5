"""Re-run a recorded run from its manifest; check the files on disk and the re-run against it.

The manifest holds the whole config (as canonical JSON, with its sha256), the replication
and the versions it ran with. `reproduce` checks each table's file in the results folder
against the sha256 the manifest records (damaged files are named), re-runs the same
replication into a temporary folder and compares the sha256 of each new file too.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowsim.results import (
    MANIFEST,
    MARKER,
    RUNS,
    ResultsError,
    environment,
    file_sha256,
    manifest_problems,
    read_manifest,
)

__all__ = ["FileCheck", "ReproduceReport", "reproduce"]


@dataclass(frozen=True)
class FileCheck:
    """One table: the sha256 the manifest records, of the file on disk, and of the re-run.

    `disk_sha256` is None if the file is missing, or if it was not checked (the manifest
    is not inside its results folder: see `ReproduceReport.disk_checked`).
    """

    name: str
    recorded_sha256: str | None
    rerun_sha256: str | None
    disk_sha256: str | None = None
    disk_checked: bool = True

    @property
    def rerun_matches(self) -> bool:
        return self.recorded_sha256 is not None and self.recorded_sha256 == self.rerun_sha256

    @property
    def disk_matches(self) -> bool:
        return not self.disk_checked or (
            self.recorded_sha256 is not None and self.recorded_sha256 == self.disk_sha256
        )

    @property
    def match(self) -> bool:
        return self.rerun_matches and self.disk_matches

    @property
    def verdict(self) -> str:
        if self.recorded_sha256 is None:
            return "not in the manifest"
        if not self.disk_matches:
            return "missing on disk" if self.disk_sha256 is None else "damaged on disk"
        return "match" if self.rerun_matches else "re-run differs"


@dataclass
class ReproduceReport:
    """The verdict of `reproduce`: per table, on disk and re-run, and what differs around it."""

    manifest_path: Path
    scenario: str
    replication: int
    config_sha256: str
    files: list[FileCheck]
    wall_seconds: float
    # False when the manifest sits outside a results folder: files on disk not checked.
    disk_checked: bool = True
    # Differences between the recorded environment and this one (versions, core), which
    # explain a mismatch; empty when both ran alike.
    environment_notes: list[str] = field(default_factory=list)

    @property
    def all_match(self) -> bool:
        return bool(self.files) and all(f.match for f in self.files)

    @property
    def mismatches(self) -> list[FileCheck]:
        return [f for f in self.files if not f.match]

    @property
    def damaged(self) -> list[FileCheck]:
        return [f for f in self.files if not f.disk_matches]


def _environment_notes(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    notes = []
    for key, label in (("flowsim_version", "flowsim"), ("python", "Python"), ("core", "core")):
        if recorded.get(key) != now.get(key):
            notes.append(f"{label}: recorded {recorded.get(key)}, now {now.get(key)}")
    if recorded.get("git_commit") and now.get("git_commit") and recorded["git_commit"] != now["git_commit"]:
        notes.append(f"git commit: recorded {recorded['git_commit'][:12]}, now {now['git_commit'][:12]}")
    before, after = recorded.get("packages", {}), now.get("packages", {})
    if isinstance(before, dict) and isinstance(after, dict):
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                notes.append(f"{name}: recorded {before.get(name)}, now {after.get(name)}")
    return notes


def results_root(manifest_path: Path, manifest: dict[str, Any]) -> Path | None:
    """The results folder a manifest sits in at its place, or None if it sits elsewhere."""
    folder = manifest_path.parent
    root = folder.parent.parent.parent
    where = (folder.name, folder.parent.name, folder.parent.parent.name)
    expected = (f"replication={manifest['replication']}", f"scenario={manifest['scenario']}", RUNS)
    return root if where == expected and (root / MARKER).is_file() else None


def reproduce(
    manifest_path: str | os.PathLike[str], *, work_dir: str | os.PathLike[str] | None = None
) -> ReproduceReport:
    """Check the run's files on disk against its manifest, re-run it and compare table by table.

    Raises `ResultsError` (a manifest that cannot be used) or `ConfigError` (its config
    no longer validates); a damaged file or a run that reproduces differently is a report
    with mismatches, not an error. `work_dir`, if given, keeps the re-run's results there
    instead of in a temporary folder.
    """
    from flowsim.config.loader import config_from_canonical, config_hash
    from flowsim.results import write_run

    path = Path(manifest_path)
    if path.is_dir():
        path = path / MANIFEST
    manifest = read_manifest(path)
    problems = manifest_problems(manifest)
    config = config_from_canonical(json.dumps(manifest["config"]))
    digest = config_hash(config)
    if problems or digest != manifest["config_sha256"]:
        raise ResultsError(
            f"{path}: the config in the manifest hashes to {digest[:12]}…, not the recorded "
            f"{manifest['config_sha256'][:12]}… (edited, or a changed schema)"
        )
    replication = int(manifest["replication"])
    scenario = str(manifest["scenario"])
    recorded: dict[str, Any] = manifest["outputs"]

    root = results_root(path, manifest)
    on_disk: dict[str, str | None] = {}
    if root is not None:
        for table, entry in recorded.items():
            try:
                on_disk[table] = file_sha256(root / entry["path"])
            except OSError:
                on_disk[table] = None

    from flowsim.model import simulate

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="flowsim-reproduce-") as tmp:
        out_root = Path(work_dir) if work_dir is not None else Path(tmp) / "results"
        output = simulate(config, replication, record_episodes="episodes" in recorded)
        sweep = manifest.get("meta", {}).get("sweep")
        if sweep is not None:  # a run of a sweep: its parameter columns, its kept tables
            from flowsim.sweep.tables import apply_sweep

            apply_sweep(output, sweep)
        # The run is filed under the scenario it was recorded as (a sweep may name it).
        output.meta["scenario"] = scenario
        wall = time.perf_counter() - start
        folder = write_run(out_root, output, config, wall, overwrite=True)
        rerun = {t: e["sha256"] for t, e in read_manifest(folder).get("outputs", {}).items()}
    files = [
        FileCheck(
            name,
            (recorded.get(name) or {}).get("sha256"),
            rerun.get(name),
            on_disk.get(name),
            disk_checked=root is not None and name in recorded,
        )
        for name in sorted(set(recorded) | set(rerun))
    ]
    return ReproduceReport(
        manifest_path=path,
        scenario=scenario,
        replication=replication,
        config_sha256=digest,
        files=files,
        wall_seconds=wall,
        disk_checked=root is not None,
        environment_notes=_environment_notes(manifest, environment()),
    )
