"""Events per second of the compiled bed-and-transfer core against its Python twin.

One deterministic stream of admissions through three pools (acute 2000 beds, community
200 beds, care home 600 places) is fed to both boards a day at a time, the way the model's
driver does: admit the day's arrivals, then advance to midnight. The event arrays of the
two runs must be identical; the timing covers admit() and advance() calls only.

    python benchmarks/bench_core.py [--admissions N] [--repeats R] [--seed S]
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import time

import numpy as np

from flowsim._core import CompiledBoard, PythonBoard

ACUTE, COMMUNITY, CARE_HOME = 0, 1, 2
CAPACITIES = [2000, 200, 600]
ARRIVALS_PER_HOUR = 15.0
ESCALATION_BEDS = 40  # acute beds opened 08:00-20:00 each day, exercising schedule_capacity
# (share of admissions, pools of the route). The shares and the lengths of stay below are
# chosen to load each pool to about 85-95 %, so that queues, delays and the cascade all run
# (a benchmark stream, not a calibrated footprint).
ROUTES = [
    (0.70, [ACUTE]),
    (0.18, [ACUTE, COMMUNITY]),
    (0.015, [ACUTE, CARE_HOME]),
    (0.01, [ACUTE, COMMUNITY, CARE_HOME]),
    (0.095, [ACUTE]),  # electives: lower priority, cancelled after 8 hours' wait
]
MEAN_STAY_HOURS = {ACUTE: 118.0, COMMUNITY: 60.0, CARE_HOME: 1550.0}
MEAN_READY_HOURS = {ACUTE: 0.0, COMMUNITY: 12.0, CARE_HOME: 36.0}
MEAN_LAG_HOURS = {ACUTE: 0.5, COMMUNITY: 4.0, CARE_HOME: 24.0}


def make_stream(n: int, seed: int) -> list[tuple]:
    """Admissions as (t, pools, priorities, stays, readies, lags, max_wait), sorted by t."""
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.exponential(1.0 / ARRIVALS_PER_HOUR, n))
    shares = np.array([s for s, _ in ROUTES])
    kinds = rng.choice(len(ROUTES), size=n, p=shares / shares.sum())
    stream = []
    for t, kind in zip(times.tolist(), kinds.tolist()):
        pools = ROUTES[kind][1]
        legs = len(pools)
        elective = kind == len(ROUTES) - 1
        stays = [rng.exponential(MEAN_STAY_HOURS[p]) for p in pools]
        readies = [rng.exponential(MEAN_READY_HOURS[p]) if MEAN_READY_HOURS[p] else 0.0 for p in pools]
        lags = [rng.exponential(MEAN_LAG_HOURS[p]) for p in pools]
        priorities = [2 if elective else int(rng.integers(0, 2)) for _ in range(legs)]
        stream.append((t, pools, priorities, stays, readies, lags, 8.0 if elective else float("inf")))
    return stream


def run(board_cls, stream: list[tuple], gc_on: bool = False) -> tuple[float, float, dict[str, np.ndarray]]:
    """Feed the stream a day at a time; returns (seconds in all, seconds in advance(),
    all events concatenated).

    By default the cyclic garbage collector is off while timing, as in timeit. With it on,
    as in a model run, its scans of every live Python object (the stream, the twin's
    routes) are triggered by the twin's per-event allocations and slow the twin further.
    """
    gc.collect()
    if not gc_on:
        gc.disable()
    try:
        return _run(board_cls, stream)
    finally:
        gc.enable()


def _run(board_cls, stream: list[tuple]) -> tuple[float, float, dict[str, np.ndarray]]:
    board = board_cls(CAPACITIES)
    chunks = []
    i, n = 0, len(stream)
    day_end = 24.0
    in_advance = 0.0
    clock = time.perf_counter
    start = clock()
    while i < n:
        board.schedule_capacity(day_end - 16.0, ACUTE, CAPACITIES[ACUTE] + ESCALATION_BEDS)
        board.schedule_capacity(day_end - 4.0, ACUTE, CAPACITIES[ACUTE])
        while i < n and stream[i][0] < day_end:
            board.admit(*stream[i])
            i += 1
        tick = clock()
        chunks.append(board.advance(day_end))
        in_advance += clock() - tick
        day_end += 24.0
    # Run on until the last stays are over, as a long horizon would.
    tick = clock()
    chunks.append(board.advance(day_end + 24.0 * 365))
    end = clock()
    in_advance += end - tick
    events = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    return end - start, in_advance, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admissions", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    stream = make_stream(args.admissions, args.seed)
    impls = {"twin (reference.py)": PythonBoard}
    if CompiledBoard is not None:
        impls["compiled (board.pyx)"] = CompiledBoard
    else:
        print("compiled core not built: timing the twin only")

    print(
        f"{args.admissions} admissions, pools {CAPACITIES}, seed {args.seed}, "
        f"median of {args.repeats}; Python {platform.python_version()} on {platform.machine()}"
    )
    for gc_on in (False, True):
        print(f"-- garbage collector {'on, as in a model run' if gc_on else 'off, as in timeit'}")
        rates = compare(impls, stream, args.repeats, gc_on)
        if len(rates) == 2:
            (twin, compiled), (twin_adv, compiled_adv) = zip(*rates.values())
            print(
                f"event arrays identical; compiled/twin = {compiled / twin:.1f}x overall "
                f"(admit + advance), {compiled_adv / twin_adv:.1f}x in advance() alone"
            )


def compare(impls: dict, stream: list[tuple], repeats: int, gc_on: bool) -> dict[str, tuple[float, float]]:
    """Median events/s of each implementation, overall and in advance() alone."""
    # The implementations take turns within each repeat, so a change in machine load
    # during the benchmark falls on both.
    times = {name: [] for name in impls}
    advance_times = {name: [] for name in impls}
    for _ in range(repeats):
        reference_events = None
        for name, cls in impls.items():
            seconds, in_advance, events = run(cls, stream, gc_on)
            times[name].append(seconds)
            advance_times[name].append(in_advance)
            if reference_events is None:
                reference_events = events
            else:
                for key in reference_events:
                    if not np.array_equal(reference_events[key], events[key]):
                        raise SystemExit(f"FAIL: {name} differs from the twin in events[{key!r}]")
    n_events = len(events["time"])
    rates = {}
    for name in impls:
        total, in_advance = statistics.median(times[name]), statistics.median(advance_times[name])
        rates[name] = (n_events / total, n_events / in_advance)
        print(
            f"{name:22s} {n_events} events in {total:7.3f} s = {rates[name][0]:12,.0f} events/s; "
            f"in advance() alone {in_advance:7.3f} s = {rates[name][1]:12,.0f} events/s"
        )
    kinds = np.bincount(events["kind"], minlength=6)[1:]
    print(f"events by kind (granted, moved, fit, departed, lost): {kinds.tolist()}")
    return rates


if __name__ == "__main__":
    main()
