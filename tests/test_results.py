"""The results store: one dataset per table, manifests, commits that are all or nothing.

A run becomes part of the results only once all its files and its manifest are in place;
a kill at any moment of a commit leaves the old run or the new one, never a mix; what
standard tools read from a table's folder is exactly that table.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import json
import os
import shutil
import signal
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel, ConfigDict

import flowsim.results as results
from flowsim import journal
from flowsim.config.loader import canonical_json, config_hash
from flowsim.results import (
    MARKER,
    ResultsError,
    RunOutput,
    file_sha256,
    lock_results_folder,
    open_dataset,
    read_manifest,
    read_table,
    run_dir,
    table_path,
    verify_run,
    write_failure,
    write_run,
)

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Run(Strict):
    start_date: dt.date = dt.date(2016, 4, 1)
    horizon_days: int = 3
    warmup_days: int = 0
    seed: int = 11
    replications: int = 2


class Config(Strict):
    """A stand-in for FlowsimConfig: results only need a name and something to hash."""

    name: str = "base"
    run: Run = Run()
    beds_scale: float = 1.0


def output(
    scenario: str = "base", replication: int = 0, episodes: bool = False, scale: float = 1.0
) -> RunOutput:
    days = 3
    daily = pa.table(
        {
            "scenario": [scenario] * days,  # as the model writes them: checked, then dropped
            "replication": pa.array([replication] * days, pa.int32()),
            "day": pa.array(range(days), pa.int32()),
            "date": pa.array([dt.date(2016, 4, 1) + dt.timedelta(d) for d in range(days)]),
            "ae_attendances": pa.array([410 + d for d in range(days)], pa.int64()),
            "acute_occupancy": pa.array([0.91 * scale, 0.93 * scale, 0.95], pa.float64()),
        }
    )
    kpis = pa.table(
        {
            "scenario": [scenario],
            "replication": pa.array([replication], pa.int64()),
            "days": [days],
            "ae_attendances": [1233 + replication],
            "ae_4h_pct": [91.5 * scale],
            "spend_total": [1.25e6],
        }
    )
    tables = {"daily": daily, "kpis": kpis}
    if episodes:
        tables["episodes"] = pa.table({"person_id": [1, 2], "ae_arrival_h": [0.5, None]})
    meta = {
        "seed": 11,
        "spawn_key": [replication],
        "replication": replication,
        "scenario": scenario,
        "note": (1, 2),
    }
    return RunOutput(tables=tables, meta=meta)


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file a reader could see (flowsim's own lock files aside), with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in (journal.LOCK, journal.COMMIT_LOCK)
    }


# --- layout ---------------------------------------------------------------------------


def test_one_dataset_folder_per_table_and_the_manifest_apart(tmp_path: Path) -> None:
    root = tmp_path / "res"
    folder = write_run(root, output(episodes=True), Config(), wall_seconds=1.5)
    assert folder == root / "runs" / "scenario=base" / "replication=0"
    assert [f for f in files_under(root) if not f.startswith(".")] == [
        MARKER,
        "daily/scenario=base/replication=0/part-0.parquet",
        "episodes/scenario=base/replication=0/part-0.parquet",
        "kpis/scenario=base/replication=0/part-0.parquet",
        "runs/scenario=base/replication=0/manifest.json",
    ]
    assert not (root / ".staging").exists(), "no staging left behind"


def test_partition_keys_are_in_the_path_only(tmp_path: Path) -> None:
    write_run(tmp_path, output(replication=2, episodes=True), Config(), wall_seconds=0)
    for name in ("daily", "kpis", "episodes"):
        schema = pq.read_schema(table_path(tmp_path, name, "base", 2))
        assert "scenario" not in schema.names and "replication" not in schema.names


def test_manifest_records_what_ran(tmp_path: Path) -> None:
    config = Config()
    folder = write_run(tmp_path, output(replication=1), config, wall_seconds=2.25)
    manifest = read_manifest(folder / "manifest.json")
    assert manifest == read_manifest(folder)
    assert manifest["manifest_version"] == 2
    assert manifest["config_sha256"] == config_hash(config)
    assert json.dumps(manifest["config"], sort_keys=True, separators=(",", ":")) == canonical_json(config)
    assert (manifest["scenario"], manifest["replication"], manifest["seed"], manifest["spawn_key"]) == (
        "base",
        1,
        11,
        [1],
    )
    assert manifest["wall_seconds"] == 2.25
    assert manifest["core"] in ("compiled", "python")
    assert {"numpy", "simpy", "mesa", "pyarrow", "pydantic"} <= set(manifest["packages"])
    assert manifest["meta"] == {"note": [1, 2]}
    assert set(manifest["outputs"]) == {"daily", "kpis"}
    for name, entry in manifest["outputs"].items():
        path = tmp_path / entry["path"]
        assert path == table_path(tmp_path, name, "base", 1)
        assert entry["sha256"] == file_sha256(path)
        assert entry["bytes"] == path.stat().st_size
    assert manifest["outputs"]["daily"]["rows"] == 3


def test_same_tables_give_byte_identical_parquet(tmp_path: Path) -> None:
    """Same tables, different wall time and folder: the same bytes (what reproduce checks)."""
    for where, wall in (("a", 1.0), ("b", 99.0)):
        write_run(tmp_path / where, output(episodes=True), Config(), wall_seconds=wall)
    for name in ("daily", "kpis", "episodes"):
        a = table_path(tmp_path / "a", name, "base", 0).read_bytes()
        assert a == table_path(tmp_path / "b", name, "base", 0).read_bytes(), name
    write_run(tmp_path / "c", output(scale=0.5), Config(), wall_seconds=1.0)
    assert (
        table_path(tmp_path / "a", "kpis", "base", 0).read_bytes()
        != table_path(tmp_path / "c", "kpis", "base", 0).read_bytes()
    )


def test_provenance_rides_in_the_arrow_schema(tmp_path: Path) -> None:
    config = Config()
    write_run(tmp_path, output(replication=1), config, wall_seconds=3.0)
    metadata = pq.read_schema(table_path(tmp_path, "daily", "base", 1)).metadata
    assert metadata[b"flowsim.config_sha256"] == config_hash(config).encode()
    assert metadata[b"flowsim.table"] == b"daily"
    assert (metadata[b"flowsim.scenario"], metadata[b"flowsim.replication"]) == (b"base", b"1")
    assert not any(b"wall" in key for key in metadata), "wall time would break byte-identity"


# --- what standard tools read ----------------------------------------------------------

# The README and docs/results.md show exactly these lines (checked below), run from the
# folder that holds results/demo.
ONE_LINERS = {
    "pandas": 'pd.read_parquet("results/demo/kpis")',
    "polars": 'pl.read_parquet("results/demo/kpis")',
    "duckdb": "duckdb.sql(\"SELECT * FROM read_parquet('results/demo/kpis/**/*.parquet', hive_partitioning = true)\").df()",
}


def test_standard_tools_read_a_table_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb
    import pandas as pd
    import polars as pl

    root = tmp_path / "results" / "demo"
    for scenario in ("base", "fewer_beds"):
        for replication in (0, 1, 10):
            write_run(
                root, output(scenario, replication, episodes=replication == 0), Config(name=scenario), 0
            )
    # what must never be read as results: a failed run, an unfinished write, a commit in flight
    write_failure(root, "base", 11, "Traceback: boom")
    with lock_results_folder(root):
        results.stage_run(root, output("base", 12), Config(), 0)
        monkeypatch.chdir(tmp_path)
        expected = sorted((s, r, 1233 + r) for s in ("base", "fewer_beds") for r in (0, 1, 10))
        for tool, line in ONE_LINERS.items():
            frame = eval(line, {"pd": pd, "pl": pl, "duckdb": duckdb})
            if tool == "polars":
                frame = frame.to_pandas()
            rows = sorted(
                zip(frame["scenario"].astype(str), frame["replication"].astype(int), frame["ae_attendances"])
            )
            assert rows == expected, tool
            assert frame.shape[1] == 6, tool  # days, ae_attendances, ae_4h_pct, spend_total + keys
        # every table the same way: one dataset folder each
        for table, rows_per_run, runs in (("daily", 3, 6), ("episodes", 2, 2)):
            for tool, line in ONE_LINERS.items():
                frame = eval(line.replace("/kpis", f"/{table}"), {"pd": pd, "pl": pl, "duckdb": duckdb})
                assert len(frame) == rows_per_run * runs, (table, tool)
                assert {"scenario", "replication"} <= set(frame.columns), (table, tool)
    for doc in ("README.md", "docs/results.md"):
        text = (REPO / doc).read_text(encoding="utf-8")
        for line in ONE_LINERS.values():
            assert line in text, f"{doc} does not show {line}"


def test_read_table_and_open_dataset(tmp_path: Path) -> None:
    root = tmp_path / "res"
    for scenario in ("base", "fewer_beds"):
        for replication in (1, 0):
            write_run(root, output(scenario, replication, episodes=True), Config(name=scenario), 0)
    kpis = read_table(root, "kpis")
    assert kpis.column_names[:2] == ["scenario", "replication"]
    assert kpis.schema.field("replication").type == pa.int32()
    assert list(zip(kpis["scenario"].to_pylist(), kpis["replication"].to_pylist())) == [
        ("base", 0),
        ("base", 1),
        ("fewer_beds", 0),
        ("fewer_beds", 1),
    ]
    assert read_table(root, "daily").num_rows == 12
    assert read_table(root, "kpis", scenario="base", replications=[1]).num_rows == 1
    assert open_dataset(root, "episodes").count_rows() == 8
    daily = open_dataset(root, "daily").to_table(filter=ds.field("replication") >= 1)
    assert set(daily["replication"].to_pylist()) == {1}
    with pytest.raises(ResultsError, match="no complete run has a 'spend' table"):
        read_table(root, "spend")
    with pytest.raises(ResultsError, match="cannot name a dataset folder"):
        read_table(root, "../kpis")


def test_table_names_must_name_a_folder(tmp_path: Path) -> None:
    for bad in ("Daily", "runs", "a-b", "_x", "../x", ""):
        out = output()
        out.tables[bad] = out.tables["kpis"]
        with pytest.raises(ResultsError, match="cannot name a dataset folder"):
            write_run(tmp_path, out, Config(), wall_seconds=0)
    assert not (tmp_path / "runs").exists()
    out = output()
    out.tables["occupancy"] = pa.table({"pool": ["acute"], "occupied": [3]})
    write_run(tmp_path, out, Config(), wall_seconds=0)
    assert read_table(tmp_path, "occupancy")["occupied"].to_pylist() == [3]


# --- refusals -------------------------------------------------------------------------


def test_refuses_a_folder_that_is_not_flowsim_results(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("precious")
    with pytest.raises(ResultsError, match="not a flowsim results folder") as info:
        write_run(tmp_path, output(), Config(), wall_seconds=0)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.docx"], "nothing written"


def test_folders_that_cannot_be_results_folders(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    cases = {
        a_file: "exists and is not a folder",
        a_file / "sub" / "res": f"{a_file} is a file",
    }
    marker_dir = tmp_path / "marker_is_a_folder"
    (marker_dir / MARKER).mkdir(parents=True)
    cases[marker_dir] = "not a file"
    garbage = tmp_path / "garbage_marker"
    garbage.mkdir()
    (garbage / MARKER).write_text("{oops")
    cases[garbage] = "not flowsim's marker"
    old = tmp_path / "old_layout"
    old.mkdir()
    (old / MARKER).write_text('{"kind": "flowsim-results", "version": 1}')
    cases[old] = "old layout \\(format 1"
    for root, message in cases.items():
        with pytest.raises(ResultsError, match=message) as info:
            write_run(root, output(), Config(), wall_seconds=0)
        assert "\n" not in str(info.value) and str(root) in str(info.value)
    assert a_file.read_text() == "x" and not (old / "runs").exists()
    with pytest.raises(ResultsError, match="old layout .* read its files with pyarrow"):
        read_table(old)
    with pytest.raises(ResultsError, match="no such results folder"):
        open_dataset(tmp_path / "nowhere")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_folder_is_one_line(tmp_path: Path) -> None:
    locked = tmp_path / "ro"
    locked.mkdir()
    write_run(locked / "res", output(), Config(), wall_seconds=0)
    (locked / "res" / journal.LOCK).unlink()
    for folder in (locked / "res", locked):
        folder.chmod(0o555)
    try:
        for root, message in ((locked / "new", "cannot create"), (locked / "res", "cannot write")):
            with pytest.raises(ResultsError, match=message) as info:
                write_run(root, output(replication=1), Config(), wall_seconds=0)
            assert "\n" not in str(info.value)
        assert read_table(locked / "res").num_rows == 1, "readers still read a read-only folder"
    finally:
        for folder in (locked, locked / "res"):
            folder.chmod(0o755)


def test_permission_denied_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user who may not write there sees it (root may write anywhere, so simulated)."""
    write_run(tmp_path / "res", output(), Config(), wall_seconds=0)
    real_mkdir, real_open = Path.mkdir, os.open

    def no_mkdir(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    def no_lock(path: object, flags: int, *args: object) -> int:
        if str(path).endswith(journal.LOCK):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", no_mkdir)
    monkeypatch.setattr(os, "open", no_lock)
    for root, message in (
        (tmp_path / "new", "cannot create the results folder (Permission denied)"),
        (tmp_path / "res", "cannot write to this results folder (Permission denied)"),
    ):
        with pytest.raises(ResultsError, match=message.replace("(", "\\(").replace(")", "\\)")) as info:
            write_run(root, output(replication=1), Config(), wall_seconds=0)
        assert "\n" not in str(info.value)
    monkeypatch.setattr(Path, "mkdir", real_mkdir)
    assert read_table(tmp_path / "res").num_rows == 1, "readers need no lock of their own"


def test_another_config_under_the_same_name_is_refused(tmp_path: Path) -> None:
    write_run(tmp_path, output(replication=0), Config(), wall_seconds=0)
    write_run(tmp_path, output(replication=1), Config(), wall_seconds=0)
    before = snapshot(tmp_path)
    with pytest.raises(ResultsError) as info:
        write_run(tmp_path, output(replication=2), Config(beds_scale=0.8), wall_seconds=0)
    message = str(info.value)
    assert "beds_scale: 1.0 → 0.8" in message and "--overwrite" in message and "\n" not in message
    assert snapshot(tmp_path) == before, "nothing changed"
    # more replications, or a different description of the same run, are the same config
    write_run(tmp_path, output(replication=2), Config(run=Run(replications=5)), wall_seconds=0)
    # with overwrite, the other config's runs go, all of them
    write_run(tmp_path, output(replication=0), Config(beds_scale=0.8), wall_seconds=0, overwrite=True)
    kpis = read_table(tmp_path, "kpis")
    assert kpis["replication"].to_pylist() == [0]
    assert [f for f in files_under(tmp_path) if f.startswith("kpis/")] == [
        "kpis/scenario=base/replication=0/part-0.parquet"
    ]


def test_a_second_writer_is_refused_at_once(tmp_path: Path) -> None:
    write_run(tmp_path, output(), Config(), wall_seconds=0)
    fd = os.open(tmp_path / journal.LOCK, os.O_RDWR)  # another command holds the folder
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.pwrite(fd, b"4242\n", 0)
        with pytest.raises(ResultsError, match=r"another flowsim command \(process 4242\)") as info:
            write_run(tmp_path, output(replication=1), Config(), wall_seconds=0)
        assert "\n" not in str(info.value)
        assert read_table(tmp_path).num_rows == 1, "readers are not held up by a writer"
    finally:
        os.close(fd)
    write_run(tmp_path, output(replication=1), Config(), wall_seconds=0)


def test_scenario_column_must_agree_with_the_run(tmp_path: Path) -> None:
    out = output()
    out.meta["scenario"] = "other"
    with pytest.raises(ResultsError, match="column 'scenario'"):
        write_run(tmp_path, out, Config(), wall_seconds=0)
    out = output(replication=1)
    out.meta["replication"] = 2
    with pytest.raises(ResultsError, match="column 'replication'"):
        write_run(tmp_path, out, Config(), wall_seconds=0)
    assert not (tmp_path / "runs").exists() and not (tmp_path / ".staging").exists()


def test_scenario_names_must_be_folder_safe(tmp_path: Path) -> None:
    for bad in ("../x", "a/b", "..", "", "with space"):
        with pytest.raises(ResultsError, match="cannot name a folder"):
            run_dir(tmp_path, bad, 0)


def test_meta_must_say_how_the_run_was_seeded(tmp_path: Path) -> None:
    out = output()
    del out.meta["spawn_key"]
    with pytest.raises(ResultsError, match="spawn_key"):
        write_run(tmp_path, out, Config(), wall_seconds=0)


# --- replacing, failing, and a disk that fills up ----------------------------------------


def test_rewriting_a_run_replaces_it_whole(tmp_path: Path) -> None:
    write_run(tmp_path, output(episodes=True), Config(), wall_seconds=0)
    error = write_failure(tmp_path, "base", 0, "Traceback: boom")
    assert error == run_dir(tmp_path, "base", 0) / "error.txt"
    assert error.read_text() == "Traceback: boom\n"
    assert [f for f in files_under(tmp_path) if not f.startswith((".", "_"))] == [
        "runs/scenario=base/replication=0/error.txt"
    ], "a failed run has no manifest and no tables"
    write_run(tmp_path, output(episodes=False), Config(), wall_seconds=0)
    assert [f for f in files_under(tmp_path) if not f.startswith((".", "_"))] == [
        "daily/scenario=base/replication=0/part-0.parquet",
        "kpis/scenario=base/replication=0/part-0.parquet",
        "runs/scenario=base/replication=0/manifest.json",
    ]


def test_a_full_disk_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_run(tmp_path, output(replication=0), Config(), wall_seconds=0)
    before = snapshot(tmp_path)
    real = pq.write_table

    def fill_the_disk(table: pa.Table, where: str, **kwargs: object) -> None:
        if "kpis" in str(where):
            Path(where).write_bytes(b"PAR1 half a file")
            raise OSError(28, "No space left on device")
        real(table, where, **kwargs)

    monkeypatch.setattr(pq, "write_table", fill_the_disk)
    for replication in (0, 1):  # replacing a run, and a new one
        with pytest.raises(ResultsError, match="cannot write results \\(No space left on device\\)"):
            write_run(tmp_path, output(replication=replication, scale=0.5), Config(), wall_seconds=0)
        assert snapshot(tmp_path) == before

    def full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(results, "_write_synced", full)
    with pytest.raises(ResultsError, match="No space left"):
        write_failure(tmp_path, "base", 1, "boom")
    assert snapshot(tmp_path) == before


def test_files_are_world_readable_as_umask_allows(tmp_path: Path) -> None:
    write_run(tmp_path, output(), Config(), wall_seconds=0)
    umask = os.umask(0)
    os.umask(umask)
    assert table_path(tmp_path, "kpis", "base", 0).stat().st_mode & 0o777 == 0o666 & ~umask


# --- a kill in the middle of a commit --------------------------------------------------


def _visible_kpis(root: Path) -> list[float]:
    try:
        return read_table(root, "kpis")["ae_4h_pct"].to_pylist()
    except ResultsError as exc:
        assert "no complete run" in str(exc)
        return []


def _killed_at_step(root: Path, staged: results.StagedRun, n: int) -> bool:
    """Commit a copy of `staged` in a child process that dies (as if SIGKILLed) at its n-th
    rename or delete; False if the commit finished first."""
    with lock_results_folder(root):
        stage = root / ".staging" / staged.stage.name
        shutil.copytree(staged.stage, stage)
        pid = os.fork()
        if pid == 0:  # the child: no cleanup of any kind once it dies
            count = [0]

            def or_die(real):  # noqa: ANN001, ANN202
                def step(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
                    count[0] += 1
                    if count[0] == n:
                        os._exit(9)
                    return real(*args, **kwargs)

                return step

            os.replace, os.unlink = or_die(os.replace), or_die(os.unlink)  # type: ignore[assignment]
            try:
                results.commit_run(root, dataclasses.replace(staged, stage=stage))
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        # mid-commit, before any recovery, flowsim's readers see the old run, or the new, or none
        assert _visible_kpis(root) in ([], [91.5], [91.5 * 0.5])
    return os.waitstatus_to_exitcode(status) == 9


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize(
    "old_episodes,new_episodes",
    [(None, False), (False, False), (False, True), (True, False)],
    ids=["new-run", "same-tables", "more-tables", "fewer-tables"],
)
def test_a_kill_at_any_step_of_a_commit_leaves_the_old_run_or_the_new(
    tmp_path: Path, old_episodes: bool | None, new_episodes: bool
) -> None:
    """Kill the writer at each step of a commit in turn: the next command on the folder
    rolls it back or finishes it, leaving exactly the old folder or exactly the new."""
    template = tmp_path / "old"
    if old_episodes is None:
        results.claim_results_folder(template)
    else:
        write_run(template, output(episodes=old_episodes), Config(), 0)
    old = snapshot(template)
    with lock_results_folder(tmp_path / "new") as new_root:  # the new run, staged, a copy kept
        staged = results.stage_run(new_root, output(scale=0.5, episodes=new_episodes), Config(), 0)
        shutil.copytree(staged.stage, tmp_path / "staged")
        results.commit_run(new_root, staged)
    new = {k: v for k, v in snapshot(new_root).items() if not k.endswith("manifest.json")}
    staged = dataclasses.replace(staged, stage=tmp_path / "staged")
    outcomes = []
    for n in range(1, 40):
        root = shutil.copytree(template, tmp_path / f"kill{n}")
        killed = _killed_at_step(root, staged, n)
        with lock_results_folder(root):  # the next command recovers
            pass
        state = snapshot(root)
        assert not (root / ".staging").exists()
        if state == old:
            outcomes.append("old")
        else:
            assert {k: v for k, v in state.items() if not k.endswith("manifest.json")} == new, n
            assert not verify_run(root, read_manifest(run_dir(root, "base", 0)))
            outcomes.append("new")
        if not killed or outcomes.count("new") == 2:  # past the commit point: only tidying follows
            break
    assert outcomes[0] == "old" and outcomes[-1] == "new" and outcomes.count("new") == 2, outcomes
    assert outcomes == sorted(outcomes, key=["old", "new"].index), "one commit point"


def test_orphan_files_and_unfinished_writes_are_not_results(tmp_path: Path) -> None:
    write_run(tmp_path, output(replication=0), Config(), 0)
    orphan = table_path(tmp_path, "kpis", "base", 7)
    orphan.parent.mkdir(parents=True)
    pq.write_table(pa.table({"days": [3]}), orphan)  # no manifest
    (tmp_path / ".staging" / "x.1.abcd" / "new").mkdir(parents=True)  # an unfinished write
    assert read_table(tmp_path)["replication"].to_pylist() == [0]
    assert not (tmp_path / ".staging").exists(), "a reader tidies up when no one writes"


def test_an_unreadable_journal_is_one_line(tmp_path: Path) -> None:
    write_run(tmp_path, output(), Config(), 0)
    stage = tmp_path / ".staging" / "x.1.abcd"
    stage.mkdir(parents=True)
    (stage / "journal.json").write_text("{")
    with pytest.raises(ResultsError, match="unreadable commit journal") as info:
        write_run(tmp_path, output(replication=1), Config(), 0)
    assert "\n" not in str(info.value)


def test_ctrl_c_during_a_commit_waits_for_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_run(tmp_path, output(replication=0), Config(), 0)
    real = os.replace
    sent = []

    def replace_then_interrupt(src: object, dst: object) -> None:
        if not sent and "part-0" in str(dst):
            sent.append(1)
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C mid-commit
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_run(tmp_path, output(replication=0, scale=0.5), Config(), 0)
    assert sent and read_table(tmp_path)["ae_4h_pct"].to_pylist() == [91.5 * 0.5], "committed whole"


# --- damage on disk ---------------------------------------------------------------------


def test_readers_never_use_a_damaged_file(tmp_path: Path) -> None:
    for replication in (0, 1, 2):
        write_run(tmp_path, output(replication=replication), Config(), 0)
    flipped = table_path(tmp_path, "kpis", "base", 1)
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data))
    with pytest.raises(ResultsError, match="replication=1/part-0.parquet: damaged \\(sha256") as info:
        read_table(tmp_path, "kpis")
    assert "\n" not in str(info.value)
    assert read_table(tmp_path, "kpis", replications=[0, 2]).num_rows == 2
    truncated = table_path(tmp_path, "daily", "base", 2)
    truncated.write_bytes(truncated.read_bytes()[:50])
    with pytest.raises(ResultsError, match="50 bytes on disk"):
        open_dataset(tmp_path, "daily")
    table_path(tmp_path, "daily", "base", 2).unlink()  # a run with a file missing is left out
    assert open_dataset(tmp_path, "daily").to_table()["replication"].to_pylist() == [0] * 3 + [1] * 3


def test_verify_run_names_each_damaged_table(tmp_path: Path) -> None:
    for replication in (0, 1):
        write_run(tmp_path, output(replication=replication, episodes=True), Config(), 0)
    manifest = read_manifest(run_dir(tmp_path, "base", 0))
    assert verify_run(tmp_path, manifest) == []
    daily, kpis = (table_path(tmp_path, t, "base", 0) for t in ("daily", "kpis"))
    a, b = daily.read_bytes(), kpis.read_bytes()
    daily.write_bytes(b), kpis.write_bytes(a)  # two tables' files swapped
    episodes = table_path(tmp_path, "episodes", "base", 0)
    episodes.write_bytes(table_path(tmp_path, "episodes", "base", 1).read_bytes())  # same size
    assert [p.split(":")[0] for p in verify_run(tmp_path, manifest)] == ["daily", "episodes", "kpis"]
    assert "sha256" in verify_run(tmp_path, manifest)[1]


def test_read_manifest_errors_are_one_line(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "r", output(), Config(), 0)
    good = json.loads((folder / "manifest.json").read_text())
    bad = tmp_path / "bad.json"
    with pytest.raises(ResultsError, match="no such manifest"):
        read_manifest(tmp_path / "manifest.json")
    cases: list[tuple[object, str]] = [
        ("{oops", "not valid JSON"),
        ({"kind": "something else"}, "not a flowsim run manifest"),
        ({**good, "manifest_version": 1}, "old-format manifest \\(format 1"),
        ({**good, "manifest_version": 3}, "manifest format 3"),
        ({**good, "replication": "0"}, "'replication' is not a replication number"),
        ({**good, "config": []}, "'config' is not a config"),
        ({**good, "outputs": {}}, "'outputs' lists no tables"),
        ({**good, "outputs": {"kpis": {**good["outputs"]["kpis"], "path": "../../etc/passwd"}}}, "path"),
        ({**good, "outputs": {"kpis": {**good["outputs"]["kpis"], "sha256": "x"}}}, "sha256"),
        ({**good, "outputs": {"kpis": {**good["outputs"]["kpis"], "bytes": -1}}}, "bytes"),
    ]
    for content, message in cases:
        bad.write_text(content if isinstance(content, str) else json.dumps(content))
        with pytest.raises(ResultsError, match=message) as info:
            read_manifest(bad)
        assert "\n" not in str(info.value)


def test_environment_reports_core_and_versions() -> None:
    env = results.environment()
    assert env["core"] in ("compiled", "python")
    assert env["packages"]["pyarrow"] == pa.__version__
