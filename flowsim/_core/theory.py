"""Queueing-theory results the core is checked against: Erlang B and Erlang C (M/M/c),
and Little's law on a sample path.

`a = arrival rate × mean service time` is the offered load in erlangs; `c` the number of
servers (slots). Below them, the standard streams that drive a board for those checks and
the replay of a board's events that Little's law is read from, shared by
tests/test_core.py and the validation report (flowsim.validation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from flowsim._core.kinds import DEPARTED, FIT, GRANTED, LOST, MOVED

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


# ------------------------------------------------------------- Little's law on a sample path

Stream = Sequence[tuple[float, Sequence[tuple[int, int, float, float, float]], float]]


@dataclass(frozen=True)
class SamplePath:
    """What a board's events say happened in each pool up to `until` (arrays by pool).

    The ``*_hours`` are sums of intervals read off the events, those still open closed at
    `until`: they must equal the board's own integrals. The per-pool lists hold the
    intervals completed by `until`: slots held (grant to leaving), waits (request to grant
    or loss) and delays (fit to moving on).
    """

    until: float
    held_hours: np.ndarray
    queued_hours: np.ndarray
    delayed_hours: np.ndarray
    holds: tuple[list[float], ...]
    waits: tuple[list[float], ...]
    delays: tuple[list[float], ...]
    grants: np.ndarray
    requests: np.ndarray
    fits: np.ndarray
    still_queued: int


def replay(stream: Stream, events: Mapping[str, np.ndarray], until: float, n_pools: int) -> SamplePath:
    """Rebuild each pool's intervals from the events of a board fed `stream` (as
    `network_stream` makes it, admitted in order) and advanced to `until`."""
    held, queued, delayed = np.zeros(n_pools), np.zeros(n_pools), np.zeros(n_pools)
    grants, requests, fits = np.zeros(n_pools), np.zeros(n_pools), np.zeros(n_pools)
    holds: tuple[list[float], ...] = tuple([] for _ in range(n_pools))
    waits: tuple[list[float], ...] = tuple([] for _ in range(n_pools))
    delays: tuple[list[float], ...] = tuple([] for _ in range(n_pools))
    grant: dict[tuple[int, int], float] = {}  # (patient, leg) -> time, for intervals still open
    fit: dict[tuple[int, int], float] = {}
    asked: dict[tuple[int, int], float] = {}
    for h, (arrival, route, _) in enumerate(stream):
        if arrival + route[0][3] <= until:
            asked[h, 0] = arrival + route[0][3]
            requests[route[0][0]] += 1
    for t, kind, h, p, k in zip(
        events["time"].tolist(),
        events["kind"].tolist(),
        events["route"].tolist(),
        events["pool"].tolist(),
        events["leg"].tolist(),
    ):
        route = stream[h][1]
        if kind in (GRANTED, LOST):  # a request's wait ends
            wait = t - asked.pop((h, k))
            waits[p].append(wait)
            queued[p] += wait
        if kind == GRANTED:
            grant[h, k] = t
            grants[p] += 1
        elif kind == FIT:
            fit[h, k] = t
            fits[p] += 1
            if t + route[k + 1][3] <= until:
                asked[h, k + 1] = t + route[k + 1][3]
                requests[route[k + 1][0]] += 1
        elif kind == MOVED and k > 0:  # the previous leg's slot frees
            q = route[k - 1][0]
            delay = t - fit.pop((h, k - 1))
            delays[q].append(delay)
            delayed[q] += delay
            hold = t - grant.pop((h, k - 1))
            holds[q].append(hold)
            held[q] += hold
        elif kind == DEPARTED:
            hold = t - grant.pop((h, k))
            holds[p].append(hold)
            held[p] += hold
    for (h, k), g in grant.items():
        held[stream[h][1][k][0]] += until - g
    for (h, k), f in fit.items():
        delayed[stream[h][1][k][0]] += until - f
    for (h, k), a in asked.items():
        queued[stream[h][1][k][0]] += until - a
    return SamplePath(until, held, queued, delayed, holds, waits, delays, grants, requests, fits, len(asked))


@dataclass(frozen=True)
class LittleCheck:
    """L = λW for one quantity of one pool: L from the board's integral over the time
    elapsed, λ entries per hour, W the mean completed interval read off the events."""

    pool: int
    quantity: str
    L: float
    rate: float
    W: float
    integral_error: float  # |board's integral − sum of intervals| / integral

    @property
    def relative_error(self) -> float:
        """L / (λW) − 1."""
        return self.L / (self.rate * self.W) - 1.0 if self.rate * self.W > 0 else math.nan


def littles_law(stats: Mapping[str, Any], path: SamplePath) -> list[LittleCheck]:
    """Little's law per pool for slots held, the queue and delayed (fit) patients, from a
    board's `stats()` and the `replay` of its events up to the same time."""
    out = []
    for p in range(len(path.holds)):
        for quantity, integral, summed, count, times in (
            ("slots held", stats["occupied_hours"][p], path.held_hours[p], path.grants[p], path.holds[p]),
            ("queue", stats["queued_hours"][p], path.queued_hours[p], path.requests[p], path.waits[p]),
            ("delayed", stats["delayed_hours"][p], path.delayed_hours[p], path.fits[p], path.delays[p]),
        ):
            if count == 0 or not times:
                continue
            integral = float(integral)
            error = abs(integral - float(summed)) / integral if integral > 0 else abs(float(summed))
            out.append(
                LittleCheck(
                    p,
                    quantity,
                    integral / path.until,
                    float(count) / path.until,
                    float(np.mean(times)),
                    error,
                )
            )
    return out
