"""Regenerate docs/dashboard-overview.png: the dashboard's overview page at 1366x768.

    python experiments/dashboard_screenshot.py

Runs the tenth-size footprint (configs/small.yaml) and its 10% acute bed cut, 3
replications of 180 measured days after 30 days' warm-up each, into --work; serves the
dashboard with two targets; and photographs the overview in Debian's chromium.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flowsim.dashboard.browser import PAGES, VIEWPORT, chromium, serve, wait_for_page  # noqa: E402

TARGETS = ("acute_occupancy_mean<=92%", "dtoc_share_of_beds<=3.5%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/flowsim-dashboard-screenshot"))
    parser.add_argument("--out", type=Path, default=REPO / "docs/dashboard-overview.png")
    args = parser.parse_args()
    results = args.work / "results"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for extra in ([], ["--set", "acute.beds_scale=0.9", "--set", "name=small_beds_cut"]):
        subprocess.run(
            [sys.executable, "-m", "flowsim", "run", str(REPO / "configs/small.yaml"), *extra,
             "--horizon-days", "180", "--warmup-days", "30", "--replications", "3", "--workers", "2",
             "--quiet", "--out", str(results)],
            check=True, cwd=REPO, env=env,
        )  # fmt: skip
    command = [sys.executable, "-m", "flowsim", "dashboard", str(results), "--port", "{port}"]
    for target in TARGETS:
        command += ["--target", target]
    with serve(results, command) as url, chromium() as browser:
        page = browser.new_context(viewport=VIEWPORT).new_page()
        wait_for_page(page, url + "/", PAGES[0][1], timeout_ms=60_000)
        page.screenshot(path=str(args.out))
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
