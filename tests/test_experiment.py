"""Replications: each committed whole, resumed and checked, failures recorded, parallel equal to serial.

The unit tests swap `flowsim.model` for a tiny fake, so they test the orchestration alone.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import logging
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel, ConfigDict

from flowsim.experiment import (
    RunsInterrupted,
    is_finished,
    run_identity,
    run_replications,
    run_replications_detailed,
)
from flowsim.results import (
    ResultsError,
    RunOutput,
    file_sha256,
    read_manifest,
    read_table,
    table_path,
    verify_run,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Run(Strict):
    start_date: dt.date = dt.date(2016, 4, 1)
    horizon_days: int = 4
    warmup_days: int = 1
    seed: int = 5
    replications: int = 3


class Outputs(Strict):
    episodes: bool = False


class Config(Strict):
    name: str = "base"
    description: str = ""
    run: Run = Run()
    outputs: Outputs = Outputs()


class Fake:
    """A stand-in `flowsim.model.simulate` that records its calls; replication 13 fails.

    `before_day(replication, day)` runs before each simulated day (to interrupt a run).
    """

    def __init__(self) -> None:
        self.calls: list[tuple[int, bool]] = []
        self.before_day: Callable[[int, int], None] | None = None

    def __eq__(self, other: object) -> bool:
        return self.calls == other

    def clear(self) -> None:
        self.calls.clear()

    def simulate(self, config, replication=0, *, record_episodes=False, progress=None):  # noqa: ANN001, ANN201
        self.calls.append((replication, record_episodes))
        days = config.run.warmup_days + config.run.horizon_days
        for day in range(1, days + 1):
            if self.before_day is not None:
                self.before_day(replication, day)
            if progress is not None:
                progress(day, days)
        if replication == 13:
            raise RuntimeError("bed pool went negative")
        daily = pa.table({"day": list(range(days)), "value": [replication * 10 + d for d in range(days)]})
        kpis = pa.table(
            {
                "scenario": [config.name],
                "replication": pa.array([replication], pa.int32()),
                "days": [config.run.horizon_days],
                "ae_4h_pct": [90.0 + replication],
            }
        )
        tables = {"daily": daily, "kpis": kpis}
        if record_episodes:
            tables["episodes"] = pa.table({"person_id": [replication]})
        meta = {
            "seed": config.run.seed,
            "spawn_key": [replication],
            "replication": replication,
            "scenario": config.name,
        }
        return RunOutput(tables, meta)


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> Fake:
    fake = Fake()
    module = types.ModuleType("flowsim.model")
    module.simulate = fake.simulate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "flowsim.model", module)
    return fake


def visible(root: Path) -> list[str]:
    """Every file a reader could see, flowsim's own hidden files aside."""
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "/." not in f"/{p.relative_to(root)}"
    )


@pytest.mark.unit
def test_runs_every_replication_in_order(tmp_path: Path, fake_model: Fake) -> None:
    paths = run_replications(Config(), out_dir=tmp_path)
    assert paths == [tmp_path / "runs" / "scenario=base" / f"replication={r}" for r in range(3)]
    assert all((p / "manifest.json").is_file() for p in paths)
    assert fake_model == [(0, False), (1, False), (2, False)]
    assert read_table(tmp_path, "kpis")["ae_4h_pct"].to_pylist() == [90.0, 91.0, 92.0]
    assert not (tmp_path / ".staging").exists()


@pytest.mark.unit
def test_a_failed_run_is_recorded_and_the_others_go_on(tmp_path: Path, fake_model: Fake) -> None:
    records = run_replications_detailed(Config(), [12, 13, 14], tmp_path)
    assert [r.status for r in records] == ["done", "failed", "done"]
    failed = records[1]
    assert failed.error == "RuntimeError: bed pool went negative"
    text = (failed.path / "error.txt").read_text()
    assert text.startswith("Traceback") and "bed pool went negative" in text
    assert not (failed.path / "manifest.json").exists()
    assert read_table(tmp_path, "kpis")["replication"].to_pylist() == [12, 14]
    # a failed run is tried again next time
    fake_model.clear()
    assert [r.status for r in run_replications_detailed(Config(), [12, 13], tmp_path)] == [
        "skipped",
        "failed",
    ]
    assert fake_model == [(13, False)]


@pytest.mark.unit
def test_finished_runs_are_skipped(tmp_path: Path, fake_model: Fake) -> None:
    run_replications(Config(), [0, 1], tmp_path)
    fake_model.clear()
    # more replications of the same config, or a new description: only the new one runs
    records = run_replications_detailed(Config(description="x", run=Run(replications=5)), [0, 1, 2], tmp_path)
    assert [r.status for r in records] == ["skipped", "skipped", "done"]
    assert fake_model == [(2, False)]


@pytest.mark.unit
def test_another_config_under_the_same_name_is_refused_or_overwritten(
    tmp_path: Path, fake_model: Fake
) -> None:
    run_replications(Config(), [0, 1, 2], tmp_path)
    fake_model.clear()
    before = {p: file_sha256(tmp_path / p) for p in visible(tmp_path)}
    other = Config(run=Run(seed=6))
    with pytest.raises(ResultsError, match="run.seed: 5 → 6") as info:
        run_replications(other, [0, 1], tmp_path)
    assert "\n" not in str(info.value) and "--overwrite" in str(info.value)
    assert fake_model == [] and {p: file_sha256(tmp_path / p) for p in visible(tmp_path)} == before
    # with overwrite, every run of the old config goes, even the replication not asked for
    run_replications(other, [0, 1], tmp_path, overwrite=True)
    assert fake_model == [(0, False), (1, False)]
    assert [json.loads((tmp_path / p).read_text())["seed"] for p in visible(tmp_path) if "manifest" in p] == [
        6,
        6,
    ]
    assert [p for p in visible(tmp_path) if p.startswith("kpis/")] == [
        f"kpis/scenario=base/replication={r}/part-0.parquet" for r in (0, 1)
    ]
    # another scenario name is another set of runs
    run_replications(Config(name="fewer_beds"), [0], tmp_path)
    assert read_table(tmp_path)["scenario"].to_pylist() == ["base", "base", "fewer_beds"]


@pytest.mark.unit
def test_asking_for_episodes_reruns_a_run_without_them(tmp_path: Path, fake_model: Fake) -> None:
    run_replications(Config(), [0], tmp_path)
    records = run_replications_detailed(Config(outputs=Outputs(episodes=True)), [0], tmp_path)
    assert records[0].status == "done"
    assert table_path(tmp_path, "episodes", "base", 0).is_file()
    assert run_replications_detailed(Config(), [0], tmp_path)[0].status == "skipped"


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _swap(a: Path, b: Path) -> None:
    data = a.read_bytes()
    a.write_bytes(b.read_bytes())
    b.write_bytes(data)


def _edit_manifest(root: Path, change: Callable[[dict], None]) -> None:
    path = root / "runs" / "scenario=base" / "replication=1" / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


TAMPER: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncate": (lambda r: table_path(r, "daily", "base", 1).write_bytes(b"PAR1"), "daily: 4 bytes on disk"),
    "flip a byte": (lambda r: _flip(table_path(r, "daily", "base", 1)), "daily: sha256 on disk differs"),
    "swap two tables": (
        lambda r: _swap(table_path(r, "daily", "base", 1), table_path(r, "kpis", "base", 1)),
        "daily: ",
    ),
    "kpis of another run": (
        lambda r: table_path(r, "kpis", "base", 1).write_bytes(table_path(r, "kpis", "base", 0).read_bytes()),
        "kpis: sha256 on disk differs",
    ),
    "delete a file": (lambda r: table_path(r, "kpis", "base", 1).unlink(), "kpis: file missing"),
    "edit a recorded hash": (
        lambda r: _edit_manifest(r, lambda m: m["outputs"]["kpis"].update(sha256="0" * 64)),
        "kpis: sha256 on disk differs",
    ),
    "edit the config": (
        lambda r: _edit_manifest(r, lambda m: m["config"]["run"].update(seed=99)),
        "does not hash to its recorded config_sha256",
    ),
    "another run's manifest": (
        lambda r: _edit_manifest(
            r, lambda m: m.update(read_manifest(r / "runs/scenario=base/replication=0"))
        ),
        "describes another run",
    ),
    "garble the manifest": (
        lambda r: (r / "runs/scenario=base/replication=1/manifest.json").write_text("{"),
        "not valid JSON",
    ),
}


@pytest.mark.unit
@pytest.mark.parametrize("tamper", TAMPER, ids=list(TAMPER))
def test_a_damaged_run_is_named_and_run_again_on_resume(
    tmp_path: Path, fake_model: Fake, caplog: pytest.LogCaptureFixture, tamper: str
) -> None:
    damage, message = TAMPER[tamper]
    run_replications(Config(), [0, 1, 2], tmp_path)
    fake_model.clear()
    damage(tmp_path)
    assert not is_finished(
        tmp_path / "runs" / "scenario=base" / "replication=1", run_identity(Config()), False
    )
    with caplog.at_level(logging.WARNING, logger="flowsim.experiment"):
        records = run_replications_detailed(Config(), [0, 1, 2], tmp_path)
    assert [r.status for r in records] == ["skipped", "done", "skipped"]
    assert fake_model == [(1, False)]
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith("replication 1 is damaged (") and message in warning
    for replication in (0, 1, 2):
        assert verify_run(tmp_path, read_manifest(records[replication].path)) == []
    assert read_table(tmp_path, "kpis")["ae_4h_pct"].to_pylist() == [90.0, 91.0, 92.0]


@pytest.mark.unit
def test_a_full_disk_stops_everything_in_one_line(
    tmp_path: Path, fake_model: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_replications(Config(), [0], tmp_path)
    real = pq.write_table

    def fills_up(table: pa.Table, where: str, **kwargs: object) -> None:
        if "kpis" in str(where) and "base.2." in str(where):
            raise OSError(28, "No space left on device")
        real(table, where, **kwargs)

    monkeypatch.setattr(pq, "write_table", fills_up)
    fake_model.clear()
    with pytest.raises(ResultsError) as info:
        run_replications(Config(), [0, 1, 2, 3, 4], tmp_path)
    message = str(info.value)
    assert "\n" not in message and "error.txt" not in message
    assert message.endswith(
        "cannot write results (No space left on device); kept 2 complete runs (replication 0-1); "
        "not done: replication 2-4"
    )
    assert fake_model == [(1, False), (2, False)], "queued runs do not start"
    assert read_table(tmp_path, "kpis")["replication"].to_pylist() == [0, 1]
    assert [p for p in visible(tmp_path) if "replication=2" in p] == []
    assert not (tmp_path / ".staging").exists()


@pytest.mark.unit
def test_ctrl_c_keeps_the_finished_runs_and_stops(tmp_path: Path, fake_model: Fake) -> None:
    def interrupt(replication: int, day: int) -> None:
        if replication == 2 and day == 3:
            raise KeyboardInterrupt

    fake_model.before_day = interrupt
    with pytest.raises(RunsInterrupted) as info:
        run_replications(Config(), [0, 1, 2, 3], tmp_path)
    assert info.value.summary() == "kept 2 complete runs (replication 0-1); not done: replication 2-3"
    assert fake_model == [(0, False), (1, False), (2, False)]
    assert read_table(tmp_path, "kpis")["replication"].to_pylist() == [0, 1]
    assert not (tmp_path / ".staging").exists()
    fake_model.before_day = None
    records = run_replications_detailed(Config(), [0, 1, 2, 3], tmp_path)
    assert [r.status for r in records] == ["skipped", "skipped", "done", "done"]


@pytest.mark.unit
def test_any_executor_plugs_in(tmp_path: Path, fake_model: Fake) -> None:
    """A thread pool stands in for a Dask client's executor (same process: the fake works)."""
    with cf.ThreadPoolExecutor(max_workers=2) as pool:
        records = run_replications_detailed(Config(), [0, 1, 2], tmp_path, executor=pool)
    assert [r.status for r in records] == ["done", "done", "done"]
    assert sorted(fake_model.calls) == [(0, False), (1, False), (2, False)]


@pytest.mark.unit
def test_progress_bar_counts_every_day(
    tmp_path: Path, fake_model: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flowsim.experiment as experiment

    seen: list[int] = []
    original = experiment._Bars.days

    def days(self, replication: int, days_done: int) -> None:  # noqa: ANN001
        seen.append(days_done)
        original(self, replication, days_done)

    monkeypatch.setattr(experiment._Bars, "days", days)
    run_replications(Config(), [0, 1], tmp_path, progress=True)
    assert seen.count(5) >= 2 and 1 in seen  # day by day, each run to its 5th day


@pytest.mark.unit
def test_bad_arguments(tmp_path: Path, fake_model: Fake) -> None:
    with pytest.raises(ValueError, match="workers"):
        run_replications(Config(), [0], tmp_path, workers=0)
    with pytest.raises(ValueError, match="replication numbers"):
        run_replications(Config(), [-1], tmp_path)


# --- with the real model ---------------------------------------------------------------

try:
    import flowsim.model  # noqa: F401

    MODEL_MISSING = None
except ImportError as exc:  # pragma: no cover - until the model lands
    MODEL_MISSING = f"flowsim.model cannot be imported yet: {exc}"

REPO = Path(__file__).resolve().parents[1]
TINY = {"run.horizon_days": 3, "run.warmup_days": 1}


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(MODEL_MISSING is not None, reason=MODEL_MISSING or "")
def test_parallel_equals_serial_byte_for_byte(tmp_path: Path) -> None:
    from flowsim.config.loader import load_config

    config = load_config(REPO / "configs" / "small.yaml", TINY)
    serial = run_replications(config, [0, 1], tmp_path / "serial")
    # progress=True also drives the workers' day counts through a queue to the bar
    parallel = run_replications(config, [0, 1], tmp_path / "parallel", workers=2, progress=True)
    for a, b in zip(serial, parallel):
        manifest = read_manifest(a)
        assert manifest["outputs"] == read_manifest(b)["outputs"]
        for entry in manifest["outputs"].values():
            assert file_sha256(tmp_path / "serial" / entry["path"]) == entry["sha256"]
            assert file_sha256(tmp_path / "parallel" / entry["path"]) == entry["sha256"]
