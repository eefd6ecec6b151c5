"""The results store: one Parquet dataset per table, a manifest per run, all-or-nothing commits.

Layout of a results folder (``flowsim run … --out results/demo``)::

    results/demo/
      _flowsim_results.json                                marks the folder as flowsim's (format 2)
      daily/scenario=<name>/replication=<k>/part-0.parquet   one row per day
      kpis/scenario=<name>/replication=<k>/part-0.parquet    one row: headline figures after warm-up
      occupancy/…, delays/…, spend/…, episodes/…             (every other table a run returns)
      runs/scenario=<name>/replication=<k>/manifest.json     what ran, and each file's sha256
      runs/scenario=<name>/replication=<k>/error.txt         instead, if the run failed
      .staging/  .flowsim.lock  .flowsim.commit              flowsim's own, while it writes

Each table's folder is a hive-partitioned dataset holding Parquet files only, with the
partition keys in the path alone, so ``pandas.read_parquet("results/demo/kpis")`` (or
polars, or duckdb) reads a whole table. The manifest is the commit: a run is part of the
results once its manifest is in place, and it is placed last (see `flowsim.journal`).
flowsim's readers take only runs whose manifest lists files that are present, and
`resume` and `flowsim reproduce` check each file's sha256 against it. Provenance (config
hash, version, scenario, replication, seed) also rides in each file's Arrow schema
metadata. Parquet is written with fixed settings and no timestamps, so the same tables
always give byte-identical files.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowsim import journal

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds
    from pydantic import BaseModel

__all__ = [
    "ERROR_FILE",
    "FORMAT_VERSION",
    "MANIFEST",
    "MARKER",
    "PART",
    "RUNS",
    "ResultsError",
    "RunOutput",
    "StagedRun",
    "claim_results_folder",
    "commit_run",
    "environment",
    "file_sha256",
    "lock_results_folder",
    "open_dataset",
    "read_manifest",
    "read_table",
    "remove_run",
    "run_dir",
    "run_identity",
    "settle_scenario",
    "stage_failure",
    "stage_run",
    "table_path",
    "verify_run",
    "write_failure",
    "write_run",
]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
ERROR_FILE = "error.txt"
MARKER = "_flowsim_results.json"
RUNS = "runs"
PART = "part-0.parquet"
MANIFEST_KIND = "flowsim-run"
MARKER_KIND = "flowsim-results"
FORMAT_VERSION = 2  # of the folder layout and of its manifests
MANIFEST_VERSION = FORMAT_VERSION

# Fixed writer settings: changing any of them changes every output hash.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "version": "2.6",
    "data_page_version": "1.0",
    "use_dictionary": True,
    "write_statistics": True,
    "store_schema": True,
}

_SCENARIO = re.compile(r"^[A-Za-z0-9_.-]+$")
# A table names a folder beside `runs`: lower case, so it reads the same on every filesystem.
_TABLE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Packages whose versions decide the numbers (or the bytes) of a run.
_PACKAGES = ("numpy", "simpy", "mesa", "pyarrow", "pydantic", "pydantic-core", "PyYAML", "scipy", "Cython")
# Config keys that change no single run's results: how many runs, what is recorded, prose.
_NOT_IDENTITY = (("run", "replications"), ("outputs",), ("description",))


class ResultsError(Exception):
    """A results folder or manifest that cannot be used; str() is one line."""


@dataclass
class RunOutput:
    """What one simulated run returns: its tables by name, and how it was seeded.

    Table names are lower-case words (``daily``, ``kpis``, ``episodes``, …), each the
    name of a dataset folder. `meta` holds at least ``seed``, ``spawn_key`` (list of
    int), ``replication`` and ``scenario``; anything else in it is kept in the manifest.
    """

    tables: dict[str, pa.Table]
    meta: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------
# Provenance


def flowsim_version() -> str:
    from flowsim import __version__

    return __version__


@functools.lru_cache(maxsize=1)
def git_commit() -> tuple[str | None, bool | None]:
    """(commit, dirty) of the checkout flowsim runs from, or (None, None) if not a checkout."""
    package_root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(package_root), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()

    try:
        top = Path(git("rev-parse", "--show-toplevel")).resolve()
        if top != package_root:  # flowsim installed inside some other repository
            return None, None
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, dirty


@functools.lru_cache(maxsize=1)
def _package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def active_core() -> str:
    """ "compiled" or "python": which bed-and-transfer core this process uses."""
    try:
        from flowsim._core import CORE
    except ImportError:
        return "unavailable"
    return str(CORE)


def environment() -> dict[str, Any]:
    """Versions and machine: what `flowsim info` prints and every manifest records."""
    commit, dirty = git_commit()
    return {
        "flowsim_version": flowsim_version(),
        "git_commit": commit,
        "git_dirty": dirty,
        "core": active_core(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": dict(_package_versions()),
        "platform": {
            "platform": platform.platform(),
            "system": platform.system(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
        },
    }


def file_sha256(path: str | os.PathLike[str]) -> str:
    return journal.sha256_of(Path(path))


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays, tuples, paths and dates in manifests."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _reason(exc: OSError) -> str:
    """An OSError as a short phrase: 'No space left on device', 'Permission denied'."""
    return exc.strerror or str(exc)


# --------------------------------------------------------------------------------------
# Identity of a config


def run_identity(config: BaseModel | Mapping[str, Any]) -> str:
    """sha256 of the config without the keys that change no run's results.

    `run.replications` (how many runs), `outputs` (which tables are recorded) and
    `description` are left out: configs equal but for them give the same run of a
    given replication.
    """
    text = json.dumps(_identity_data(config), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _identity_data(config: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(config, Mapping):
        data = copy.deepcopy(dict(config))
    else:
        from flowsim.config.loader import canonical_json

        data = json.loads(canonical_json(config))
    for path in _NOT_IDENTITY:
        parent: Any = data
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    return data


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def describe_difference(held: Mapping[str, Any], new: Mapping[str, Any], limit: int = 3) -> str:
    """The config keys that differ, as 'key: held → new' (the first few)."""
    a, b = _flatten(_identity_data(held)), _flatten(_identity_data(new))
    missing = object()
    keys = sorted(k for k in a.keys() | b.keys() if a.get(k, missing) != b.get(k, missing))

    def show(value: Any) -> str:
        text = "(absent)" if value is missing else json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 40 else text[:37] + "..."

    parts = [f"{k}: {show(a.get(k, missing))} → {show(b.get(k, missing))}" for k in keys[:limit]]
    if len(keys) > limit:
        parts.append(f"{len(keys) - limit} more")
    return "; ".join(parts) or "same values, different hash"


def _config_sha256(config: Mapping[str, Any]) -> str:
    """The hash of a config as a manifest holds it (the same text as canonical_json)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------
# The results folder


def _check_scenario(scenario: object) -> str:
    if not isinstance(scenario, str) or not _SCENARIO.match(scenario) or set(scenario) == {"."}:
        raise ResultsError(
            f"scenario name {scenario!r} cannot name a folder; use letters, digits, '_', '.' or '-'"
        )
    return scenario


def _check_table(name: object) -> str:
    if not isinstance(name, str) or not _TABLE.match(name) or name == RUNS:
        raise ResultsError(
            f"table name {name!r} cannot name a dataset folder; use lower-case letters, digits "
            f"and '_', starting with a letter (and not {RUNS!r})"
        )
    return name


def _key(scenario: str, replication: int) -> str:
    return f"scenario={_check_scenario(scenario)}/replication={int(replication)}"


def run_dir(root: str | os.PathLike[str], scenario: str, replication: int) -> Path:
    """The folder of one run's manifest: ``root/runs/scenario=<name>/replication=<k>``."""
    return Path(root) / RUNS / _key(scenario, replication)


def table_path(root: str | os.PathLike[str], table: str, scenario: str, replication: int) -> Path:
    """One run's file of one table: ``root/<table>/scenario=<name>/replication=<k>/part-0.parquet``."""
    return Path(root) / _relative_part(table, scenario, replication)


def _relative_part(table: str, scenario: str, replication: int) -> str:
    return f"{_check_table(table)}/{_key(scenario, replication)}/{PART}"


def _table_folders(root: Path) -> list[str]:
    """The tables the folder holds (its dataset folders)."""
    if not root.is_dir():
        return []
    return sorted(e.name for e in root.iterdir() if e.is_dir() and _TABLE.match(e.name) and e.name != RUNS)


def _check_marker(root: Path, *, reading: bool = False) -> None:
    marker = root / MARKER
    if not marker.is_file():
        raise ResultsError(
            f"{marker}: not a file, so {root} is not a usable flowsim results folder; "
            f"choose another folder with --out"
        )
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("kind") != MARKER_KIND:
        raise ResultsError(
            f"{marker}: not flowsim's marker file, so {root} is not a flowsim results folder; "
            f"choose another folder with --out"
        )
    version = data.get("version")
    if version == 1:
        todo = "read its files with pyarrow" if reading else "use a new folder with --out"
        raise ResultsError(
            f"{root}: holds results in flowsim's old layout (format 1, one folder per run), "
            f"which this flowsim (format {FORMAT_VERSION}) does not use; {todo}"
        )
    if version != FORMAT_VERSION:
        raise ResultsError(
            f"{root}: holds results in format {version!r}, which this flowsim (format "
            f"{FORMAT_VERSION}) cannot use; use the flowsim that wrote it, or a new folder with --out"
        )


def _is_marker_temp(name: str) -> bool:
    return name.startswith(f".{MARKER}.") and name.endswith(".tmp")


def claim_results_folder(root: str | os.PathLike[str]) -> Path:
    """Make `root` a flowsim results folder, or refuse if it holds anything else.

    A new or empty folder is claimed (the marker file is written); one with the marker
    of this format is reused. Refusing protects a folder of someone else's files from
    being mixed with results.
    """
    root = Path(root)
    try:
        if root.exists() and not root.is_dir():
            raise ResultsError(f"{root}: exists and is not a folder; choose a results folder with --out")
        if root.is_dir():
            if (root / MARKER).exists() or (root / MARKER).is_symlink():
                _check_marker(root)
                return root
            strangers = [e.name for e in sorted(root.iterdir()) if not _is_marker_temp(e.name)]
            if strangers:
                raise ResultsError(
                    f"{root}: not a flowsim results folder (it holds {strangers[0]!r} and no "
                    f"{MARKER}); choose a new or empty folder with --out"
                )
        root.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"kind": MARKER_KIND, "version": FORMAT_VERSION}, indent=2) + "\n"
        journal.write_durably(root / MARKER, text.encode("utf-8"))
    except (NotADirectoryError, FileExistsError):
        blocker = next((p for p in [root, *root.parents] if p.exists() and not p.is_dir()), root)
        raise ResultsError(
            f"{root}: cannot create the results folder: {blocker} is a file; choose another folder with --out"
        ) from None
    except OSError as exc:
        raise ResultsError(
            f"{root}: cannot create the results folder ({_reason(exc)}); choose another folder with --out"
        ) from None
    return root


@contextlib.contextmanager
def lock_results_folder(root: str | os.PathLike[str]) -> Iterator[Path]:
    """Claim `root` and hold its writer lock for the block; yields the folder.

    Taking the lock first finishes or rolls back any commit a killed writer left, and
    deletes unfinished writes. Another process writing the folder is a `ResultsError`
    at once (never a wait, never a mix of two commands' runs).
    """
    root = claim_results_folder(root)
    outermost = not journal.holds_lock(root)
    stack = contextlib.ExitStack()
    try:
        stack.enter_context(journal.folder_lock(root))
    except journal.FolderLocked as exc:
        who = f" (process {exc.pid})" if exc.pid else ""
        raise ResultsError(
            f"{root}: another flowsim command{who} is writing this folder; wait for it to "
            f"finish, or write to another folder with --out"
        ) from None
    except journal.JournalError as exc:
        raise ResultsError(str(exc)) from None
    except OSError as exc:
        raise ResultsError(f"{root}: cannot write to this results folder ({_reason(exc)})") from None
    with stack:
        for leftover in root.iterdir() if outermost else ():  # half-written by a killed first claim
            if _is_marker_temp(leftover.name):
                leftover.unlink(missing_ok=True)
        yield root


_deferring = threading.local()


@contextlib.contextmanager
def defer_interrupts() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block is done, so a commit is never cut in half.

    Only the main thread receives signals; elsewhere (and when nested) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread() or getattr(_deferring, "on", False):
        yield
        return
    caught: list[int] = []
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    _deferring.on = True
    try:
        yield
    finally:
        _deferring.on = False
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
        if caught and callable(previous):
            previous(signal.SIGINT, None)  # Python's default handler raises KeyboardInterrupt
        elif caught and previous == signal.SIG_DFL:
            raise KeyboardInterrupt


# --------------------------------------------------------------------------------------
# Writing runs


@dataclass(frozen=True)
class StagedRun:
    """A run written in the folder's staging area, ready for `commit_run` (picklable)."""

    stage: Path
    scenario: str
    replication: int
    head: str  # MANIFEST, or ERROR_FILE for a failed run
    tables: tuple[str, ...] = ()


def _prepare_table(
    table: pa.Table, name: str, scenario: str, replication: int, provenance: Mapping[str, str]
) -> pa.Table:
    """Drop `scenario`/`replication` columns (the path holds them) once checked against the
    run; add provenance to the schema metadata."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for column, value, typ in (("scenario", scenario, pa.string()), ("replication", replication, pa.int64())):
        if column not in table.column_names:
            continue
        try:
            values = table.column(column).cast(typ)
            agree = table.num_rows == 0 or bool(pc.all(pc.equal(values, pa.scalar(value, typ))).as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            agree = False
        if not agree:
            raise ResultsError(
                f"table {name}: column {column!r} does not hold {value!r} on every row, "
                f"but the run is {column} {value!r}"
            )
        table = table.drop_columns([column])
    metadata = dict(table.schema.metadata or {})
    metadata[b"flowsim.table"] = name.encode()
    for key, value in provenance.items():
        metadata[f"flowsim.{key}".encode()] = str(value).encode()
    return table.replace_schema_metadata(metadata)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def stage_run(
    root: str | os.PathLike[str], output: RunOutput, config: BaseModel, wall_seconds: float
) -> StagedRun:
    """Write a run's tables and manifest into the staging area of `root` (already claimed).

    Checks the output first (table names, seeding meta, `scenario`/`replication`
    columns): a `ResultsError` then, before anything is written. OSError if the files
    cannot be written; nothing is left behind then.
    """
    import pyarrow.parquet as pq

    from flowsim.config.loader import canonical_json, config_hash

    meta = dict(output.meta)
    missing = [k for k in ("seed", "spawn_key", "replication") if k not in meta]
    if missing:
        raise ResultsError(f"run output meta lacks {', '.join(missing)}: cannot write a manifest")
    if not output.tables:
        raise ResultsError("run output has no tables: nothing to write")
    scenario = _check_scenario(meta.get("scenario") or getattr(config, "name", None))
    replication = int(meta["replication"])
    digest = config_hash(config)
    provenance = {
        "config_sha256": digest,
        "flowsim_version": flowsim_version(),
        "scenario": scenario,
        "replication": str(replication),
        "seed": str(meta["seed"]),
    }
    prepared = {
        _check_table(name): _prepare_table(table, name, scenario, replication, provenance)
        for name, table in sorted(output.tables.items())
    }

    root = Path(root)
    stage = journal.new_stage(root, f"{scenario}.{replication}")
    try:
        outputs = {}
        for name, table in prepared.items():
            path = stage / journal.NEW / f"{name}.parquet"
            pq.write_table(table, path, **PARQUET_OPTIONS)
            with open(path, "rb+") as fh:
                os.fsync(fh.fileno())
            outputs[name] = {
                "path": _relative_part(name, scenario, replication),
                "sha256": file_sha256(path),
                "bytes": path.stat().st_size,
                "rows": table.num_rows,
            }
        extra = {k: v for k, v in meta.items() if k not in ("seed", "spawn_key", "replication", "scenario")}
        manifest = {
            "kind": MANIFEST_KIND,
            "manifest_version": MANIFEST_VERSION,
            **environment(),
            "scenario": scenario,
            "replication": replication,
            "seed": meta["seed"],
            "spawn_key": [int(k) for k in meta["spawn_key"]],
            "config_sha256": digest,
            "config": json.loads(canonical_json(config)),
            "outputs": outputs,
            "wall_seconds": round(float(wall_seconds), 3),
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "meta": extra,
        }
        text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, default=_json_default)
        _write_synced(stage / journal.NEW / MANIFEST, (text + "\n").encode("utf-8"))
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return StagedRun(stage, scenario, replication, MANIFEST, tuple(prepared))


def stage_failure(root: str | os.PathLike[str], scenario: str, replication: int, text: str) -> StagedRun:
    """Write a failed run's record (its traceback, as error.txt) into the staging area."""
    stage = journal.new_stage(Path(root), f"{_check_scenario(scenario)}.{int(replication)}")
    try:
        _write_synced(
            stage / journal.NEW / ERROR_FILE, (text if text.endswith("\n") else text + "\n").encode()
        )
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return StagedRun(stage, scenario, int(replication), ERROR_FILE)


def _replace_run(root: Path, scenario: str, replication: int, staged: StagedRun | None, stage: Path) -> None:
    """Commit `staged` (or, if None, nothing) in place of whatever run is at its place."""
    key = _key(scenario, replication)
    head = None
    parts: dict[str, str] = {}
    if staged is not None:
        head = (staged.head, f"{RUNS}/{key}/{staged.head}")
        parts = {f"{t}.parquet": _relative_part(t, scenario, replication) for t in staged.tables}
    with defer_interrupts():
        journal.commit(
            root,
            stage,
            head=head,
            parts=parts,
            replaces=[_relative_part(t, scenario, replication) for t in _table_folders(root)],
            heads_of_old=[f"{RUNS}/{key}/{MANIFEST}", f"{RUNS}/{key}/{ERROR_FILE}"],
        )


def commit_run(root: str | os.PathLike[str], staged: StagedRun) -> Path:
    """Move a staged run into place, replacing any run at its place, as one commit.

    Returns the run's folder (`run_dir`). Raises OSError if the files cannot be moved
    (the folder is then as it was).
    """
    with lock_results_folder(root) as folder:
        _replace_run(folder, staged.scenario, staged.replication, staged, staged.stage)
        return run_dir(folder, staged.scenario, staged.replication)


def remove_run(root: str | os.PathLike[str], scenario: str, replication: int) -> None:
    """Take a run (its tables and manifest, or a failed run's error.txt) out, as one commit."""
    with lock_results_folder(root) as folder:
        stage = journal.new_stage(folder, f"{_check_scenario(scenario)}.{int(replication)}.remove")
        _replace_run(folder, scenario, int(replication), None, stage)


def _writing(root: Path) -> contextlib.AbstractContextManager[None]:
    """OSError while writing results as one line."""

    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise ResultsError(f"{root}: cannot write results ({_reason(exc)})") from None

    return guard()


def write_run(
    out_dir: str | os.PathLike[str],
    output: RunOutput,
    config: BaseModel,
    wall_seconds: float,
    *,
    overwrite: bool = False,
) -> Path:
    """Write one run's tables and manifest under `out_dir` as one commit; return its folder.

    A run of the same config at the same place is replaced. A run of another config
    under the same scenario name is refused (`ResultsError`), or, with `overwrite`,
    every run of that other config is taken out first.
    """
    with lock_results_folder(out_dir) as root, _writing(root):
        staged = stage_run(root, output, config, wall_seconds)  # checks the output first
        settle_scenario(root, staged.scenario, config, overwrite=overwrite)
        return commit_run(root, staged)


def write_failure(
    out_dir: str | os.PathLike[str], scenario: str, replication: int, traceback_text: str
) -> Path:
    """Record a failed run (its traceback as error.txt) in place of any earlier run there.

    Returns the error file's path.
    """
    with lock_results_folder(out_dir) as root, _writing(root):
        commit_run(root, stage_failure(root, scenario, replication, traceback_text))
        return run_dir(root, scenario, replication) / ERROR_FILE


def settle_scenario(
    root: str | os.PathLike[str], scenario: str, config: BaseModel, *, overwrite: bool = False
) -> list[int]:
    """Refuse to mix configs under one scenario name, or (with `overwrite`) clear the way.

    Without `overwrite`, a `ResultsError` if the folder holds a run of `scenario` made
    with another config. With it, every run of `scenario` not made with this config
    (including failed runs and unreadable manifests) is taken out; returns their
    replication numbers. The caller holds the folder's lock.
    """
    root = Path(root)
    identity = run_identity(config)
    others: list[tuple[int, dict[str, Any] | None]] = []
    for _, replication, folder in _run_folders(root, scenario):
        try:
            manifest = read_manifest(folder / MANIFEST)
        except ResultsError:
            manifest = None
        if manifest is not None and not manifest_problems(manifest):
            if run_identity(manifest["config"]) != identity:
                others.append((replication, manifest))
        elif overwrite:
            others.append((replication, None))
    if not others:
        return []
    if not overwrite:
        replication, held = next((r, m) for r, m in others if m is not None)
        new = json.loads(_canonical(config))
        raise ResultsError(
            f"{root}: scenario {scenario!r} there already holds runs of another config "
            f"({describe_difference(held['config'], new)}); give this run a new name "
            f"(--set name=NEW), a new folder (--out), or replace them with --overwrite"
        )
    for replication, _ in others:
        remove_run(root, scenario, replication)
    log.info("took out %d run(s) of another config under %r", len(others), scenario)
    return [r for r, _ in others]


def _canonical(config: BaseModel) -> str:
    from flowsim.config.loader import canonical_json

    return canonical_json(config)


# --------------------------------------------------------------------------------------
# Manifests


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a run, from its ``manifest.json`` or its folder, checked field by field."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such manifest") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except ValueError as exc:  # numbers too large, and the like
        raise ResultsError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") != MANIFEST_KIND:
        raise ResultsError(f'{path}: not a flowsim run manifest (no "kind": "{MANIFEST_KIND}")')
    version = data.get("manifest_version")
    if version == 1:
        commit = data.get("git_commit")
        where = f", git commit {str(commit)[:12]}" if commit else ""
        raise ResultsError(
            f"{path}: an old-format manifest (format 1, written by flowsim "
            f"{data.get('flowsim_version', '?')}{where}), from before results were stored one "
            f"dataset per table; reproduce it with that flowsim, or run its config again into a "
            f"new folder with this one"
        )
    if version != MANIFEST_VERSION:
        raise ResultsError(
            f"{path}: manifest format {version!r}, which this flowsim (format {MANIFEST_VERSION}) "
            f"cannot read; use the flowsim that wrote it"
        )
    _check_manifest_fields(path, data)
    return data


def _check_manifest_fields(path: Path, data: dict[str, Any]) -> None:
    def bad(key: str, what: str) -> ResultsError:
        return ResultsError(f"{path}: manifest field {key!r} {what}")

    def count(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    scenario = data.get("scenario")
    if not isinstance(scenario, str) or not _SCENARIO.match(scenario):
        raise bad("scenario", "is not a scenario name")
    if not count(data.get("replication")):
        raise bad("replication", "is not a replication number")
    if not isinstance(data.get("config"), dict):
        raise bad("config", "is not a config (a JSON object)")
    if not isinstance(data.get("config_sha256"), str) or not _SHA256.match(data["config_sha256"]):
        raise bad("config_sha256", "is not a sha256 digest")
    spawn_key = data.get("spawn_key")
    if not isinstance(spawn_key, list) or not all(count(k) for k in spawn_key):
        raise bad("spawn_key", "is not a list of non-negative integers")
    outputs = data.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        raise bad("outputs", "lists no tables")
    for table, entry in outputs.items():
        if not isinstance(table, str) or not _TABLE.match(table) or table == RUNS:
            raise bad("outputs", f"names {table!r}, which is not a table name")
        if not isinstance(entry, dict):
            raise bad(f"outputs.{table}", "is not a JSON object")
        expected = _relative_part(table, scenario, data["replication"])
        if entry.get("path") != expected:
            raise bad(f"outputs.{table}.path", f"is not {expected!r}")
        if not isinstance(entry.get("sha256"), str) or not _SHA256.match(entry["sha256"]):
            raise bad(f"outputs.{table}.sha256", "is not a sha256 digest")
        for key in ("bytes", "rows"):
            if not count(entry.get(key)):
                raise bad(f"outputs.{table}.{key}", "is not a non-negative integer")


def manifest_problems(manifest: Mapping[str, Any]) -> list[str]:
    """What makes a well-formed manifest untrustworthy (its config edited after the run)."""
    try:
        digest = _config_sha256(manifest["config"])
    except (TypeError, ValueError):
        return ["its config cannot be hashed"]
    if digest != manifest["config_sha256"]:
        return ["its config does not hash to its recorded config_sha256 (edited after the run?)"]
    return []


def verify_run(
    root: str | os.PathLike[str], manifest: Mapping[str, Any], *, hashes: bool = True
) -> list[str]:
    """One line per table whose file on disk is not what the manifest records; [] if all are.

    With `hashes` false only presence and size are checked (cheap; for readers).
    """
    problems = []
    for table, entry in sorted(manifest["outputs"].items()):
        path = Path(root) / entry["path"]
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            problems.append(f"{table}: file missing ({entry['path']})")
            continue
        except OSError as exc:
            problems.append(f"{table}: cannot read {entry['path']} ({_reason(exc)})")
            continue
        if size != entry["bytes"]:
            problems.append(f"{table}: {size} bytes on disk, the manifest records {entry['bytes']}")
        elif hashes:
            try:
                if file_sha256(path) != entry["sha256"]:
                    problems.append(f"{table}: sha256 on disk differs from the manifest")
            except OSError as exc:
                problems.append(f"{table}: cannot read {entry['path']} ({_reason(exc)})")
    return problems


# --------------------------------------------------------------------------------------
# Reading back


def _run_folders(root: Path, scenario: str | None = None) -> Iterator[tuple[str, int, Path]]:
    """(scenario, replication, folder) of each run recorded under ``root/runs``, sorted."""
    runs = root / RUNS
    if not runs.is_dir():
        return
    found = []
    for scenario_dir in runs.iterdir():
        name = scenario_dir.name.removeprefix("scenario=")
        if name == scenario_dir.name or not _SCENARIO.match(name) or not scenario_dir.is_dir():
            continue
        if scenario is not None and name != scenario:
            continue
        for folder in scenario_dir.iterdir():
            number = folder.name.removeprefix("replication=")
            if number != folder.name and number.isdigit() and folder.is_dir():
                found.append((name, int(number), folder))
    yield from sorted(found)


def _check_readable(root: Path) -> None:
    if not root.is_dir():
        raise ResultsError(f"{root}: no such results folder")
    if not (root / MARKER).exists():
        raise ResultsError(f"{root}: not a flowsim results folder (no {MARKER})")
    _check_marker(root, reading=True)


@dataclass(frozen=True)
class _Part:
    scenario: str
    replication: int
    path: Path
    sha256: str


def _committed_parts(
    root: Path, table: str, scenario: str | None, replications: Iterable[int] | None
) -> list[_Part]:
    """The files of `table` of every run whose manifest is in place and lists it, present
    with the recorded size. A size that differs is an error, never skipped silently."""
    wanted = None if replications is None else {int(r) for r in replications}
    parts = []
    for name, replication, folder in _run_folders(root, scenario):
        if wanted is not None and replication not in wanted:
            continue
        if not (folder / MANIFEST).is_file():
            continue  # a failed run (error.txt), or none
        try:
            manifest = read_manifest(folder / MANIFEST)
        except ResultsError as exc:
            log.warning("%s: left out of the results", exc)
            continue
        if (manifest["scenario"], manifest["replication"]) != (name, replication):
            log.warning("%s: describes another run than its folder's: left out", folder / MANIFEST)
            continue
        entry = manifest["outputs"].get(table)
        if entry is None:
            continue
        path = root / entry["path"]
        problems = verify_run(root, {"outputs": {table: entry}}, hashes=False)
        if problems and "file missing" in problems[0]:
            log.warning("%s/%s: %s: left out of the results", name, replication, problems[0])
            continue
        if problems:
            raise ResultsError(f"{path}: damaged ({problems[0]}); {_redo_hint(name, replication)}")
        parts.append(_Part(name, replication, path, entry["sha256"]))
    return parts


def _redo_hint(scenario: str, replication: int) -> str:
    return f"run `flowsim run` for scenario {scenario!r} again to redo replication {replication}"


def _open_for_reading(root: str | os.PathLike[str], table: str) -> Path:
    """Check the folder and the table name; finish a killed writer's commit if no one writes."""
    root = Path(root)
    _check_table(table)
    _check_readable(root)
    journal.recover_if_idle(root)
    return root


def open_dataset(
    root: str | os.PathLike[str],
    table: str = "kpis",
    *,
    scenario: str | None = None,
    replications: Iterable[int] | None = None,
) -> ds.Dataset:
    """One table across every complete run under `root` (or of one scenario, or some
    replications), with `scenario` (string) and `replication` (int32) from the paths.

    The dataset reads lazily: a run replaced while it is being read can fail the read.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    root = _open_for_reading(root, table)
    with journal.commit_guard(root, shared=True):
        parts = _committed_parts(root, table, scenario, replications)
    if not parts:
        raise ResultsError(f"{root}: no complete run has a {table!r} table")
    partitioning = ds.partitioning(
        pa.schema([("scenario", pa.string()), ("replication", pa.int32())]), flavor="hive"
    )
    return ds.dataset(
        [str(p.path) for p in parts],
        format="parquet",
        partitioning=partitioning,
        partition_base_dir=str(root / table),
    )


def read_table(
    root: str | os.PathLike[str],
    table: str = "kpis",
    *,
    scenario: str | None = None,
    replications: Iterable[int] | None = None,
    verify: bool = True,
) -> pa.Table:
    """One table of every complete run, read whole: `scenario` and `replication` first,
    sorted by them. With `verify` (the default) each file's sha256 is checked against its
    manifest, and a damaged file is a `ResultsError` naming it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = _open_for_reading(root, table)
    pieces = []
    with journal.commit_guard(root, shared=True):
        parts = _committed_parts(root, table, scenario, replications)
        for part in parts:
            data = part.path.read_bytes()
            if verify and hashlib.sha256(data).hexdigest() != part.sha256:
                raise ResultsError(
                    f"{part.path}: damaged (sha256 differs from its manifest); "
                    f"{_redo_hint(part.scenario, part.replication)}"
                )
            try:
                piece = pq.read_table(pa.BufferReader(data))
            except (pa.ArrowException, OSError) as exc:
                raise ResultsError(f"{part.path}: not a readable Parquet file ({exc})") from None
            piece = piece.add_column(0, "scenario", pa.array([part.scenario] * piece.num_rows, pa.string()))
            piece = piece.add_column(
                1, "replication", pa.array([part.replication] * piece.num_rows, pa.int32())
            )
            pieces.append(piece.replace_schema_metadata(None))
    if not pieces:
        raise ResultsError(f"{root}: no complete run has a {table!r} table")
    return pa.concat_tables(pieces, promote_options="default")
