"""How long each dashboard page takes to render the first time, with results of 100 runs.

    python benchmarks/bench_dashboard.py                      # builds 5 scenarios x 20 replications, then measures
    python benchmarks/bench_dashboard.py --results results/x  # measures an existing results folder

A page's first render is the time from opening its address in a fresh browser context (no
cache) until its charts (or main table) are drawn and no callback is pending, in Debian's
chromium driven headless by Playwright, with the server started beforehand (`flowsim
dashboard`, which reads the results at start-up). Each page is measured `--repeats` times;
the table shows the median. The figures and the machine's load go to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flowsim.dashboard.browser import PAGES, VIEWPORT, chromium, serve, wait_for_page  # noqa: E402

SCENARIOS = 5
REPLICATIONS = 20


def build(out: Path) -> float:
    """5 scenarios (acute beds from 100% to 80%) x 20 replications of a tiny, short run."""
    start = time.perf_counter()
    for i in range(SCENARIOS):
        scale = 1.0 - 0.05 * i
        name = "baseline" if i == 0 else f"beds_{round(scale * 100)}pct"
        subprocess.run(
            [sys.executable, "-m", "flowsim", "run", str(REPO / "configs/small.yaml"),
             "--set", "population.size=10000", "--horizon-days", "20", "--warmup-days", "5",
             "--set", f"acute.beds_scale={scale}", "--set", f"name={name}",
             "--replications", str(REPLICATIONS), "--workers", "2", "--quiet", "--out", str(out)],
            check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
    return time.perf_counter() - start


def measure(results: Path, repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {path: [] for path, _ in PAGES}
    with serve(results) as url, chromium() as browser:
        for _ in range(repeats):
            for path, ready in PAGES:
                context = browser.new_context(viewport=VIEWPORT)  # a first visit: nothing cached
                page = context.new_page()
                times[path].append(wait_for_page(page, url + path, ready, timeout_ms=60_000))
                context.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, help="an existing results folder (default: build one)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/flowsim-bench-dashboard"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("bench_dashboard.json"))
    args = parser.parse_args()

    results = args.results
    build_seconds = None
    if results is None:
        results = args.work / "results"
        if not (results / "_flowsim_results.json").exists():
            build_seconds = build(results)
    runs = len(list((results / "runs").glob("scenario=*/replication=*/manifest.json")))
    load_before = os.getloadavg()
    times = measure(results, args.repeats)
    load_after = os.getloadavg()

    print(f"{runs} runs in {results}; {args.repeats} first renders per page (seconds)")
    print(f"{'page':<14}{'median':>8}{'min':>8}{'max':>8}")
    for path, values in times.items():
        print(f"{path:<14}{statistics.median(values):>8.2f}{min(values):>8.2f}{max(values):>8.2f}")
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    record = {
        "runs": runs,
        "results": str(results),
        "repeats": args.repeats,
        "seconds": times,
        "median_seconds": {p: statistics.median(v) for p, v in times.items()},
        "build_seconds": build_seconds,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "commit": commit.stdout.strip() or None,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.json.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.json}")


if __name__ == "__main__":
    main()
