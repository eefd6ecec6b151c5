"""The benchmark suite runs with one command and writes a JSON record of the machine and
each case (its figures are not checked: no timed assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_suite_runs_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--smoke",
            "--repeats",
            "1",
            "--only",
            "core_twin,core_simpy,model",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["mode"] == "smoke"
    machine = report["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["python"] and machine["numpy"]
    # The twins replayed the model's own calls to the core (rule 9's arguments included)
    # with identical events.
    assert report["core_twin"]["identical"] and report["core_twin"]["admissions"] > 0
    # The yardstick and the core agree on what happened to every admission.
    assert report["core_simpy"]["same_counts"]
    assert report["core_simpy"]["core_counts"]["departed"] > 0
    run = report["model"]["runs"][0]
    assert run["peak_mb"] > 0 and run["core_events"] > 0 and run["simpy_events"] > 0
    assert "| benchmark | measured | target | met |" in done.stdout
