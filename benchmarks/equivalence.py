"""Statistical equivalence of the whole model at an earlier commit and now: after a change
that reorders events or draws, are the headline KPIs' distributions the same?

    python benchmarks/equivalence.py COMMIT [--replications 10] [--days 365] [--workers 2] [--out DIR]

Runs the default footprint (`configs/footprint.yaml`, 60 days' warm-up plus `--days`)
for the same replications (the same seeds) with the code of COMMIT (a worktree with its
compiled core, as benchmarks/ab_model.py builds it) and with this checkout, as scenarios
`before` and `after` of one results folder, then compares them with `flowsim compare`.

Equivalent means: for every headline KPI, each side's mean lies inside the other side's
95% interval over the replications. The paired difference (after − before, replication
by replication) is printed beside it, with its own 95% interval. Exits 1 if a KPI is not
equivalent.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.ab_model import REPO, checkout
from flowsim.compare import compare
from flowsim.metrics.registry import HEADLINE_KPIS

RUN = """
import sys
sys.path.insert(0, {root!r})
import flowsim
assert flowsim.__file__.startswith({root!r}), flowsim.__file__
from flowsim.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run(root: Path, name: str, out: Path, args: argparse.Namespace) -> None:
    """The footprint's replications with flowsim imported from `root`, as scenario `name`."""
    config = str(root / "configs" / "footprint.yaml")
    command = ["run", config, "--out", str(out), "--replications", str(args.replications)]
    command += [
        "--horizon-days",
        str(args.days),
        "--workers",
        str(args.workers),
        "--quiet",
        "--set",
        f"name={name}",
    ]
    subprocess.run([sys.executable, "-c", RUN.format(root=str(root)), *command], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the earlier commit")
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="results folder (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowsim-equivalence-") as tmp:
        out = args.out or Path(tmp) / "results"
        before = checkout(args.commit, Path(tmp))
        try:
            run(before, "before", out, args)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(before)], check=True)
        run(REPO, "after", out, args)
        comparison = compare(out, baseline="before", kpis=HEADLINE_KPIS)
    rows = {(r.scenario, r.kpi): r for r in comparison.rows}
    failed = []
    print(
        f"{args.commit} (before) against this checkout (after): {args.replications} replications of {args.days} days"
    )
    print(
        f"{'KPI':34} {'before, 95% interval':>30} {'after, 95% interval':>30} {'after - before':>26}  equivalent"
    )
    for name in comparison.kpis:
        a, b = rows[("before", name)].interval, rows[("after", name)].interval
        difference = rows[("after", name)].difference
        both_undefined = math.isnan(a.mean) and math.isnan(b.mean)
        same = both_undefined or (a.contains(b.mean) and b.contains(a.mean))
        if not same:
            failed.append(name)
        d = difference.difference if difference is not None else None
        diff = "" if d is None else f"{d.mean:+.4g} ± {d.half_width:.3g}"
        print(
            f"{name:34} {a.mean:14.5g} ± {a.half_width:<12.3g} {b.mean:14.5g} ± {b.half_width:<12.3g} "
            f"{diff:>26}  {'yes' if same else 'NO'}"
        )
    print("equivalent" if not failed else f"not equivalent: {', '.join(failed)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
