"""What the dashboard reads: every table of a results folder that can be read, and a list of
what cannot.

The dashboard never shows a partial or damaged run as complete, and never stops serving
because of one. Tables are read with flowsim's own readers (`flowsim.results.read_table`),
which take only runs whose manifest is in place and whose files match it. When a table
cannot be read whole (one damaged file makes `read_table` refuse), it is read run by run
and each run that fails is named in `Results.problems`; the rest is shown.

Reading is cached per folder and redone when a file under it changes (a new run, a
replaced one), so a page's first render does not pay for it twice.
"""

from __future__ import annotations

import json
import os
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flowsim.metrics.registry import measures
from flowsim.results import (
    ERROR_FILE,
    MANIFEST,
    MARKER,
    RUNS,
    ResultsError,
    read_manifest,
    read_table,
    verify_run,
)
from flowsim.uncertainty import DRAW_PREFIX

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "KEYS",
    "Results",
    "Run",
    "check_results_folder",
    "load_results",
    "swept_parameters",
]

T = TypeVar("T")

# The partition keys every table read carries.
KEYS = ("scenario", "replication")
# Tables read when present: payments between organisations (`flows`) and each
# organisation's accounts (`finance`), a sweep's parameter samples (`samples`).
OPTIONAL_TABLES = ("flows", "finance", "samples", "episodes")


@dataclass(frozen=True)
class Run:
    """One run recorded in the folder: its manifest, or why it cannot be used."""

    scenario: str
    replication: int
    manifest_path: Path
    manifest: dict[str, Any] | None
    problem: str | None = None

    @property
    def complete(self) -> bool:
        """A manifest in place and every file it lists present at its recorded size."""
        return self.manifest is not None and self.problem is None

    @property
    def reproduce_command(self) -> str:
        """The command that re-runs this run and checks its files byte for byte."""
        return f"flowsim reproduce {shlex.quote(str(self.manifest_path))}"


@dataclass
class Results:
    """A results folder as the dashboard sees it: tables as DataFrames (only complete, checked
    runs), the runs, and one line for each thing that could not be read."""

    root: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    experiment: dict[str, Any] | None = None
    # What pages computed from these results, by key; dropped with them when a run changes.
    _computed: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)

    def computed(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """`compute()`, once per key for these results (a page's charts for a scenario)."""
        if key not in self._computed:
            self._computed[key] = compute()
        return cast(T, self._computed[key])

    def table(self, name: str) -> pd.DataFrame | None:
        """A table, or None if no complete run has it."""
        return self.tables.get(name)

    @property
    def scenarios(self) -> list[str]:
        """The scenarios with KPIs, alphabetically."""
        kpis = self.table("kpis")
        return [] if kpis is None else sorted(kpis["scenario"].unique().tolist())

    def replications(self, scenario: str) -> int:
        kpis = self.table("kpis")
        return 0 if kpis is None else int((kpis["scenario"] == scenario).sum())

    @property
    def sites(self) -> list[str]:
        """The acute sites of the occupancy table (none if it is absent)."""
        occupancy = self.table("occupancy")
        if occupancy is None:
            return []
        acute = occupancy[occupancy["pool"] == "acute"]
        return sorted(acute["site"].dropna().unique().tolist())

    def measured(self, name: str) -> pd.DataFrame | None:
        """A daily-dated table cut to the measured window (after warm-up) of each run, using
        the daily table's warm-up flag; the table as it is when there is no daily table."""
        table = self.table(name)
        daily = self.table("daily")
        if table is None or daily is None or "date" not in table.columns:
            return table
        window = daily.loc[~daily["warmup"], ["scenario", "replication", "date"]]
        return table.merge(window, on=["scenario", "replication", "date"], how="inner")


def check_results_folder(root: str | os.PathLike[str]) -> Path:
    """`root` as a Path if it is a flowsim results folder; a `ResultsError` (one line) if not."""
    root = Path(root)
    if not root.exists():
        raise ResultsError(f"{root}: no such results folder")
    if not root.is_dir():
        raise ResultsError(f"{root}: not a folder; give the --out folder of `flowsim run`")
    if not (root / MARKER).is_file():
        raise ResultsError(
            f"{root}: not a flowsim results folder (no {MARKER}); give the --out folder of `flowsim run`"
        )
    return root


def list_runs(root: Path) -> list[Run]:
    """Every run the folder records, each with its manifest or the reason it cannot be used."""
    runs: list[Run] = []
    base = root / RUNS
    if not base.is_dir():
        return runs
    for scenario_dir in sorted(base.glob("scenario=*")):
        scenario = scenario_dir.name.removeprefix("scenario=")
        for folder in sorted(scenario_dir.glob("replication=*")):
            number = folder.name.removeprefix("replication=")
            if not number.isdigit():
                continue
            replication, path = int(number), folder / MANIFEST
            if path.is_file():
                try:
                    manifest = read_manifest(path)
                    missing = verify_run(root, manifest, hashes=False)
                    problem = f"incomplete ({'; '.join(missing)})" if missing else None
                    runs.append(Run(scenario, replication, path, manifest, problem))
                except ResultsError as exc:
                    runs.append(Run(scenario, replication, path, None, f"unreadable manifest: {exc}"))
            elif (folder / ERROR_FILE).is_file():
                runs.append(
                    Run(
                        scenario,
                        replication,
                        path,
                        None,
                        f"the run failed (its traceback: {folder / ERROR_FILE})",
                    )
                )
            else:
                runs.append(Run(scenario, replication, path, None, f"{folder}: unfinished (no manifest)"))
    return sorted(runs, key=lambda r: (r.scenario, r.replication))


def _table_names(root: Path, runs: list[Run]) -> list[str]:
    """The tables the complete runs' manifests list, in a stable order."""
    names = {name for run in runs if run.manifest is not None for name in run.manifest.get("outputs", {})}
    first = ["kpis", "daily", "occupancy", "delays", "spend", *OPTIONAL_TABLES]
    return [n for n in first if n in names] + sorted(names - set(first))


def _read_one_table(root: Path, name: str, runs: list[Run], problems: list[str]) -> pd.DataFrame | None:
    """The table whole if it reads, else run by run, naming each run that does not."""
    import pyarrow as pa

    try:
        return _to_pandas(read_table(root, name))
    except ResultsError as first:
        problems_before = len(problems)
        pieces = []
        for run in runs:
            if run.manifest is None or name not in run.manifest.get("outputs", {}):
                continue
            try:
                pieces.append(read_table(root, name, scenario=run.scenario, replications=[run.replication]))
            except ResultsError as exc:
                problems.append(
                    f"table {name!r}, scenario {run.scenario!r} replication {run.replication}: {exc}"
                )
        if len(problems) == problems_before:
            problems.append(f"table {name!r}: {first}")
        if not pieces:
            return None
        return _to_pandas(pa.concat_tables(pieces, promote_options="default"))


def _to_pandas(table: Any) -> pd.DataFrame:
    import pandas as pd

    frame = table.to_pandas()
    frame["scenario"] = frame["scenario"].astype(str)
    frame["replication"] = frame["replication"].astype(int)
    if "date" in frame.columns:
        frame["date"] = pd.to_datetime(frame["date"])
    return frame


def _read_experiment(root: Path, problems: list[str]) -> dict[str, Any] | None:
    """A sweep's experiment.json, if the folder holds one."""
    path = root / "experiment.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.append(f"{path}: unreadable ({exc})")
        return None
    return data if isinstance(data, dict) else None


def read_results(root: str | os.PathLike[str]) -> Results:
    """Read every table of a results folder that can be read (uncached)."""
    root = check_results_folder(root)
    runs = list_runs(root)
    results = Results(root, runs=runs)
    results.problems.extend(
        f"scenario {r.scenario!r} replication {r.replication}: {r.problem}" for r in runs if r.problem
    )
    if not any(r.manifest is not None for r in runs):
        results.problems.append(f"{root}: no complete run yet (run `flowsim run CONFIG --out {root}`)")
    for name in _table_names(root, runs):
        table = _read_one_table(root, name, runs, results.problems)
        if table is not None:
            results.tables[name] = table
    if "samples" not in results.tables:
        samples = _read_loose_samples(root, results.problems)
        if samples is not None:
            results.tables["samples"] = samples
    results.experiment = _read_experiment(root, results.problems)
    return results


def _read_loose_samples(root: Path, problems: list[str]) -> pd.DataFrame | None:
    """A sweep's samples written beside the runs rather than as a run's table
    (`samples.parquet`, `samples.csv` or a `samples/` dataset no manifest lists)."""
    import pandas as pd

    for path in (root / "samples.parquet", root / "samples", root / "samples.csv"):
        if not path.exists():
            continue
        try:
            return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
        except (OSError, ValueError, ImportError) as exc:
            problems.append(f"{path}: unreadable ({exc})")
    return None


def _signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the folder's files: changes when a run does."""
    entries = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            try:
                stat = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            entries.append((os.path.join(folder, name), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(entries))


_cache: dict[Path, tuple[tuple[tuple[str, int, int], ...], Results]] = {}
_lock = threading.Lock()


def load_results(root: str | os.PathLike[str]) -> Results:
    """The folder's results, read once and again only when a file under it changes."""
    root = check_results_folder(root).resolve()
    with _lock:
        signature = _signature(root)
        held = _cache.get(root)
        if held is not None and held[0] == signature:
            return held[1]
        results = read_results(root)
        _cache[root] = (signature, results)
        return results


def swept_parameters(results: Results) -> tuple[pd.DataFrame | None, list[str]]:
    """The kpis table with one column per swept parameter, and those columns' names; (None,
    []) when the folder is not a sweep.

    A sweep is recognised by a `samples` table (a `sample` column and one column per dotted
    parameter path, joined to the kpis table on `sample` or `scenario`), or by kpis columns
    that the KPI registry does not know (the sweep writes its parameters beside the KPIs).
    """
    kpis = results.table("kpis")
    if kpis is None:
        return None, []
    known = set(measures("kpis")) | set(KEYS) | {"sample"}
    # A plan's values drawn per replication (draw.*) are not a sweep's parameters.
    params = [
        c for c in kpis.columns if c not in known and not c.startswith(DRAW_PREFIX) and _numeric(kpis[c])
    ]
    samples = results.table("samples")
    if samples is not None:
        extra = [c for c in samples.columns if c not in (*KEYS, "sample") and _numeric(samples[c])]
        on = next((k for k in ("sample", "scenario") if k in kpis.columns and k in samples.columns), None)
        if on is not None and extra:
            columns = [on, *(c for c in extra if c not in kpis.columns)]
            kpis = kpis.merge(samples[columns].drop_duplicates(on), on=on, how="left")
            params = list(dict.fromkeys([*params, *extra]))
    return (kpis, params) if params else (None, [])


def _numeric(column: pd.Series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(column)) and not pd.api.types.is_bool_dtype(column)
