"""Queueing-theory results the core is checked against: Erlang B and Erlang C (M/M/c).

`a = arrival rate × mean service time` is the offered load in erlangs; `c` the number of
servers (slots). Used by tests/test_core.py; plain Python so it needs nothing else.
"""

from __future__ import annotations


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
