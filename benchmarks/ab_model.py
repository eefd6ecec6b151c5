"""The whole model at an earlier commit and now, run by turns: did a change make it faster?

    python benchmarks/ab_model.py COMMIT [--repeats 2] [--days 365]

Checks COMMIT out into a temporary git worktree and builds its compiled core there (a
wheel, of which only the extension is kept), then runs the default footprint (each
checkout's own `configs/footprint.yaml`: 60 days' warm-up plus `--days`) from that
checkout and from this one by turns, each run a fresh process, timing the day loop in CPU
seconds. Taking turns, a machine that slows down during the measurement slows both. Prints
the medians and the change from COMMIT to now.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUN = """
import sys, time
sys.path.insert(0, {root!r})
import flowsim
assert flowsim.__file__.startswith({root!r}), flowsim.__file__
from flowsim.config import load_config
from flowsim.model import WholeSystemModel
model = WholeSystemModel(load_config({root!r} + "/configs/footprint.yaml", {{"run.horizon_days": {days}}}), 0)
start = time.process_time()
model.run()
print(time.process_time() - start)
"""


def checkout(commit: str, where: Path) -> Path:
    """A worktree of `commit` in `where`, with its compiled core built in place."""
    tree = where / "tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), commit], check=True)
    wheels = where / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(tree)], check=True
    )
    with zipfile.ZipFile(next(wheels.glob("*.whl"))) as wheel:
        for name in wheel.namelist():
            if name.startswith("flowsim/_core/") and name.endswith(".so"):
                (tree / name).write_bytes(wheel.read(name))
    return tree


def day_loop_seconds(root: Path, days: int) -> float:
    """CPU seconds of one run's day loop, with flowsim imported from `root`."""
    code = RUN.format(root=str(root), days=days)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the earlier commit")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowsim-ab-") as tmp:
        before = checkout(args.commit, Path(tmp))
        try:
            times: dict[str, list[float]] = {args.commit: [], "now": []}
            for _ in range(args.repeats):
                for label, root in ((args.commit, before), ("now", REPO)):
                    times[label].append(day_loop_seconds(root, args.days))
                    print(f"{label}: {times[label][-1]:.2f} s", flush=True)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(before)], check=True)
    first, second = (statistics.median(t) for t in times.values())
    print(
        f"medians of {args.repeats}: {args.commit} {first:.2f} s, now {second:.2f} s ({second / first - 1:+.1%})"
    )


if __name__ == "__main__":
    main()
