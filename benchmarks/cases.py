"""The benchmark cases, each run in a fresh process by `benchmarks/run.py`.

    python -m benchmarks.cases CASE '{"param": value, ...}'

prints the case's result as one line of JSON. A fresh process per case keeps each
one's peak memory its own and one case's heap from slowing the next.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _config(params: dict[str, Any]):
    """The config of a case: `config` with its horizon overridden, and, given `people`,
    scaled to that many people with every capacity scaled in proportion, as a sweep of
    England's footprints scales them (so that a footprint twice the size is two
    footprints' worth of work, not one overloaded)."""
    from flowsim.config import load_config

    overrides: dict[str, Any] = {
        key: params.get(name)
        for name, key in (("warmup_days", "run.warmup_days"), ("horizon_days", "run.horizon_days"))
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    path = ROOT / params["config"]
    if params.get("people") is not None:
        from flowsim.sweep.scale import scaled_capacity

        overrides.update(scaled_capacity(load_config(path, overrides), params["people"]))
    return load_config(path, overrides)


def _event_counts(kinds: np.ndarray) -> dict[str, int]:
    from flowsim._core import CoreEvent

    return {e.name.lower(): int(np.count_nonzero(kinds == e)) for e in CoreEvent}


def core_twin(params: dict[str, Any]) -> dict[str, Any]:
    """The compiled core and its twin replaying one footprint run's calls, taking turns:
    every call the model made, and the same admissions handed over a day at a time."""
    from benchmarks.recording import by_day, record, replay
    from flowsim._core import CompiledBoard, PythonBoard

    if CompiledBoard is None:
        raise SystemExit("the compiled core is not built: nothing to compare the twin with")
    config = _config(params)
    start = time.perf_counter()
    capacities, calls = record(config)
    recorded_s = time.perf_counter() - start
    streams = {"model_calls": calls, "by_day": by_day(calls)}
    times: dict[str, list[float]] = {f"{s}/{b}": [] for s in streams for b in ("twin", "compiled")}
    # Each stream's replays must give identical events, on either core. The two streams
    # need not: a call for a time at which an event already falls runs before or after
    # it according to whether the board was advanced before the call (docs/core.md).
    first: dict[str, dict[str, np.ndarray]] = {}
    for _ in range(params["repeats"]):
        for stream, stream_calls in streams.items():
            for name, cls in (("twin", PythonBoard), ("compiled", CompiledBoard)):
                seconds, got = replay(cls, capacities, stream_calls)
                times[f"{stream}/{name}"].append(seconds)
                if stream not in first:
                    first[stream] = got
                elif any(not np.array_equal(first[stream][k], got[k]) for k in got):
                    raise SystemExit(
                        f"FAIL: the {name} core's events ({stream}) differ from the first replay's"
                    )
    events = first["model_calls"]
    n = int(events["time"].size)
    out: dict[str, Any] = {
        "config": params["config"],
        "people": config.population.size,
        "days": config.total_days,
        "admissions": sum(1 for name, _, _ in calls if name == "admit"),
        "events": n,
        "events_by_kind": _event_counts(events["kind"]),
        "recording_s": recorded_s,
        "identical": True,
    }
    for stream, stream_calls in streams.items():
        compiled = statistics.median(times[f"{stream}/compiled"])
        twin = statistics.median(times[f"{stream}/twin"])
        out[stream] = {
            "calls": len(stream_calls),
            "compiled_s": times[f"{stream}/compiled"],
            "twin_s": times[f"{stream}/twin"],
            "compiled_median_s": compiled,
            "twin_median_s": twin,
            "compiled_events_per_s": n / compiled,
            "twin_events_per_s": n / twin,
            "speedup": twin / compiled,
        }
    return out


def core_simpy(params: dict[str, Any]) -> dict[str, Any]:
    """The compiled core and the SimPy yardstick on one stream of admissions, taking turns."""
    from benchmarks import bench_core, simpy_beds
    from flowsim._core import Board

    stream = bench_core.make_stream(params["admissions"], params["seed"])
    times: dict[str, list[float]] = {"core": [], "simpy": []}
    core_counts: dict[str, int] = {}
    simpy_counts: dict[str, int] = {}
    for _ in range(params["repeats"]):
        seconds, _, events = bench_core.run(Board, stream, gc_on=True)
        times["core"].append(seconds)
        core_counts = _event_counts(events["kind"])
        seconds, simpy_counts = simpy_beds.run(stream)
        times["simpy"].append(seconds)
    same = all(core_counts[k] == simpy_counts[k] for k in simpy_counts)
    core, simpy_s = statistics.median(times["core"]), statistics.median(times["simpy"])
    return {
        "admissions": params["admissions"],
        "seed": params["seed"],
        "core_s": times["core"],
        "simpy_s": times["simpy"],
        "core_median_s": core,
        "simpy_median_s": simpy_s,
        "core_admissions_per_s": params["admissions"] / core,
        "simpy_admissions_per_s": params["admissions"] / simpy_s,
        "speedup": simpy_s / core,
        "core_counts": {k: core_counts[k] for k in simpy_counts},
        "simpy_counts": simpy_counts,
        "same_counts": same,
    }


def model(params: dict[str, Any]) -> dict[str, Any]:
    """Set-up, warm-up, the measured days and writing the results of one run."""
    from flowsim.metrics.tables import run_tables
    from flowsim.model import WholeSystemModel
    from flowsim.results import RunOutput, write_run

    config = _config(params)
    clock = time.perf_counter
    cpu0 = time.process_time()
    t0 = clock()
    m = WholeSystemModel(config, 0)
    t1 = clock()
    cpu1 = time.process_time()
    while m.day < config.run.warmup_days:
        m.step()
    t2 = clock()
    m.run()
    t3 = clock()
    cpu3 = time.process_time()
    tables = run_tables(m.recorder.logs(), episodes=config.outputs.episodes)
    output = RunOutput(
        tables=tables,
        meta={
            "seed": config.run.seed,
            "spawn_key": list(m.streams.spawn_key),
            "replication": 0,
            "scenario": config.name,
        },
    )
    out = Path(tempfile.mkdtemp(prefix="flowsim-bench-"))
    try:
        write_run(out, output, config, t3 - t0)
        t4 = clock()
        cpu = time.process_time() - cpu0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    stats = m.clock.board.stats()
    core_events = int(sum(int(np.sum(stats[k])) for k in ("granted", "moved", "departed", "lost")))
    ae_events = int(m.emergency.department.events)  # the A&E department's calendar
    simpy_events = next(m.env._eid)  # events SimPy scheduled (its event counter)
    loop_s = t3 - t1
    return {
        "config": params["config"],
        "people": config.population.size,
        "warmup_days": config.run.warmup_days,
        "horizon_days": config.run.horizon_days,
        "setup_s": t1 - t0,
        "warmup_s": t2 - t1,
        "measured_s": t3 - t2,
        "write_s": t4 - t3,
        "total_s": t4 - t0,
        "total_cpu_s": cpu,  # on a shared machine, the CPU time is the steadier figure
        "day_loop_s": loop_s,
        "day_loop_cpu_s": cpu3 - cpu1,
        "core_events": core_events,
        "ae_events": ae_events,
        "simpy_events": simpy_events,
        "events_per_s": (core_events + ae_events + simpy_events) / loop_s,
        "ae_attendances": int(m.emergency.log.n),
    }


def profile(params: dict[str, Any]) -> dict[str, Any]:
    """cProfile of a model run: the top functions by own time, and the time by part."""
    from flowsim.model import WholeSystemModel

    config = _config(params)
    profiler = cProfile.Profile()
    profiler.enable()
    m = WholeSystemModel(config, 0)
    m.run()
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in rows.values())
    top = sorted(rows.items(), key=lambda kv: kv[1][2], reverse=True)[: params.get("top", 15)]
    parts: dict[str, float] = {}
    for (path, _, _), v in rows.items():
        parts[_part(path)] = parts.get(_part(path), 0.0) + v[2]
    return {
        "config": params["config"],
        "people": config.population.size,
        "days": config.total_days,
        "total_s": total,
        "top": [
            {
                "function": _where(path, line, name),
                "calls": v[1],
                "own_s": v[2],
                "cumulative_s": v[3],
                "share": v[2] / total,
            }
            for (path, line, name), v in top
        ],
        "by_part": {k: parts[k] / total for k in sorted(parts, key=parts.get, reverse=True)},  # type: ignore[arg-type]
    }


def _where(path: str, line: int, name: str) -> str:
    if path == "~":
        return name
    p = Path(path)
    for anchor in ("flowsim", "simpy", "mesa", "numpy"):
        if anchor in p.parts:
            i = len(p.parts) - 1 - p.parts[::-1].index(anchor)
            return f"{'/'.join(p.parts[i:])}:{line}({name})"
    return f"{p.name}:{line}({name})"


def _part(path: str) -> str:
    """Which part of the program a function belongs to, for the time by part."""
    parts = Path(path).parts
    if "flowsim" in parts:
        i = len(parts) - 1 - parts[::-1].index("flowsim")
        rest = parts[i + 1 :]
        return "flowsim/" + (rest[0] if len(rest) > 1 else rest[0].removesuffix(".py")) if rest else "flowsim"
    for lib in ("simpy", "mesa", "numpy", "pyarrow"):
        if lib in parts:
            return lib
    return "builtins and other"


CASES = {"core_twin": core_twin, "core_simpy": core_simpy, "model": model, "profile": profile}


def main() -> None:
    name, params = sys.argv[1], json.loads(sys.argv[2])
    if params.get("one_core") and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    result = CASES[name](params)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
