"""Experiments: specs checked before anything runs, designs, sweeps that survive failures
and kills, on local cores or a real Dask cluster, summarised and reproduced."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from flowsim.cli import main
from flowsim.results import read_table
from flowsim.sweep.design import draw_design
from flowsim.sweep.runner import read_experiment_record, run_sweep
from flowsim.sweep.spec import Sweep, load_experiment

REPO = Path(__file__).resolve().parents[1]
SMALL = REPO / "configs" / "small.yaml"
FAKE = Path(__file__).resolve().parent / "fake_flowsim.py"
QUICK = """\
set:
  population.size: 20000
  run.warmup_days: 1
  run.horizon_days: {days}
"""


def write_spec(folder: Path, body: str, *, days: int = 2, name: str = "exp") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nbase: {SMALL}\n" + QUICK.format(days=days) + body)
    return path


GRID = """\
sweep:
  design: grid
  parameters:
    acute.beds_scale: {values: [0.9, 1.1]}
replications: 1
seed: 7
"""


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


# --------------------------------------------------------------------------------------
# Specs and designs


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        (
            "acute.bed_scale: {values: [0.9]}",
            ":10: sweep.parameters.acute.bed_scale: unknown key 'bed_scale' (did you mean 'beds_scale'?)",
        ),
        (
            "community.community_beds: {values: [ten]}",
            ":10: sweep.parameters.community.community_beds: Input should",
        ),
        (
            "acute.beds_scale: {low: 1, high: 2}",
            ":10: sweep.parameters.acute.beds_scale: a grid needs values",
        ),
    ],
)
def test_a_bad_spec_is_one_line_and_exit_2_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], parameters: str, expected: str
) -> None:
    spec = write_spec(tmp_path, f"sweep:\n  design: grid\n  parameters:\n    {parameters}\n")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and expected in err, err
    assert not (tmp_path / "out").exists()


def test_a_wrong_type_in_the_common_overrides_names_its_line(tmp_path: Path) -> None:
    spec = tmp_path / "e.yaml"
    spec.write_text(f"name: e\nbase: {SMALL}\nset:\n  run.horizon_days: soon\n")
    with pytest.raises(
        Exception, match=r"e\.yaml:4: set\.run\.horizon_days: Input should be a valid integer"
    ):
        load_experiment(spec)


def test_grid_is_every_combination_and_counts_stay_whole() -> None:
    sweep = Sweep.model_validate(
        {
            "design": "grid",
            "parameters": {"a": {"values": [1.0, 2.0]}, "b": {"low": 10, "high": 20, "levels": 3}},
        }
    )
    rows, unit = draw_design(sweep, {"a": 1.0, "b": 15})
    assert unit is None
    assert rows == [{"a": a, "b": b} for a in (1.0, 2.0) for b in (10, 15, 20)]
    assert all(isinstance(r["b"], int) for r in rows)


def test_latin_hypercube_puts_one_point_in_every_stratum() -> None:
    sweep = Sweep.model_validate(
        {
            "design": "lhs",
            "samples": 10,
            "seed": 3,
            "parameters": {"a": {"low": 0, "high": 10}, "b": {"low": 5, "high": 6}},
        }
    )
    rows, unit = draw_design(sweep, {"a": 1.5, "b": 5.5})
    assert unit is not None and unit.shape == (10, 2)
    for column in unit.T:
        assert sorted(np.floor(column * 10).astype(int)) == list(range(10))
    assert all(0 <= r["a"] <= 10 and 5 <= r["b"] <= 6 for r in rows)


def test_sobol_is_saltelli_with_distributions_applied() -> None:
    sweep = Sweep.model_validate(
        {
            "design": "sobol",
            "samples": 16,
            "parameters": {
                "a": {"low": 0.8, "high": 1.2},
                "b": {"distribution": "normal", "mean": 100.0, "sd": 10.0},
                "c": {"distribution": "triangular", "low": 0.0, "mode": 1.0, "high": 4.0},
            },
        }
    )
    rows, unit = draw_design(sweep, {"a": 1.0, "b": 100.0, "c": 1.0})
    assert len(rows) == 16 * (3 + 2)  # Saltelli without second order: N (D + 2)
    b = np.array([r["b"] for r in rows])
    assert 90 < np.median(b) < 110 and b.std() > 5
    with pytest.raises(ValueError, match="power of two"):
        Sweep.model_validate({"design": "sobol", "samples": 10, "parameters": {"a": {"low": 0, "high": 1}}})


def test_england_spec_scales_capacity_with_population() -> None:
    experiment = load_experiment(REPO / "experiments" / "england.yaml")
    sizes = [c.config.population.size for c in experiment.cells]
    assert len(sizes) == 44 and min(sizes) == 300_000 and max(sizes) == 2_800_000
    assert abs(sum(sizes) - 55_270_000) < 1000
    big = max(experiment.cells, key=lambda c: c.config.population.size).config
    small = min(experiment.cells, key=lambda c: c.config.population.size).config
    ratio = big.population.size / small.population.size
    assert sum(s.beds for s in big.acute.sites) / sum(s.beds for s in small.acute.sites) == pytest.approx(
        ratio, rel=0.02
    )
    assert big.community.community_beds / small.community.community_beds == pytest.approx(ratio, rel=0.02)
    # A&E too: its rota and its majors cubicles, where ambulance crews wait to hand over.
    assert big.emergency.majors_cubicles / small.emergency.majors_cubicles == pytest.approx(ratio, rel=0.05)
    assert sum(big.emergency.clinicians_by_hour) / sum(small.emergency.clinicians_by_hour) == pytest.approx(
        ratio, rel=0.05
    )


def test_the_library_spec_compares_every_one_year_scenario_with_the_footprint() -> None:
    """The comparison table in docs/scenarios.md comes from experiments/library.yaml: a
    scenario added to configs/scenarios/ must join it (the five-year baseline aside)."""
    experiment = load_experiment(REPO / "experiments" / "library.yaml")
    names = {c.name for c in experiment.cells}
    shipped = {p.stem for p in (REPO / "configs" / "scenarios").glob("*.yaml")} - {"baseline_five_years"}
    assert names == shipped | {"footprint"}
    assert experiment.spec.replications >= 10
    horizons = {c.config.run.horizon_days for c in experiment.cells}
    assert horizons == {365}


def test_a_scaled_footprint_scales_its_interventions_absolute_amounts(tmp_path: Path) -> None:
    """Slots added and pounds a year are per footprint: a quarter of the people, a quarter
    of the virtual-ward slots and of the running cost (capacity changes are relative)."""
    scenario = REPO / "configs" / "scenarios" / "virtual_wards_rapid_response.yaml"
    spec = tmp_path / "quarter.yaml"
    spec.write_text(
        f"name: quarter\nbase: {REPO / 'configs' / 'footprint.yaml'}\nreplications: 1\nseed: 1\n"
        f"scenarios:\n  vw: {{config: {scenario}}}\n  vw_quarter: {{config: {scenario}, population: 300000}}\n"
    )
    cells = {c.scenario: c.config for c in load_experiment(spec).cells}
    full, quarter = cells["vw"].interventions[0], cells["vw_quarter"].interventions[0]
    assert quarter.extra_slots == round(full.extra_slots / 4)
    assert quarter.annual_cost == pytest.approx(full.annual_cost / 4)


# --------------------------------------------------------------------------------------
# Sweeps


@pytest.mark.slow
def test_a_sweep_stores_parameters_as_columns_resumes_and_reproduces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write_spec(tmp_path, GRID)
    out = tmp_path / "out"
    import flowsim.model

    real = flowsim.model.simulate

    def flaky(config, replication=0, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if config.acute.beds_scale > 1:
            raise RuntimeError("bed pool went negative")
        return real(config, replication, **kwargs)

    monkeypatch.setattr(flowsim.model, "simulate", flaky)
    assert main(["sweep", str(spec), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "failed: baseline.s0001 replication 0: RuntimeError: bed pool went negative" in captured.err
    assert "1 done, 1 failed" in captured.out
    # not a terminal: the progress display is plain lines
    assert "sweep: 1/2 runs done, 1 failed, 0 running" in captured.err
    record = read_experiment_record(out)
    assert [r["status"] for r in record["runs"]] == ["done", "failed"]
    assert (
        "bed pool went negative"
        in (out / "runs" / "scenario=baseline.s0001" / "replication=0" / "error.txt").read_text()
    )

    monkeypatch.setattr(flowsim.model, "simulate", real)  # fixed: the same command does the rest
    assert main(["sweep", str(spec), "--out", str(out)]) == 0
    assert "1 done, 1 skipped" in capsys.readouterr().out

    kpis = read_table(out, "kpis").to_pandas()
    assert list(kpis["acute.beds_scale"]) == [0.9, 1.1]
    samples = read_table(out, "samples").to_pandas()
    assert list(samples.columns) == ["scenario", "replication", "sample", "acute.beds_scale"]
    assert list(samples["sample"]) == [0, 1]
    record = read_experiment_record(out)
    assert record["experiment_sha256"] == load_experiment(spec).sha256
    assert record["samples"] == [
        {"sample": 0, "acute.beds_scale": 0.9},
        {"sample": 1, "acute.beds_scale": 1.1},
    ]
    assert record["flowsim_version"] and record["spec"]["name"] == "exp"

    # Analysis: parameters beside KPI means, and a swing per parameter for a grid.
    assert main(["summarise", str(out), "--format", "csv"]) == 0
    csv_text = capsys.readouterr().out
    assert csv_text.splitlines()[0].startswith(
        "scenario,sample,acute.beds_scale,kpi,label,unit,mean,ci_lower"
    )
    from flowsim.summarise import summarise_sweep

    summary = summarise_sweep(out)
    assert {s.parameter for s in summary.sensitivity} == {"acute.beds_scale"}
    assert all(s.swing is not None for s in summary.sensitivity)

    # A different spec on the same folder is refused, unless told.
    (tmp_path / "edited").mkdir()
    other = write_spec(tmp_path / "edited", GRID.replace("1.1]", "1.2]"))
    assert main(["sweep", str(other), "--out", str(out)]) == 2
    assert "made from another spec" in capsys.readouterr().err

    # Every run reproduces, hash for hash; a single run's manifest too.
    assert main(["reproduce", str(spec), "--results", str(out)]) == 0
    assert "reproduced: all 2 runs" in capsys.readouterr().out
    assert main(["reproduce", str(out / "runs" / "scenario=baseline.s0000" / "replication=0")]) == 0


@pytest.mark.slow
def test_a_killed_client_leaves_whole_runs_and_the_same_command_finishes(tmp_path: Path) -> None:
    body = """\
sweep:
  design: lhs
  samples: 8
  parameters:
    acute.beds_scale: {low: 0.9, high: 1.1}
replications: 1
"""
    spec = write_spec(tmp_path, body, days=4)
    out = tmp_path / "out"
    command = [sys.executable, str(FAKE), "sweep", str(spec), "--workers", "2", "--out", str(out)]
    runs = out / "runs"
    proc = subprocess.Popen(
        command, env={**env(), "FAKE_DAY_SECONDS": "0.05"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(list(runs.glob("*/*/manifest.json"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    done_before = len(list(runs.glob("*/*/manifest.json")))
    assert 2 <= done_before < 8
    assert len(read_table(out, "kpis")) == done_before  # only whole runs are read

    again = subprocess.run(
        command, env={**env(), "FAKE_DAY_SECONDS": "0"}, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0, again.stderr
    assert f"{8 - done_before} done, {done_before} skipped" in again.stdout
    kpis = read_table(out, "kpis").to_pandas()
    assert len(kpis) == 8 and kpis["acute.beds_scale"].between(0.9, 1.1).all()
    assert not (out / ".staging").exists()


# --------------------------------------------------------------------------------------
# A real Dask cluster: a scheduler and two workers on the loopback address


def _start_cluster(tmp_path: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
    if dask is None:
        pytest.skip("dask is not installed")
    scheduler_file = tmp_path / "scheduler.json"
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = [
        subprocess.Popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=open(logs / "scheduler.log", "wb"),
        )
    ]
    deadline = time.monotonic() + 30
    while not scheduler_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    address = json.loads(scheduler_file.read_text())["address"]
    for i in range(2):
        procs.append(
            subprocess.Popen(
                [
                    dask,
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--name",
                    f"w{i}",
                ],
                env=env(),
                stdout=subprocess.DEVNULL,
                stderr=open(logs / f"worker{i}.log", "wb"),
            )
        )
    return address, procs


@pytest.mark.slow
def test_a_dask_cluster_runs_a_sweep_and_survives_a_killed_worker(tmp_path: Path) -> None:
    body = """\
sweep:
  design: grid
  parameters:
    acute.beds_scale: {values: [0.8, 0.9, 1.1, 1.2]}
replications: 1
"""
    spec = write_spec(tmp_path, body, days=2)
    out = tmp_path / "out"
    address, procs = _start_cluster(tmp_path)
    try:
        # the sweep starts while the workers do: its runs wait for them
        sweep = subprocess.Popen(
            [sys.executable, "-m", "flowsim", "sweep", str(spec), "--scheduler", address, "--out", str(out)],
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list((out / "runs").glob("*/*/manifest.json")):
            time.sleep(0.05)
        procs[1].send_signal(signal.SIGKILL)  # one worker dies mid-sweep
        stdout, stderr = sweep.communicate(timeout=90)
        assert sweep.returncode == 0, stderr
        assert "4 done" in stdout
        kpis = read_table(out, "kpis").to_pandas()
        assert sorted(kpis["acute.beds_scale"]) == [0.8, 0.9, 1.1, 1.2]
        # the runs made on the cluster are those this machine makes
        assert main(["reproduce", str(out / "experiment.json"), "--sample", "1"]) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(10)


def test_run_sweep_in_process_equals_the_records_it_returns(tmp_path: Path) -> None:
    """A no-sweep experiment (scenarios only) is stored under the scenario names as is."""
    spec = tmp_path / "e.yaml"
    spec.write_text(
        f"name: e\nbase: {SMALL}\n"
        + QUICK.format(days=1)
        + "scenarios:\n  baseline: {}\n  fewer_beds: {set: {acute.beds_scale: 0.9}}\n"
        + "tables: [kpis]\n"
    )
    runs = run_sweep(load_experiment(spec), tmp_path / "out", progress=False)
    assert [(r.folder, r.status) for r in runs] == [("baseline", "done"), ("fewer_beds", "done")]
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == [
        "_flowsim_results.json",
        "experiment.json",
        "kpis",
        "runs",
    ]


def test_footprints_scaled_and_added_up_for_a_national_table(tmp_path: Path) -> None:
    """England's shape at toy scale: footprints from a CSV, then one total and one row each."""
    (tmp_path / "fp.csv").write_text("# two toy footprints\nname,population\nnorth,20000\nsouth,30000\n")
    spec = tmp_path / "e.yaml"
    spec.write_text(
        f"name: e\nbase: {SMALL}\nfootprints: fp.csv\ntables: [kpis]\n"
        "set:\n  run.warmup_days: 1\n  run.horizon_days: 1\n"
    )
    experiment = load_experiment(spec)
    assert [c.config.population.size for c in experiment.cells] == [20000, 30000]
    run_sweep(experiment, tmp_path / "out", progress=False)
    from flowsim.summarise import summarise_sweep

    total = summarise_sweep(
        tmp_path / "out", ["population", "emergency_admissions", "acute_occupancy_mean"], by="total"
    )
    each = summarise_sweep(
        tmp_path / "out", ["population", "emergency_admissions", "acute_occupancy_mean"], by="scenario"
    )
    assert [r.scenario for r in each.rows] == ["north", "south"]
    assert total.rows[0].kpis["population"].mean == 50000
    admissions = [r.kpis["emergency_admissions"].mean for r in each.rows]
    assert total.rows[0].kpis["emergency_admissions"].mean == sum(admissions)
    occupancy = [r.kpis["acute_occupancy_mean"].mean for r in each.rows]
    assert min(occupancy) <= total.rows[0].kpis["acute_occupancy_mean"].mean <= max(occupancy)


def _children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_pool_worker_costs_only_a_new_pool(tmp_path: Path) -> None:
    body = "sweep:\n  design: lhs\n  samples: 6\n  parameters:\n    acute.beds_scale: {low: 0.9, high: 1.1}\n"
    spec = write_spec(tmp_path, body, days=4)
    out = tmp_path / "out"
    command = [sys.executable, str(FAKE), "sweep", str(spec), "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(
        command,
        env={**env(), "FAKE_DAY_SECONDS": "0.1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list((out / "runs").glob("*/*/manifest.json")):
        time.sleep(0.05)
    workers = [p for p in _children(proc.pid) if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert workers
    os.kill(workers[-1], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "6 done" in stdout and "a worker of the local pool died" in stderr
    assert len(read_table(out, "kpis")) == 6
