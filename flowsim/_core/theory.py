"""Queueing-theory results the core is checked against: Erlang B and Erlang C (M/M/c).

`a = arrival rate × mean service time` is the offered load in erlangs; `c` the number of
servers (slots). Below them, the standard streams that drive a board for those checks,
shared by tests/test_core.py and experiments/validation_report.py.
"""

from __future__ import annotations

import math

import numpy as np

from flowsim._core.kinds import GRANTED, LOST

INF = math.inf


def erlang_b(c: int, a: float) -> float:
    """Probability that an arrival finds all `c` slots busy in a loss system (M/G/c/c).

    The stable recursion B(k) = a·B(k-1) / (k + a·B(k-1)), B(0) = 1, avoids factorials.
    Insensitive to the stay distribution beyond its mean.
    """
    if c < 0 or a < 0:
        raise ValueError("need c >= 0 and a >= 0")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival has to wait in M/M/c with an infinite queue (a < c)."""
    if not 0 <= a < c:
        raise ValueError("Erlang C needs 0 <= a < c (a stable queue)")
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc_mean_wait(c: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue (before the grant) in M/M/c: C(c, a) / (c·μ − λ)."""
    a = arrival_rate / service_rate
    return erlang_c(c, a) / (c * service_rate - arrival_rate)


# ------------------------------------------------- standard streams to check the core by


def batch_means(values, n_batches=20):
    """Mean and standard error from the means of consecutive batches (values in time order)."""
    batches = np.array([b.mean() for b in np.array_split(np.asarray(values, dtype=float), n_batches)])
    return batches.mean(), batches.std(ddof=1) / math.sqrt(n_batches)


def single_pool(Board, c, arrival_rate, stays, max_wait, seed):
    """Poisson arrivals to one pool of c slots; returns (arrival times, grant times, lost)."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / arrival_rate, len(stays)))
    board = Board([c])
    for t, s in zip(arrivals.tolist(), stays.tolist()):
        board.admit(t, [0], [0], [s], [0.0], [0.0], max_wait)
    events = board.advance(float(arrivals[-1]) + 100.0 * float(stays.max()))
    granted = np.full(len(stays), np.nan)
    g = events["kind"] == GRANTED
    granted[events["route"][g]] = events["time"][g]
    lost = np.zeros(len(stays), dtype=bool)
    lost[events["route"][events["kind"] == LOST]] = True
    return arrivals, granted, lost


def network_stream(rng, n, arrival_rate=2.0):
    """A stable three-pool network: acute (12) → community (4) or care home (6), plus
    direct community admissions; priorities, electives that renege, and some losses."""
    acute, community, care_home = 0, 1, 2
    t = np.cumsum(rng.exponential(1.0 / arrival_rate, n))
    kinds = rng.choice(4, size=n, p=[0.70, 0.20, 0.05, 0.05])
    routes = {0: [acute], 1: [acute, community], 2: [acute, care_home], 3: [community]}
    mean_stay = {acute: 4.0, community: 6.0, care_home: 20.0}
    stream = []
    for i in range(n):
        pools = routes[int(kinds[i])]
        route = [
            (
                p,
                int(rng.integers(0, 3)),
                float(rng.exponential(mean_stay[p])),
                float(rng.exponential(0.5)) if k else 0.0,
                float(rng.exponential(0.25)),
            )
            for k, p in enumerate(pools)
        ]
        max_wait = float(rng.choice([INF, 2.0, 0.0], p=[0.85, 0.10, 0.05]))
        stream.append((float(t[i]), route, max_wait))
    return stream
