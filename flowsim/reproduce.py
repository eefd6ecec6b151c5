"""Re-run a recorded run from its manifest and check that every output is bit-identical.

The manifest holds the whole config (as canonical JSON, with its sha256), the replication
and the versions it ran with. `reproduce` rebuilds the config, runs the same replication
into a temporary folder and compares the sha256 of each output file with the one recorded.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowsim.results import MANIFEST, ResultsError, environment, file_sha256, read_manifest

__all__ = ["FileCheck", "ReproduceReport", "reproduce"]


@dataclass(frozen=True)
class FileCheck:
    """One output file: the hash the manifest recorded and the hash the re-run produced."""

    name: str
    recorded_sha256: str | None
    rerun_sha256: str | None

    @property
    def match(self) -> bool:
        return self.recorded_sha256 is not None and self.recorded_sha256 == self.rerun_sha256


@dataclass
class ReproduceReport:
    """The verdict of `reproduce`: per file match or mismatch, and what differs around it."""

    manifest_path: Path
    scenario: str
    replication: int
    config_sha256: str
    files: list[FileCheck]
    wall_seconds: float
    # Differences between the recorded environment and this one (versions, core), which
    # explain a mismatch; empty when both ran alike.
    environment_notes: list[str] = field(default_factory=list)

    @property
    def all_match(self) -> bool:
        return bool(self.files) and all(f.match for f in self.files)

    @property
    def mismatches(self) -> list[FileCheck]:
        return [f for f in self.files if not f.match]


def _environment_notes(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    notes = []
    for key, label in (("flowsim_version", "flowsim"), ("python", "Python"), ("core", "core")):
        if recorded.get(key) != now.get(key):
            notes.append(f"{label}: recorded {recorded.get(key)}, now {now.get(key)}")
    if recorded.get("git_commit") and now.get("git_commit") and recorded["git_commit"] != now["git_commit"]:
        notes.append(f"git commit: recorded {recorded['git_commit'][:12]}, now {now['git_commit'][:12]}")
    before, after = recorded.get("packages", {}), now.get("packages", {})
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            notes.append(f"{name}: recorded {before.get(name)}, now {after.get(name)}")
    return notes


def reproduce(
    manifest_path: str | os.PathLike[str], *, work_dir: str | os.PathLike[str] | None = None
) -> ReproduceReport:
    """Re-run the run a manifest describes and compare output hashes file by file.

    Raises `ResultsError` (a bad manifest) or `ConfigError` (its config no longer
    validates); a run that reproduces differently is a report with mismatches, not an error.
    `work_dir`, if given, keeps the re-run's files there instead of a temporary folder.
    """
    from flowsim.config.loader import config_from_canonical, config_hash
    from flowsim.results import write_run

    path = Path(manifest_path)
    manifest = read_manifest(path)
    if path.is_dir():
        path = path / MANIFEST
    config = config_from_canonical(json.dumps(manifest["config"]))
    digest = config_hash(config)
    if digest != manifest["config_sha256"]:
        raise ResultsError(
            f"{path}: the config in the manifest hashes to {digest[:12]}…, not the recorded "
            f"{manifest['config_sha256'][:12]}… (edited, or a changed schema)"
        )
    replication = int(manifest["replication"])
    recorded_outputs: dict[str, Any] = manifest["outputs"]
    episodes = "episodes.parquet" in recorded_outputs

    from flowsim.model import simulate

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="flowsim-reproduce-") as tmp:
        out_root = Path(work_dir) if work_dir is not None else Path(tmp)
        output = simulate(config, replication, record_episodes=episodes)
        # The run is filed under the scenario it was recorded as (a sweep may name it).
        output.meta["scenario"] = manifest.get("scenario", config.name)
        wall = time.perf_counter() - start
        folder = write_run(out_root, output, config, wall)
        produced = {
            p.name: file_sha256(p)
            for p in sorted(folder.iterdir())
            if p.is_file() and p.name != MANIFEST and not p.name.startswith(".")
        }
    names = sorted(set(recorded_outputs) | set(produced))
    files = [
        FileCheck(name, (recorded_outputs.get(name) or {}).get("sha256"), produced.get(name))
        for name in names
    ]
    return ReproduceReport(
        manifest_path=path,
        scenario=str(manifest.get("scenario", config.name)),
        replication=replication,
        config_sha256=digest,
        files=files,
        wall_seconds=wall,
        environment_notes=_environment_notes(manifest, environment()),
    )
