"""How long each dashboard page takes to render the first time, with results of 100 runs.

    python benchmarks/bench_dashboard.py                      # builds 5 scenarios x 20 replications, then measures
    python benchmarks/bench_dashboard.py --results results/x  # measures an existing results folder

A page's first render is the time from opening its address until its charts (or main table)
are drawn and no callback is pending, in Debian's chromium driven headless by Playwright:
on a first visit (its address opened in a fresh browser context: nothing cached, every
script evaluated) and on arriving from another page through the navigation bar (the app
already loaded, as a reader moves about; plotly.js is loaded with the first page that has
a chart, here the capacity page, which pays for it). The server is started
beforehand (`flowsim dashboard` reads the results at start-up and computes each page's
first view in the background). Each is measured `--repeats` times; the table shows the
median and the range. The figures and the machine's load go to a JSON file.
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
from typing import Any

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


def _click_to(page: Any, path: str, ready: str) -> float:
    """Follow the navigation bar's link to `path`, as a reader does (no page reload); the
    seconds until the page's charts are drawn and no callback is pending."""
    start = time.perf_counter()
    page.locator(f"#nav-{path.strip('/') or 'overview'}").click()
    page.wait_for_selector(ready, state="visible", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-dash-is-loading=\"true\"]')", timeout=60_000)
    return time.perf_counter() - start


def measure(results: Path, repeats: int) -> dict[str, dict[str, list[float]]]:
    """Per page, seconds to render on a first visit (the page's address opened in a fresh
    browser context: nothing cached, every script evaluated) and on arriving from another
    page through the navigation bar (the app already loaded, as a reader moves about)."""
    times: dict[str, dict[str, list[float]]] = {"first visit": {}, "from another page": {}}
    with serve(results) as url, chromium() as browser:
        for _ in range(repeats):
            for path, ready in PAGES:
                context = browser.new_context(viewport=VIEWPORT)
                page = context.new_page()
                times["first visit"].setdefault(path, []).append(
                    wait_for_page(page, url + path, ready, timeout_ms=60_000)
                )
                context.close()
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            wait_for_page(page, url + "/provenance", PAGES[5][1], timeout_ms=60_000)
            for path, ready in PAGES:
                times["from another page"].setdefault(path, []).append(_click_to(page, path, ready))
            context.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, help="an existing results folder (default: build one)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/flowsim-bench-dashboard"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("results/bench_dashboard.json"))
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

    print(f"{runs} runs in {results}; {args.repeats} renders per page, seconds (median, min, max)")
    print(f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after, on {os.cpu_count()} cores")
    print(f"{'page':<14}{'first visit':>24}{'from another page':>26}")
    for path, _ in PAGES:
        cells = []
        for mode in times:
            v = times[mode][path]
            cells.append(f"{statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})")
        print(f"{path:<14}{cells[0]:>24}{cells[1]:>26}")
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    record = {
        "runs": runs,
        "results": str(results),
        "repeats": args.repeats,
        "seconds": times,
        "median_seconds": {m: {p: statistics.median(v) for p, v in t.items()} for m, t in times.items()},
        "build_seconds": build_seconds,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "commit": commit.stdout.strip() or None,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.json}")


if __name__ == "__main__":
    main()
