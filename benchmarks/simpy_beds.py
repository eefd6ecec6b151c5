"""The yardstick: bed pools and the transfer cascade as a typical hand-built SimPy model.

This is how an NHS analyst would write the core's job in SimPy: one process per patient,
a `PriorityResource` per pool, the fit patient keeping their bed (a held request) until a
slot downstream is granted and the transfer lag is over, an elective's request withdrawn
after its maximum wait, and escalation beds as a pool's capacity raised by the
escalation beds from 08:00 to 20:00 (a "closure" process that holds them by top-priority
requests overnight). It runs the stream of `bench_core.make_stream`, with the same rules
as the core (docs/core.md, rules 1-7), so the two can be timed on the same work and their
counts compared.
"""

from __future__ import annotations

import gc
import math
import time

import simpy

from benchmarks.bench_core import ACUTE, CAPACITIES, ESCALATION_BEDS


def _patient(env, pools, counts, t_admit, route, priorities, stays, readies, lags, max_wait):
    n_legs = len(route)
    yield env.timeout(readies[0])
    request = pools[route[0]].request(priority=priorities[0])
    if math.isinf(max_wait):
        yield request
    else:
        outcome = yield request | env.timeout(max_wait)
        if request not in outcome:
            request.cancel()
            counts["lost"] += 1
            return
    counts["granted"] += 1
    yield env.timeout(lags[0])
    held = request
    for k in range(n_legs):
        yield env.timeout(stays[k])
        if k == n_legs - 1:
            pools[route[k]].release(held)
            counts["departed"] += 1
            return
        # Medically fit: keeps the bed until the next pool grants a slot and the lag is over.
        yield env.timeout(readies[k + 1])
        onward = pools[route[k + 1]].request(priority=priorities[k + 1])
        yield onward
        counts["granted"] += 1
        yield env.timeout(lags[k + 1])
        pools[route[k]].release(held)
        held = onward


def _escalation(env, pool, days):
    """Escalation beds open 08:00-20:00: overnight, closures hold them at top priority."""
    for day in range(days):
        closures = [pool.request(priority=-1) for _ in range(ESCALATION_BEDS)]
        yield env.timeout(day * 24.0 + 8.0 - env.now)
        for closure in closures:
            if closure.triggered:
                pool.release(closure)
            else:
                closure.cancel()
        yield env.timeout(day * 24.0 + 20.0 - env.now)
    for _ in range(ESCALATION_BEDS):  # closed from the last evening on
        pool.request(priority=-1)


def _arrivals(env, pools, counts, stream):
    for t, route, priorities, stays, readies, lags, max_wait in stream:
        if t > env.now:
            yield env.timeout(t - env.now)
        env.process(_patient(env, pools, counts, t, route, priorities, stays, readies, lags, max_wait))


def run(stream: list[tuple]) -> tuple[float, dict[str, int]]:
    """Run the stream to the same end as `bench_core.run`; returns (seconds, counts)."""
    gc.collect()
    env = simpy.Environment()
    capacities = list(CAPACITIES)
    capacities[ACUTE] += ESCALATION_BEDS
    pools = [simpy.PriorityResource(env, capacity=c) for c in capacities]
    counts = {"granted": 0, "departed": 0, "lost": 0}
    days = math.ceil(stream[-1][0] / 24.0)
    start = time.perf_counter()
    env.process(_arrivals(env, pools, counts, stream))
    env.process(_escalation(env, pools[ACUTE], days))
    env.run(until=days * 24.0 + 24.0 * 366)
    return time.perf_counter() - start, counts
