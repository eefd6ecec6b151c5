"""flowsim's benchmark suite: one command, a table of each target, and a JSON record.

    python -m benchmarks [--quick] [--json PATH] [--repeats N] [--only CASE,...]

Cases (each in a fresh process, its peak memory that process's own):

- core_twin   the compiled core against its pure-Python twin, replaying the calls a
              footprint run makes to the core (full: warm-up plus a year; target >= 15x);
- core_simpy  the compiled core against a hand-built SimPy model of the same pools and
              transfer cascade on one stream of admissions (target >= 50x);
- model       the whole model on one core: set-up, warm-up, the measured year and writing
              the results (target <= 10 s, <= 1 GB), with events per second;
- scaling     seconds per person-year of day loop at 0.3, 1.2 and 2.8 million people
              (one year) and at 1, 2 and 5 years (1.2 million), flat within 25 %; peak
              memory linear in people;
- profile     the top functions of a cProfile of the footprint's day loop.

Comparisons alternate their two sides within each repeat, so a change of machine load
falls on both; figures are medians of `--repeats` (default 3). `--quick` runs every case
smaller (shorter horizons, fewer admissions, 0.3 and 1.2 million people over 20 and 40
days) and labels per-year figures as projected from them. The full suite took 16 minutes
on a 2-core machine at ddf09ab (the scaling case 12 of them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FOOTPRINT = "configs/footprint.yaml"
SMALL = "configs/small.yaml"
CASE_NAMES = ("core_twin", "core_simpy", "model", "scaling", "profile")
TARGETS = {
    "core_twin": 15.0,  # x, compiled over twin
    "core_simpy": 50.0,  # x, compiled over the SimPy yardstick
    "model_s": 10.0,  # s wall, set-up + warm-up + a year + writing
    "model_mb": 1024.0,  # MB peak
    "scaling_spread": 1.25,  # slowest over fastest seconds per person-year
    "memory_spread": 1.25,  # largest over smallest marginal MB per million people
}


def plan(mode: str) -> dict[str, Any]:
    """The sizes of each case: full, the quick subset, or a smoke test of the suite itself."""
    if mode == "smoke":  # seconds: checks that the suite runs; its figures mean nothing
        return {
            "core_twin": {"config": SMALL, "warmup_days": 2, "horizon_days": 2},
            "core_simpy": {"admissions": 2_000, "seed": 20240601},
            "model": {"config": SMALL, "warmup_days": 2, "horizon_days": 2},
            "scaling_people": [20_000, 40_000],
            "scaling_days": [2, 4],
            "scaling_warmup_days": 1,
            "scaling_years_people": 20_000,
            "profile": {"config": SMALL, "warmup_days": 1, "horizon_days": 1},
        }
    if mode == "quick":
        return {
            "core_twin": {"config": FOOTPRINT, "warmup_days": 10, "horizon_days": 20},
            "core_simpy": {"admissions": 50_000, "seed": 20240601},
            "model": {"config": FOOTPRINT, "warmup_days": 10, "horizon_days": 30},
            "scaling_people": [300_000, 1_200_000],
            "scaling_days": [20, 40],
            "scaling_warmup_days": 5,
            "scaling_years_people": 1_200_000,
            "profile": {"config": FOOTPRINT, "warmup_days": 10, "horizon_days": 10},
        }
    return {
        "core_twin": {"config": FOOTPRINT},
        "core_simpy": {"admissions": 200_000, "seed": 20240601},
        "model": {"config": FOOTPRINT},
        "scaling_people": [300_000, 1_200_000, 2_800_000],
        "scaling_days": [365, 730, 1825],
        "scaling_warmup_days": 60,
        "scaling_years_people": 1_200_000,
        "profile": {"config": FOOTPRINT, "warmup_days": 60, "horizon_days": 60},
    }


def run_case(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run one case in a fresh process; its result with the process's wall time and peak memory."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    command = [sys.executable, "-m", "benchmarks.cases", name, json.dumps(params)]
    start = dt.datetime.now(dt.UTC)
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = (dt.datetime.now(dt.UTC) - start).total_seconds()
    if child.returncode != 0:
        raise SystemExit(f"benchmark case {name} {params} failed (exit status {child.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["process_wall_s"] = wall
    result["peak_mb"] = usage.ru_maxrss / 1024  # Linux reports kilobytes
    return result


def machine() -> dict[str, Any]:
    """What the figures were measured on and at which commit."""
    import mesa
    import numpy
    import simpy

    from flowsim.results import active_core, git_commit

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit, dirty = git_commit()
    return {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "simpy": simpy.__version__,
        "mesa": mesa.__version__,
        "platform": platform.platform(),
        "core": active_core(),
        "commit": commit,
        "dirty": dirty,
    }


def _repeat(name: str, params: dict[str, Any], repeats: int) -> dict[str, Any]:
    """A case run `repeats` times, each in a fresh process: every run, and the medians."""
    runs = [run_case(name, params) for _ in range(repeats)]
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float) and not isinstance(v, bool)]
    return {"runs": runs, "median": {k: statistics.median(r[k] for r in runs) for k in keys}}


def base_memory() -> float:
    """Peak MB of a process that imports flowsim and stops: the floor under every case."""
    command = [sys.executable, "-c", "import flowsim.model, flowsim.metrics.tables, flowsim.results"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen(command, cwd=ROOT, env=env)
    _, _, usage = os.wait4(child.pid, 0)
    return usage.ru_maxrss / 1024


def run_suite(
    mode: str,
    repeats: int,
    only: set[str],
    scaling_repeats: int,
    scaling_days: list[int] | None = None,
    scaling_people: list[int] | None = None,
) -> dict[str, Any]:
    sizes = plan(mode)
    if scaling_days:
        sizes["scaling_days"] = scaling_days
    if scaling_people:
        sizes["scaling_people"] = scaling_people
    report: dict[str, Any] = {"mode": mode, "repeats": repeats, "machine": machine()}
    report["targets"] = TARGETS
    if "core_twin" in only:
        _say("core_twin: recording a footprint run's calls to the core, then replaying them")
        report["core_twin"] = run_case("core_twin", {**sizes["core_twin"], "repeats": repeats})
    if "core_simpy" in only:
        _say("core_simpy: the core against the SimPy yardstick")
        report["core_simpy"] = run_case("core_simpy", {**sizes["core_simpy"], "repeats": repeats})
    if "model" in only:
        _say("model: the whole model on one core")
        report["model"] = _repeat("model", {**sizes["model"], "one_core": True}, repeats)
    if "scaling" in only:
        report["scaling"] = scaling(sizes, scaling_repeats)
    if "profile" in only:
        _say("profile: cProfile of the day loop")
        report["profile"] = run_case("profile", {**sizes["profile"], "one_core": True})
    report["machine"]["load_average_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    return report


def scaling(sizes: dict[str, Any], repeats: int) -> dict[str, Any]:
    """Seconds per person-year and peak memory by people (shortest horizon) and by horizon
    (the footprint's 1.2 million people)."""
    warmup = sizes["scaling_warmup_days"]
    people_1 = sizes["scaling_years_people"]
    cases = [(p, sizes["scaling_days"][0]) for p in sizes["scaling_people"]]
    cases += [(people_1, d) for d in sizes["scaling_days"][1:]]
    rows = []
    for people, days in cases:
        _say(f"scaling: {people:,} people, {warmup} + {days} days")
        params = {
            "config": FOOTPRINT,
            "people": people,
            "warmup_days": warmup,
            "horizon_days": days,
            "one_core": True,
        }
        result = _repeat("model", params, repeats)["median"]
        person_years = people * (warmup + days) / 365.0
        rows.append(
            {
                "people": people,
                "days": warmup + days,
                "day_loop_s": result["day_loop_s"],
                "day_loop_cpu_s": result["day_loop_cpu_s"],
                # CPU time: on a shared machine the wall time also measures the others' load.
                "us_per_person_year": result["day_loop_cpu_s"] / person_years * 1e6,
                "peak_mb": result["peak_mb"],
            }
        )
    base = base_memory()
    per_py = [r["us_per_person_year"] for r in rows]
    # Memory by people at the one horizon: MB per million people above the base (what a
    # person costs, with what a footprint of any size costs on top), and the marginal MB
    # per million people between consecutive sizes, which is constant if memory is
    # linear in people.
    one_horizon = [r for r in rows if r["days"] == warmup + sizes["scaling_days"][0]]
    for r in one_horizon:
        r["mb_per_million_people"] = (r["peak_mb"] - base) / (r["people"] / 1e6)
    slopes = [
        (b["peak_mb"] - a["peak_mb"]) / ((b["people"] - a["people"]) / 1e6)
        for a, b in zip(one_horizon, one_horizon[1:])
    ]
    return {
        "repeats": repeats,
        "rows": rows,
        "base_mb": base,
        "time_spread": max(per_py) / min(per_py),
        "marginal_mb_per_million_people": slopes,
        # Linear in people: the marginal cost of a million people the same across sizes
        # (needs three sizes; None with two).
        "memory_spread": max(slopes) / min(slopes) if len(slopes) > 1 and min(slopes) > 0 else None,
    }


def _say(text: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def table(report: dict[str, Any]) -> str:
    """The results as a Markdown table: what, measured, target, met."""
    quick = report["mode"] != "full"
    rows: list[tuple[str, str, str, str]] = []

    def add(what: str, measured: str, target: str = "", met: bool | None = None) -> None:
        rows.append((what, measured, target, "" if met is None else ("yes" if met else "**no**")))

    if "core_twin" in report:
        r = report["core_twin"]
        what = f"{r['days']} days, {r['admissions']:,} admissions, {r['events']:,} events, identical"
        for stream, label, judged in (
            ("by_day", f"core vs twin, a footprint run's admissions a day at a time ({what})", True),
            (
                "model_calls",
                "  the same, replaying every call the model made (small advances on each wake-up)",
                False,
            ),
        ):
            s = r[stream]
            add(
                label,
                f"{s['speedup']:.1f}x ({s['compiled_events_per_s'] / 1e6:.2f} M vs {s['twin_events_per_s'] / 1e6:.3f} M events/s)",
                ">= 15x" if judged else "",
                s["speedup"] >= TARGETS["core_twin"] if judged else None,
            )
    if "core_simpy" in report:
        r = report["core_simpy"]
        same = "same counts" if r["same_counts"] else "COUNTS DIFFER"
        add(
            f"core vs SimPy yardstick ({r['admissions']:,} admissions, {same})",
            f"{r['speedup']:.1f}x ({r['core_median_s']:.2f} s vs {r['simpy_median_s']:.2f} s)",
            ">= 50x",
            r["speedup"] >= TARGETS["core_simpy"],
        )
    if "model" in report:
        m = report["model"]["median"]
        first = report["model"]["runs"][0]
        days = first["warmup_days"] + first["horizon_days"]
        add(
            f"whole model, {first['people']:,} people, {first['warmup_days']} + {first['horizon_days']} days, one core",
            f"{m['total_s']:.1f} s wall, {m['total_cpu_s']:.1f} s CPU (set-up {m['setup_s']:.1f}, "
            f"day loop {m['day_loop_s']:.1f}, writing {m['write_s']:.1f})",
        )
        year_s = m["setup_s"] + m["write_s"] + m["day_loop_s"] / days * (first["warmup_days"] + 365)
        label = (
            "projected to warm-up + a year" if quick or first["horizon_days"] != 365 else "warm-up + a year"
        )
        add(f"  {label}", f"{year_s:.1f} s", "<= 10 s", year_s <= TARGETS["model_s"])
        add("  peak memory", f"{m['peak_mb']:,.0f} MB", "<= 1 GB", m["peak_mb"] <= TARGETS["model_mb"])
        add(
            "  events per second of day loop (beds core + A&E department + SimPy)",
            f"{m['events_per_s']:,.0f} ({m['core_events']:,.0f} + {m['ae_events']:,.0f} + {m['simpy_events']:,.0f})",
        )
    if "scaling" in report:
        s = report["scaling"]
        for r in s["rows"]:
            extra = (
                f", {r['mb_per_million_people']:.0f} MB per million people above the {s['base_mb']:.0f} MB base"
                if "mb_per_million_people" in r
                else ""
            )
            add(
                f"scaling: {r['people']:,} people, {r['days']} days",
                f"{r['us_per_person_year']:.1f} us CPU per person-year, {r['peak_mb']:,.0f} MB{extra}",
            )
        add(
            "  time per person-year, slowest / fastest",
            f"{s['time_spread']:.2f}",
            "<= 1.25",
            s["time_spread"] <= 1.25,
        )
        slopes = ", ".join(f"{x:.0f}" for x in s["marginal_mb_per_million_people"])
        spread = s["memory_spread"]
        add(
            f"  memory: marginal MB per million people ({slopes}), largest / smallest",
            "needs three sizes" if spread is None else f"{spread:.2f}",
            "<= 1.25",
            None if spread is None else spread <= TARGETS["memory_spread"],
        )
    lines = ["| benchmark | measured | target | met |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    if "profile" in report:
        p = report["profile"]
        lines += [
            "",
            f"Where the time goes: cProfile of {p['people']:,} people over {p['days']} days "
            f"({p['total_s']:.1f} s profiled), top functions by own time:",
            "",
            "| function | calls | own s | share |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| `{t['function']}` | {t['calls']:,} | {t['own_s']:.2f} | {t['share']:.0%} |" for t in p["top"]
        ]
        parts = ", ".join(f"{k} {v:.0%}" for k, v in list(p["by_part"].items())[:8])
        lines += ["", f"Own time by part: {parts}."]
    return "\n".join(lines)


def describe(machine_info: dict[str, Any]) -> str:
    m = machine_info
    dirty = " (with uncommitted changes)" if m["dirty"] else ""
    return (
        f"{m['cpu']}, {m['cores']} cores ({m['cores_usable']} usable), Python {m['python']}, "
        f"numpy {m['numpy']}, SimPy {m['simpy']}, Mesa {m['mesa']}, {m['core']} core, "
        f"commit {(m['commit'] or 'unknown')[:10]}{dirty}, {m['date_utc']} UTC, "
        f"load average {m['load_average'][0]:.1f} at the start"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every case smaller (minutes, not an hour)")
    parser.add_argument(
        "--smoke", action="store_true", help="the smallest sizes: checks the suite runs (seconds)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs of each comparison (median)")
    parser.add_argument(
        "--scaling-repeats", type=int, default=None, help="runs of each scaling size (default --repeats)"
    )
    parser.add_argument(
        "--only", default=",".join(CASE_NAMES), help=f"comma-separated cases of {', '.join(CASE_NAMES)}"
    )
    parser.add_argument(
        "--scaling-days",
        default=None,
        help="comma-separated measured days of the scaling case (default: the mode's)",
    )
    parser.add_argument(
        "--scaling-people",
        default=None,
        help="comma-separated populations of the scaling case (default: the mode's)",
    )
    parser.add_argument("--json", default="results/benchmarks.json", help="where to write the JSON record")
    args = parser.parse_args(argv)
    only = {c.strip() for c in args.only.split(",") if c.strip()}
    unknown = only - set(CASE_NAMES)
    if unknown:
        parser.error(f"unknown case(s) {', '.join(sorted(unknown))}; choose from {', '.join(CASE_NAMES)}")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    scaling = {}
    for name in ("scaling_days", "scaling_people"):
        given = getattr(args, name)
        try:
            scaling[name] = [int(x) for x in given.split(",")] if given else None
        except ValueError:
            parser.error(f"--{name.replace('_', '-')}: whole numbers separated by commas, got {given!r}")
    report = run_suite(mode, args.repeats, only, args.scaling_repeats or args.repeats, **scaling)
    report["table"] = table(report)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"Machine: {describe(report['machine'])}.")
    print(f"Mode: {report['mode']}, medians of {report['repeats']} repeats.\n")
    print(report["table"])
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
