"""Replications: each written once, resumed, failures recorded, parallel equal to serial.

The unit tests swap `flowsim.model` for a tiny fake, so they test the orchestration alone.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import sys
import types
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import BaseModel, ConfigDict

from flowsim.experiment import is_finished, run_identity, run_replications, run_replications_detailed
from flowsim.results import RunOutput, file_sha256, read_manifest


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
    run: Run = Run()
    outputs: Outputs = Outputs()


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """A stand-in `flowsim.model` whose `simulate` records its calls; replication 13 fails."""
    calls: list[tuple[int, bool]] = []

    def simulate(config, replication=0, *, record_episodes=False, progress=None):  # noqa: ANN001, ANN202
        calls.append((replication, record_episodes))
        days = config.run.warmup_days + config.run.horizon_days
        for day in range(1, days + 1):
            if progress is not None:
                progress(day, days)
        if replication == 13:
            raise RuntimeError("bed pool went negative")
        daily = pa.table({"day": list(range(days)), "value": [replication * 10 + d for d in range(days)]})
        kpis = pa.table({"days": [config.run.horizon_days], "ae_4h_pct": [90.0 + replication]})
        episodes = pa.table({"person_id": [replication]}) if record_episodes else None
        meta = {
            "seed": config.run.seed,
            "spawn_key": [replication],
            "replication": replication,
            "scenario": config.name,
        }
        return RunOutput(daily, kpis, episodes, meta)

    module = types.ModuleType("flowsim.model")
    module.simulate = simulate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "flowsim.model", module)
    return calls


@pytest.mark.unit
def test_runs_every_replication_in_order(tmp_path: Path, fake_model: list) -> None:
    paths = run_replications(Config(), out_dir=tmp_path)
    assert paths == [tmp_path / "scenario=base" / f"replication={r}" for r in range(3)]
    assert all((p / "manifest.json").is_file() for p in paths)
    assert fake_model == [(0, False), (1, False), (2, False)]


@pytest.mark.unit
def test_a_failed_run_is_recorded_and_the_others_go_on(tmp_path: Path, fake_model: list) -> None:
    records = run_replications_detailed(Config(), [12, 13, 14], tmp_path)
    assert [r.status for r in records] == ["done", "failed", "done"]
    failed = records[1]
    assert failed.error == "RuntimeError: bed pool went negative"
    text = (failed.path / "error.txt").read_text()
    assert text.startswith("Traceback") and "bed pool went negative" in text
    assert not (failed.path / "manifest.json").exists()


@pytest.mark.unit
def test_finished_runs_are_skipped_and_a_new_config_reruns(tmp_path: Path, fake_model: list) -> None:
    run_replications(Config(), [0, 1], tmp_path)
    fake_model.clear()
    # more replications of the same config: only the new one runs
    records = run_replications_detailed(Config(run=Run(replications=5)), [0, 1, 2], tmp_path)
    assert [r.status for r in records] == ["skipped", "skipped", "done"]
    assert fake_model == [(2, False)]
    # a changed value is a different config: everything runs again
    fake_model.clear()
    run_replications(Config(run=Run(seed=6)), [0, 1], tmp_path)
    assert fake_model == [(0, False), (1, False)]


@pytest.mark.unit
def test_asking_for_episodes_reruns_a_run_without_them(tmp_path: Path, fake_model: list) -> None:
    run_replications(Config(), [0], tmp_path)
    records = run_replications_detailed(Config(), [0], tmp_path, episodes=True)
    assert records[0].status == "done"
    assert (records[0].path / "episodes.parquet").is_file()
    assert run_replications_detailed(Config(), [0], tmp_path)[0].status == "skipped"


@pytest.mark.unit
def test_an_incomplete_run_is_not_finished(tmp_path: Path, fake_model: list) -> None:
    [path] = run_replications(Config(), [0], tmp_path)
    identity = run_identity(Config())
    assert is_finished(path, identity, episodes=False)
    (path / "daily.parquet").unlink()
    assert not is_finished(path, identity, episodes=False)


@pytest.mark.unit
def test_any_executor_plugs_in(tmp_path: Path, fake_model: list) -> None:
    """A thread pool stands in for a Dask client's executor (same process: the fake works)."""
    with cf.ThreadPoolExecutor(max_workers=2) as pool:
        records = run_replications_detailed(Config(), [0, 1, 2], tmp_path, executor=pool)
    assert [r.status for r in records] == ["done", "done", "done"]
    assert sorted(fake_model) == [(0, False), (1, False), (2, False)]


@pytest.mark.unit
def test_progress_bar_counts_every_day(
    tmp_path: Path, fake_model: list, monkeypatch: pytest.MonkeyPatch
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
def test_bad_arguments(tmp_path: Path, fake_model: list) -> None:
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
TINY = {"run.horizon_days": 3, "run.warmup_days": 1, "population.size": 20_000}


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(MODEL_MISSING is not None, reason=MODEL_MISSING or "")
def test_parallel_equals_serial_byte_for_byte(tmp_path: Path) -> None:
    from flowsim.config.loader import load_config

    config = load_config(REPO / "configs" / "footprint.yaml", TINY)
    serial = run_replications(config, [0, 1], tmp_path / "serial")
    # progress=True also drives the workers' day counts through a queue to the bar
    parallel = run_replications(config, [0, 1], tmp_path / "parallel", workers=2, progress=True)
    for a, b in zip(serial, parallel):
        manifest = read_manifest(a)
        assert manifest["outputs"] == read_manifest(b)["outputs"]
        for name in manifest["outputs"]:
            assert file_sha256(a / name) == file_sha256(b / name)
