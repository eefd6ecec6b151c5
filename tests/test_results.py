"""The results store: run folders, deterministic Parquet, manifests, atomic writes."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel, ConfigDict

import flowsim.results as results
from flowsim.config.loader import canonical_json, config_hash
from flowsim.results import (
    MARKER,
    ResultsError,
    RunOutput,
    file_sha256,
    open_dataset,
    read_manifest,
    read_table,
    run_dir,
    write_failure,
    write_run,
)

pytestmark = pytest.mark.unit


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
            "day": pa.array(range(days), pa.int32()),
            "date": pa.array([dt.date(2016, 4, 1) + dt.timedelta(d) for d in range(days)]),
            "ae_attendances": pa.array([410 + d for d in range(days)], pa.int64()),
            "acute_occupancy": pa.array([0.91 * scale, 0.93 * scale, 0.95], pa.float64()),
        }
    )
    kpis = pa.table(
        {
            "scenario": [scenario],
            "replication": pa.array([replication], pa.int64()),  # the writer makes it int32
            "days": [days],
            "ae_attendances": [1233],
            "ae_4h_pct": [91.5 * scale],
            "spend_total": [1.25e6],
        }
    )
    episode_table = pa.table({"person_id": [1, 2], "ae_arrival_h": [0.5, None]}) if episodes else None
    meta = {
        "seed": 11,
        "spawn_key": [replication],
        "replication": replication,
        "scenario": scenario,
        "note": (1, 2),
    }
    return RunOutput(daily=daily, kpis=kpis, episodes=episode_table, meta=meta)


def test_write_run_lays_out_a_run_folder(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "res", output(episodes=True), Config(), wall_seconds=1.5)
    assert folder == tmp_path / "res" / "scenario=base" / "replication=0"
    assert sorted(p.name for p in folder.iterdir()) == [
        "daily.parquet",
        "episodes.parquet",
        "kpis.parquet",
        "manifest.json",
    ]
    assert (tmp_path / "res" / MARKER).is_file()
    assert not list(folder.glob(".*")), "no temp files left behind"


def test_manifest_records_what_ran(tmp_path: Path) -> None:
    config = Config()
    folder = write_run(tmp_path, output(replication=1), config, wall_seconds=2.25)
    manifest = read_manifest(folder / "manifest.json")
    assert manifest == read_manifest(folder)
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
    assert manifest["python"].count(".") == 2
    assert {"numpy", "simpy", "mesa", "pyarrow", "pydantic"} <= set(manifest["packages"])
    assert manifest["platform"]["machine"]
    assert manifest["flowsim_version"]
    assert "git_commit" in manifest
    assert manifest["meta"] == {"note": [1, 2]}
    for name, entry in manifest["outputs"].items():
        assert entry["sha256"] == file_sha256(folder / name)
        assert entry["bytes"] == (folder / name).stat().st_size
    assert manifest["outputs"]["daily.parquet"]["rows"] == 3


def test_same_tables_give_byte_identical_parquet(tmp_path: Path) -> None:
    """Same tables, different wall time and folder: the same bytes (what reproduce checks)."""
    a = write_run(tmp_path / "a", output(episodes=True), Config(), wall_seconds=1.0)
    b = write_run(tmp_path / "b", output(episodes=True), Config(), wall_seconds=99.0)
    for name in ("daily.parquet", "kpis.parquet", "episodes.parquet"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    c = write_run(tmp_path / "c", output(scale=0.5), Config(), wall_seconds=1.0)
    assert (a / "kpis.parquet").read_bytes() != (c / "kpis.parquet").read_bytes()


def test_provenance_rides_in_the_arrow_schema(tmp_path: Path) -> None:
    config = Config()
    folder = write_run(tmp_path, output(), config, wall_seconds=3.0)
    metadata = pq.read_schema(folder / "daily.parquet").metadata
    assert metadata[b"flowsim.config_sha256"] == config_hash(config).encode()
    assert metadata[b"flowsim.flowsim_version"]
    assert metadata[b"flowsim.table"] == b"daily"
    assert not any(b"wall" in key for key in metadata), "wall time would break byte-identity"
    # the config's hash also changes the bytes: provenance is part of the file
    other = write_run(tmp_path / "o", output(), Config(beds_scale=0.9), wall_seconds=3.0)
    assert (folder / "daily.parquet").read_bytes() != (other / "daily.parquet").read_bytes()


def test_every_table_has_scenario_and_replication_columns(tmp_path: Path) -> None:
    folder = write_run(tmp_path, output(replication=2, episodes=True), Config(), wall_seconds=0)
    for name in ("daily", "kpis", "episodes"):
        table = pq.read_table(folder / f"{name}.parquet")
        assert table.schema.field("scenario").type == pa.string()
        assert table.schema.field("replication").type == pa.int32()
        assert set(table.column("scenario").to_pylist()) == {"base"}
        assert set(table.column("replication").to_pylist()) == {2}


def test_dataset_reads_the_partitioned_folder(tmp_path: Path) -> None:
    root = tmp_path / "res"
    for scenario in ("base", "fewer_beds"):
        for replication in (0, 1):
            write_run(
                root, output(scenario, replication, episodes=True), Config(name=scenario), wall_seconds=0
            )
    kpis = read_table(root, "kpis")
    assert kpis.num_rows == 4
    assert list(zip(kpis["scenario"].to_pylist(), kpis["replication"].to_pylist())) == [
        ("base", 0),
        ("base", 1),
        ("fewer_beds", 0),
        ("fewer_beds", 1),
    ]
    assert read_table(root, "daily").num_rows == 12
    assert open_dataset(root, "episodes").count_rows() == 8
    # pyarrow's own hive discovery over one table's files: no schema clash between the
    # `scenario`/`replication` columns and the folder names
    files = sorted(str(p) for p in root.glob("*/*/kpis.parquet"))
    plain = ds.dataset(files, partitioning="hive", partition_base_dir=str(root)).to_table()
    assert plain.num_rows == 4 and plain.schema.field("replication").type == pa.int32()
    # and hive discovery of a whole scenario folder
    one = ds.dataset(
        root / "scenario=base",
        partitioning="hive",
        exclude_invalid_files=True,
        ignore_prefixes=[".", "_", "daily", "episodes", "manifest"],
    ).to_table()
    assert one.num_rows == 2 and one.schema.names[:2] == ["scenario", "replication"]


def test_filtering_by_partition(tmp_path: Path) -> None:
    root = tmp_path / "res"
    for replication in (0, 1, 2):
        write_run(root, output("base", replication), Config(), wall_seconds=0)
    table = open_dataset(root, "daily").to_table(filter=ds.field("replication") >= 1)
    assert set(table["replication"].to_pylist()) == {1, 2}


def test_refuses_a_folder_that_is_not_flowsim_results(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("precious")
    with pytest.raises(ResultsError, match="not a flowsim results folder") as info:
        write_run(tmp_path, output(), Config(), wall_seconds=0)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.docx"], "nothing written"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ResultsError, match="not a folder"):
        write_run(a_file, output(), Config(), wall_seconds=0)


def test_a_results_folder_is_reused(tmp_path: Path) -> None:
    write_run(tmp_path / "r", output(replication=0), Config(), wall_seconds=0)
    write_run(tmp_path / "r", output(replication=1), Config(), wall_seconds=0)
    assert read_table(tmp_path / "r").num_rows == 2


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash part-way: no half-written file, no temp file, and no manifest."""
    real = pq.write_table
    calls = []

    def write_then_crash(table: pa.Table, where: str, **kwargs: object) -> None:
        calls.append(where)
        if len(calls) == 2:  # the second table: write part of it, then fail
            Path(where).write_bytes(b"PAR1 half a file")
            raise OSError("disk full")
        real(table, where, **kwargs)

    monkeypatch.setattr(pq, "write_table", write_then_crash)
    with pytest.raises(OSError, match="disk full"):
        write_run(tmp_path, output(), Config(), wall_seconds=0)
    folder = run_dir(tmp_path, "base", 0)
    assert sorted(p.name for p in folder.iterdir()) == ["daily.parquet"]
    assert not (folder / "manifest.json").exists()


def test_rewriting_a_run_replaces_it_whole(tmp_path: Path) -> None:
    first = write_run(tmp_path, output(episodes=True), Config(), wall_seconds=0)
    write_failure(tmp_path, "base", 0, "Traceback: boom")
    assert (first / "error.txt").read_text() == "Traceback: boom\n"
    assert not (first / "manifest.json").exists(), "a failed run has no manifest"
    again = write_run(tmp_path, output(episodes=False), Config(), wall_seconds=0)
    assert sorted(p.name for p in again.iterdir()) == ["daily.parquet", "kpis.parquet", "manifest.json"]


def test_scenario_column_must_agree_with_the_run(tmp_path: Path) -> None:
    out = output()
    out.meta["scenario"] = "other"
    with pytest.raises(ResultsError, match="column 'scenario'"):
        write_run(tmp_path, out, Config(), wall_seconds=0)
    assert not (tmp_path / "scenario=other").exists()


def test_scenario_names_must_be_folder_safe(tmp_path: Path) -> None:
    for bad in ("../x", "a/b", "..", "", "with space"):
        with pytest.raises(ResultsError, match="cannot name a folder"):
            run_dir(tmp_path, bad, 0)


def test_meta_must_say_how_the_run_was_seeded(tmp_path: Path) -> None:
    out = output()
    del out.meta["spawn_key"]
    with pytest.raises(ResultsError, match="spawn_key"):
        write_run(tmp_path, out, Config(), wall_seconds=0)


def test_read_manifest_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="no such manifest"):
        read_manifest(tmp_path / "manifest.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(ResultsError, match="not valid JSON"):
        read_manifest(bad)
    bad.write_text('{"kind": "something else"}')
    with pytest.raises(ResultsError, match="not a flowsim run manifest"):
        read_manifest(bad)


def test_files_are_world_readable_as_umask_allows(tmp_path: Path) -> None:
    folder = write_run(tmp_path, output(), Config(), wall_seconds=0)
    umask = os.umask(0)
    os.umask(umask)
    assert (folder / "kpis.parquet").stat().st_mode & 0o777 == 0o666 & ~umask


def test_environment_reports_core_and_versions() -> None:
    env = results.environment()
    assert env["core"] in ("compiled", "python")
    assert env["packages"]["pyarrow"] == pa.__version__
