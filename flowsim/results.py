"""The results store: one folder per run, tidy Parquet tables and a manifest.

Layout of a results folder (``flowsim run … --out results/demo``)::

    results/demo/
      _flowsim_results.json              marks the folder as flowsim's (never write elsewhere)
      scenario=<name>/replication=<k>/
        daily.parquet                    one row per day
        kpis.parquet                     one row: the headline figures after warm-up
        occupancy.parquet                one row per day and pool (acute: per site)
        delays.parquet                   one row per day, pathway and responsible organisation
        spend.parquet                    one row per day and cost item
        episodes.parquet                 optional: one row per episode of care
        manifest.json                    what ran, where, with which versions; output hashes
        error.txt                        only if the run failed: its traceback

Every table carries `scenario` and `replication` columns as well as the hive folder names,
so a file read on its own still says where it came from. The three tables share each run
folder, so read one table across runs with `open_dataset(root, "kpis")` (or duckdb's
``read_parquet('results/demo/*/*/kpis.parquet', hive_partitioning=1)``).

Files are written atomically (a hidden temp file in the same folder, fsync, rename) and the
manifest last: a run folder with a manifest is complete. Parquet is written with fixed
settings and no timestamps, so the same tables always give byte-identical files — which
is what `flowsim reproduce` checks.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import platform
import re
import secrets
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds
    from pydantic import BaseModel

__all__ = [
    "ERROR_FILE",
    "MANIFEST",
    "MARKER",
    "RunOutput",
    "ResultsError",
    "TABLES",
    "environment",
    "file_sha256",
    "open_dataset",
    "read_manifest",
    "read_table",
    "run_dir",
    "write_failure",
    "write_run",
]

MANIFEST = "manifest.json"
ERROR_FILE = "error.txt"
MARKER = "_flowsim_results.json"
TABLES = ("daily", "kpis", "occupancy", "delays", "spend", "episodes")
MANIFEST_KIND = "flowsim-run"
MANIFEST_VERSION = 1

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
# Packages whose versions decide the numbers (or the bytes) of a run.
_PACKAGES = ("numpy", "simpy", "mesa", "pyarrow", "pydantic", "pydantic-core", "PyYAML", "scipy", "Cython")


class ResultsError(Exception):
    """A results folder or manifest that cannot be used; str() is one line."""


@dataclass
class RunOutput:
    """What one simulated run returns: its tables and how it was seeded.

    `meta` holds at least ``seed``, ``spawn_key`` (list of int), ``replication`` and
    ``scenario``; anything else in it is kept in the manifest.
    """

    daily: pa.Table
    kpis: pa.Table
    episodes: pa.Table | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    occupancy: pa.Table | None = None
    delays: pa.Table | None = None
    spend: pa.Table | None = None

    @property
    def tables(self) -> dict[str, pa.Table]:
        """The run's tables by name (the optional ones only if present)."""
        out = {"daily": self.daily, "kpis": self.kpis}
        for name in ("occupancy", "delays", "spend", "episodes"):
            table = getattr(self, name)
            if table is not None:
                out[name] = table
        return out


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
        "packages": _package_versions(),
        "platform": {
            "platform": platform.platform(),
            "system": platform.system(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
        },
    }


# --------------------------------------------------------------------------------------
# Atomic files


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not supported on this platform
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(path: Path, write: Callable[[Path], object]) -> str:
    """Write `path` through a hidden temp file beside it; return the file's sha256.

    Readers see the old file or the whole new one, never a part; a crash leaves at most a
    hidden ``.name.*.tmp`` (which pyarrow's dataset discovery skips).
    """
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # honours umask
    try:
        write(tmp)
        digest = hashlib.sha256()
        with open(tmp, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)
    return digest.hexdigest()


def _write_text(path: Path, text: str) -> str:
    return _atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


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


# --------------------------------------------------------------------------------------
# The results folder


def _is_ours(entry: Path) -> bool:
    name = entry.name
    return (
        name == MARKER
        or (name.startswith(".") and name.endswith(".tmp"))
        or (name.startswith("scenario=") and entry.is_dir())
    )


def claim_results_folder(root: str | os.PathLike[str]) -> Path:
    """Make `root` a flowsim results folder, or refuse if it holds anything else.

    A new or empty folder is claimed (the marker file is written); one with the marker
    is reused. Refusing protects a folder of someone else's files from being mixed with
    results, or a results glob from picking up stray files.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ResultsError(f"{root}: exists and is not a folder; choose a results folder with --out")
    marker = root / MARKER
    if root.is_dir() and not marker.is_file():
        strangers = [e.name for e in root.iterdir() if not _is_ours(e)]
        if strangers:
            raise ResultsError(
                f"{root}: not a flowsim results folder (it holds {strangers[0]!r} and no "
                f"{MARKER}); choose a new or empty folder with --out"
            )
    root.mkdir(parents=True, exist_ok=True)
    if not marker.is_file():
        text = json.dumps({"kind": "flowsim-results", "version": MANIFEST_VERSION}, indent=2) + "\n"
        _write_text(marker, text)
    return root


def _check_scenario(scenario: object) -> str:
    if not isinstance(scenario, str) or not _SCENARIO.match(scenario) or set(scenario) == {"."}:
        raise ResultsError(
            f"scenario name {scenario!r} cannot name a folder; use letters, digits, '_', '.' or '-'"
        )
    return scenario


def run_dir(root: str | os.PathLike[str], scenario: str, replication: int) -> Path:
    """The folder of one run: ``root/scenario=<name>/replication=<k>``."""
    return Path(root) / f"scenario={_check_scenario(scenario)}" / f"replication={int(replication)}"


def _with_run_columns(table: pa.Table, name: str, scenario: str, replication: int) -> pa.Table:
    """`scenario` (string) and `replication` (int32, as hive discovery infers it) columns,
    added in front if absent, checked and cast if present."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for position, (column, value, typ) in enumerate(
        (("scenario", scenario, pa.string()), ("replication", replication, pa.int32()))
    ):
        if column in table.column_names:
            index = table.column_names.index(column)
            values = table.column(index).cast(typ)
            if table.num_rows and not pc.all(pc.equal(values, pa.scalar(value, typ))).as_py():
                raise ResultsError(
                    f"{name}: column {column!r} does not hold {value!r} on every row, "
                    f"but the run is {column} {value!r}"
                )
            table = table.set_column(index, column, values)
        else:
            table = table.add_column(position, column, pa.array([value] * table.num_rows, typ))
    return table


def _with_provenance(table: pa.Table, name: str, provenance: Mapping[str, str]) -> pa.Table:
    metadata = dict(table.schema.metadata or {})
    metadata[b"flowsim.table"] = name.encode()
    for key, value in provenance.items():
        metadata[f"flowsim.{key}".encode()] = str(value).encode()
    return table.replace_schema_metadata(metadata)


def _write_parquet(path: Path, table: pa.Table) -> str:
    import pyarrow.parquet as pq

    return _atomic_write(path, lambda tmp: pq.write_table(table, tmp, **PARQUET_OPTIONS))


def write_run(
    out_dir: str | os.PathLike[str],
    output: RunOutput,
    config: BaseModel,
    wall_seconds: float,
) -> Path:
    """Write one run's tables and manifest under `out_dir`; return the run's folder.

    An earlier run in the same folder is replaced: its manifest goes first, so a crash
    part-way leaves a folder without a manifest (incomplete, re-run on resume), never a
    manifest that describes other files.
    """
    from flowsim.config.loader import canonical_json, config_hash

    meta = dict(output.meta)
    missing = [k for k in ("seed", "spawn_key", "replication") if k not in meta]
    if missing:
        raise ResultsError(f"run output meta lacks {', '.join(missing)}: cannot write a manifest")
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
        name: _with_provenance(_with_run_columns(table, name, scenario, replication), name, provenance)
        for name, table in output.tables.items()
    }

    root = claim_results_folder(out_dir)
    folder = run_dir(root, scenario, replication)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in (MANIFEST, ERROR_FILE, *(f"{t}.parquet" for t in TABLES)):
        (folder / stale).unlink(missing_ok=True)

    outputs = {}
    for name, table in prepared.items():
        filename = f"{name}.parquet"
        sha = _write_parquet(folder / filename, table)
        outputs[filename] = {
            "sha256": sha,
            "bytes": (folder / filename).stat().st_size,
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
    _write_text(folder / MANIFEST, text + "\n")
    return folder


def write_failure(
    out_dir: str | os.PathLike[str], scenario: str, replication: int, traceback_text: str
) -> Path:
    """Record a failed run: its traceback in ``error.txt``, and no manifest."""
    folder = run_dir(claim_results_folder(out_dir), scenario, replication)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    path = folder / ERROR_FILE
    _write_text(path, traceback_text if traceback_text.endswith("\n") else traceback_text + "\n")
    return path


# --------------------------------------------------------------------------------------
# Reading back


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a run, from its ``manifest.json`` or its folder."""
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
    if not isinstance(data, dict) or data.get("kind") != MANIFEST_KIND:
        raise ResultsError(f'{path}: not a flowsim run manifest (no "kind": "{MANIFEST_KIND}")')
    for key in ("config", "config_sha256", "replication", "outputs"):
        if key not in data:
            raise ResultsError(f"{path}: manifest lacks {key!r}")
    return data


def open_dataset(root: str | os.PathLike[str], table: str = "kpis") -> ds.Dataset:
    """One table across every run under `root`, with `scenario` and `replication` from the
    hive folder names (typed string and int32, like the columns in the files)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    if table not in TABLES:
        raise ResultsError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}")
    root = Path(root)
    files = sorted(root.glob(f"scenario=*/replication=*/{table}.parquet"))
    if not files:
        raise ResultsError(f"{root}: no {table}.parquet under scenario=*/replication=*/")
    partitioning = ds.partitioning(
        pa.schema([("scenario", pa.string()), ("replication", pa.int32())]), flavor="hive"
    )
    return ds.dataset(
        [str(f) for f in files],
        format="parquet",
        partitioning=partitioning,
        partition_base_dir=str(root),
    )


def read_table(root: str | os.PathLike[str], table: str = "kpis") -> pa.Table:
    """`open_dataset(root, table)` read whole, sorted by scenario and replication."""
    return (
        open_dataset(root, table)
        .to_table()
        .sort_by([("scenario", "ascending"), ("replication", "ascending")])
    )
