"""Wall time of the same sweep on 1 worker and on 2: does the second core pay?

    python benchmarks/bench_sweep.py [--repeats 3] [--days 365] [--json results/bench_sweep.json]

Runs a grid of 8 runs of the small footprint scaled to 60,000 people (5 days' warm-up,
then `--days`; by default a year, as in experiments/sensitivity.yaml) into a fresh folder
on 1 worker and on 2 (a local process pool), `repeats` times each, alternating, and
prints the median wall times and their ratio (2 workers / 1; the target is at most 0.6 on
a 2-core machine), and writes them as JSON. A pool's workers each start a Python and
import flowsim (about 2 seconds here), so runs of a second or less (`--days 25`) measure
that start-up more than the sweep.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from flowsim.sweep.runner import run_sweep
from flowsim.sweep.spec import load_experiment

REPO = Path(__file__).resolve().parents[1]
SPEC = f"""\
name: bench
base: {REPO / "configs" / "small.yaml"}
scenarios:
  small60k: {{population: 60000}}
set:
  run.warmup_days: 5
  run.horizon_days: {{days}}
sweep:
  design: grid
  parameters:
    acute.beds_scale: {{values: [0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2]}}
replications: 1
tables: [kpis]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--days", type=int, default=365, help="days measured in each run")
    parser.add_argument("--json", type=Path, default=Path("results/bench_sweep.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        spec = Path(tmp) / "bench.yaml"
        spec.write_text(SPEC.replace("{days}", str(args.days)))
        experiment = load_experiment(spec)
        walls: dict[int, list[float]] = {1: [], 2: []}
        for repeat in range(args.repeats):
            for workers in (1, 2):
                out = Path(tmp) / f"out-{workers}-{repeat}"
                start = time.perf_counter()
                runs = run_sweep(experiment, out, workers=workers, progress=False)
                walls[workers].append(time.perf_counter() - start)
                assert all(r.status == "done" for r in runs), runs
                shutil.rmtree(out)
                print(f"repeat {repeat + 1}: {workers} worker(s) {walls[workers][-1]:.2f} s", flush=True)
    one, two = statistics.median(walls[1]), statistics.median(walls[2])
    result = {
        "runs": len(experiment.cells),
        "days_each": args.days,
        "repeats": args.repeats,
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg()[0],
        "wall_seconds_1_worker": walls[1],
        "wall_seconds_2_workers": walls[2],
        "median_1_worker": one,
        "median_2_workers": two,
        "ratio_2_to_1": two / one,
    }
    print(f"median wall: 1 worker {one:.2f} s, 2 workers {two:.2f} s; ratio {two / one:.2f} (target <= 0.6)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {args.json}")


if __name__ == "__main__":
    main()
