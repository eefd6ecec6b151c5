"""Analytic checks of the bed-and-transfer core, run live with fixed seeds: Erlang C and
Erlang B (flowsim._core.theory), Little's law per pool on a multi-pool stream, and the
compiled core against its Python twin.

A statistical check passes unless simulation and theory differ significantly at the
ALPHA level: t = (simulated − theory) / SE, the SE from batch means.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flowsim.stats import Interval, batch_means, t_quantile

__all__ = ["ALPHA", "N_BATCHES", "AnalyticChecks", "LittleRow", "TheoryCheck", "run_analytic_checks"]

N_BATCHES = 20
# Two-sided level of each check: with seven of them, a correct core shows a false failure
# in under 1% of seeds.
ALPHA = 0.001
LITTLE_TOLERANCE = 0.02  # L against λW, relative
IDENTITY_TOLERANCE = 1e-9  # the board's integrals against the sums of intervals, relative
POOLS = ("acute", "community", "care home")
WARMUP_SHARE = 20  # the first 1/20 of arrivals are dropped as warm-up

# Arrivals per check: the Python twin is ~20 times slower, so it gets shorter streams.
SIZES = {
    "compiled": {"erlang": 300_000, "little": 60_000, "twins": 5_000},
    "python": {"erlang": 40_000, "little": 15_000, "twins": 1_000},
}


def critical_t() -> float:
    return t_quantile(1.0 - ALPHA, N_BATCHES - 1)


@dataclass(frozen=True)
class TheoryCheck:
    system: str
    quantity: str
    simulated: Interval  # batch means
    theory: float

    @property
    def t(self) -> float:
        """(simulated − theory) / SE, with N_BATCHES − 1 degrees of freedom."""
        se = self.simulated.standard_error
        return (self.simulated.mean - self.theory) / se if se > 0 else math.nan

    @property
    def p(self) -> float:
        from scipy import stats

        return (
            float(2.0 * stats.t.sf(abs(self.t), self.simulated.degrees_of_freedom))
            if np.isfinite(self.t)
            else math.nan
        )

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.t) and abs(self.t) < critical_t())


@dataclass(frozen=True)
class LittleRow:
    pool: str
    quantity: str
    L: float
    rate: float
    W: float
    relative_error: float  # L / (λW) − 1
    integral_error: float  # |board's integral − sum of intervals| / integral

    @property
    def passed(self) -> bool:
        return abs(self.relative_error) < LITTLE_TOLERANCE and self.integral_error < IDENTITY_TOLERANCE


@dataclass(frozen=True)
class AnalyticChecks:
    erlang_c: list[TheoryCheck]
    erlang_b: list[TheoryCheck]
    little: list[LittleRow]
    twins: str  # "identical", "DIFFERENT" or why skipped
    twin_events: int
    core: str
    sizes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return (
            all(c.passed for c in self.erlang_c + self.erlang_b)
            and all(r.passed for r in self.little)
            and self.twins != "DIFFERENT"
        )

    @property
    def failures(self) -> int:
        return (
            sum(not c.passed for c in self.erlang_c + self.erlang_b)
            + sum(not r.passed for r in self.little)
            + (self.twins == "DIFFERENT")
        )


def erlang_c_checks(board: Any, n: int) -> list[TheoryCheck]:
    """M/M/c with an infinite queue: P(wait) and mean wait (in mean stays) against Erlang C."""
    from flowsim._core.theory import erlang_c, mmc_mean_wait, single_pool

    out = []
    for c, arrival_rate, seed in ((4, 3.0, 101), (20, 17.0, 102)):
        stays = np.random.default_rng(seed).exponential(1.0, n)
        arrivals, granted, lost = single_pool(board, c, arrival_rate, stays, math.inf, seed + 1000)
        if lost.any() or np.isnan(granted).any():
            raise AssertionError("an infinite queue lost a patient")
        wait = (granted - arrivals)[n // WARMUP_SHARE :]
        a = arrival_rate  # mean stay 1 hour: the load in erlangs is the arrival rate
        system = f"c = {c}, a = {a:g} erlangs (ρ = {a / c:.2f})"
        out.append(TheoryCheck(system, "P(wait)", batch_means(wait > 0.0, N_BATCHES), erlang_c(c, a)))
        out.append(
            TheoryCheck(
                system,
                "mean wait (mean stays)",
                batch_means(wait, N_BATCHES),
                mmc_mean_wait(c, arrival_rate, 1.0),
            )
        )
    return out


def erlang_b_checks(board: Any, n: int) -> list[TheoryCheck]:
    """A loss system (max_wait = 0): blocking against Erlang B, which depends on the stay
    distribution only through its mean."""
    from flowsim._core.theory import erlang_b, single_pool

    c, a = 10, 8.0
    cv2 = 1.5**2
    draws = (
        ("exponential stays", 201, lambda rng: rng.exponential(1.0, n)),
        ("gamma(2) stays", 202, lambda rng: rng.gamma(2.0, 0.5, n)),
        (
            "lognormal stays, cv 1.5",
            203,
            lambda rng: rng.lognormal(-0.5 * math.log(1 + cv2), math.sqrt(math.log(1 + cv2)), n),
        ),
    )
    out = []
    for name, seed, draw in draws:
        stays = draw(np.random.default_rng(seed))
        _, granted, lost = single_pool(board, c, a, stays, 0.0, seed + 1000)
        if not (np.isnan(granted) == lost).all():
            raise AssertionError("a loss system made a patient wait")
        system = f"c = {c}, a = {a:g} erlangs, {name}"
        out.append(
            TheoryCheck(
                system, "P(blocked)", batch_means(lost[n // WARMUP_SHARE :], N_BATCHES), erlang_b(c, a)
            )
        )
    return out


def _admit(board: Any, t: float, route: Any, max_wait: float) -> None:
    pools, priorities, stays, readies, lags = (list(x) for x in zip(*route))
    board.admit(t, pools, priorities, stays, readies, lags, max_wait)


def little_checks(board_class: Any, n: int, seed: int = 301) -> list[LittleRow]:
    """Little's law per pool part-way through a run with arrivals still coming, and the
    board's integrals against the intervals read off its events (a sample-path identity)."""
    from flowsim._core.theory import littles_law, network_stream, replay

    stream = network_stream(np.random.default_rng(seed), n)
    board = board_class([12, 4, 6])
    for t, route, max_wait in stream:
        _admit(board, t, route, max_wait)
    until = 0.8 * stream[-1][0]
    events = board.advance(until)
    checks = littles_law(board.stats(), replay(stream, events, until, len(POOLS)))
    names = {"delayed": "delayed (fit, holding a slot)"}
    return [
        LittleRow(
            POOLS[c.pool],
            names.get(c.quantity, c.quantity),
            c.L,
            c.rate,
            c.W,
            c.relative_error,
            c.integral_error,
        )
        for c in checks
    ]


def twins_agree(n: int, seed: int = 401) -> tuple[str, int]:
    """The compiled core and its Python twin on one multi-pool stream with capacity changes,
    advanced in steps: (verdict, events compared)."""
    from flowsim._core import CompiledBoard, PythonBoard
    from flowsim._core.theory import network_stream

    if CompiledBoard is None:
        return "skipped (the compiled core is not built)", 0
    stream = network_stream(np.random.default_rng(seed), n)
    stops = np.linspace(0.0, stream[-1][0] + 500.0, 41)[1:]

    def play(board_class: Any) -> list[dict[str, np.ndarray]]:
        board = board_class([12, 4, 6])
        board.schedule_capacity(stream[len(stream) // 3][0], 0, 10)
        board.schedule_capacity(stream[2 * len(stream) // 3][0], 0, 13)
        seen = []
        i = 0
        for stop in stops:
            while i < len(stream) and stream[i][0] <= stop:
                _admit(board, *stream[i])
                i += 1
            seen.append(board.advance(float(stop)))
        seen.append(board.stats())
        return seen

    a, b = play(PythonBoard), play(CompiledBoard)
    same = all(
        x.keys() == y.keys() and all(x[k].dtype == y[k].dtype and x[k].tobytes() == y[k].tobytes() for k in x)
        for x, y in zip(a, b)
    )
    return ("identical" if same else "DIFFERENT"), sum(len(x["time"]) for x in a[:-1])


def run_analytic_checks() -> AnalyticChecks:
    """Every analytic check on the active core (compiled, or the twin if it is not built)."""
    from flowsim._core import CORE, Board

    start = time.perf_counter()
    sizes = SIZES["compiled" if CORE == "compiled" else "python"]
    twins, events = twins_agree(sizes["twins"])
    return AnalyticChecks(
        erlang_c_checks(Board, sizes["erlang"]),
        erlang_b_checks(Board, sizes["erlang"]),
        little_checks(Board, sizes["little"]),
        twins,
        events,
        CORE,
        dict(sizes),
        time.perf_counter() - start,
    )
