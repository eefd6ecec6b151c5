"""Output statistics of a simulation: intervals over replications, paired differences,
batch means of one long run, and how many replications a precision needs.

Every interval is a Student t interval, ``mean ± t(1 − α/2, n − 1) · s / √n``, over `n`
independent observations: replications, paired differences of replications, or batch
means. A NaN among the values makes the result NaN (never silently dropped), so a KPI
undefined in one replication shows as undefined, not as a narrower interval.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Interval",
    "PairedDifference",
    "ReplicationsNeeded",
    "batch_means",
    "mean_ci",
    "paired_difference",
    "replications_needed",
    "replications_projected",
    "t_quantile",
]

DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean with its t interval over `n` independent observations.

    `half_width` and `standard_error` are NaN when `n` < 2 (no spread to measure).
    """

    mean: float
    standard_error: float
    half_width: float
    n: int
    confidence: float = DEFAULT_CONFIDENCE

    @property
    def lower(self) -> float:
        return self.mean - self.half_width

    @property
    def upper(self) -> float:
        return self.mean + self.half_width

    @property
    def degrees_of_freedom(self) -> int:
        return self.n - 1

    @property
    def relative_half_width(self) -> float:
        """Half-width as a fraction of |mean| (inf when the mean is 0): the precision."""
        if math.isnan(self.half_width) or math.isnan(self.mean):
            return math.nan
        return self.half_width / abs(self.mean) if self.mean != 0 else math.inf

    def contains(self, value: float) -> bool:
        return bool(self.lower <= value <= self.upper)


@dataclass(frozen=True)
class PairedDifference:
    """Mean of the paired differences a − b, its t interval, and the two-sided p-value of
    the paired t test (no difference)."""

    difference: Interval
    p_value: float

    @property
    def significant(self) -> bool:
        """True if the interval excludes 0 (p < 1 − confidence)."""
        return bool(self.difference.lower > 0.0 or self.difference.upper < 0.0)


@dataclass(frozen=True)
class ReplicationsNeeded:
    """The confidence-interval method's answer: `n` replications (None if the values given
    never reach the precision), and the relative half-width after each replication
    (`relative_half_widths[k]` is for the first k + 1; NaN for one)."""

    n: int | None
    precision: float
    confidence: float
    relative_half_widths: tuple[float, ...]


def _values(values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{what}: expected a one-dimensional sequence of numbers")
    if x.size == 0:
        raise ValueError(f"{what}: no values")
    return x


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")


@functools.lru_cache(maxsize=4096)
def t_quantile(confidence: float, degrees_of_freedom: int) -> float:
    """The two-sided Student t critical value: t(1 − α/2, dof) with α = 1 − confidence.

    Cached: a comparison asks for the same few values thousands of times, and each scipy
    call costs about a tenth of a millisecond.
    """
    from scipy import stats

    _check_confidence(confidence)
    return float(stats.t.ppf(0.5 + confidence / 2.0, degrees_of_freedom))


def _interval(x: np.ndarray, confidence: float) -> Interval:
    n = int(x.size)
    mean = float(np.mean(x))
    if n < 2 or math.isnan(mean):
        return Interval(mean, math.nan, math.nan, n, confidence)
    se = float(np.std(x, ddof=1)) / math.sqrt(n)
    return Interval(mean, se, t_quantile(confidence, n - 1) * se, n, confidence)


def mean_ci(values: Sequence[float] | np.ndarray, confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Mean of independent replications and its t interval."""
    _check_confidence(confidence)
    return _interval(_values(values, "mean_ci"), confidence)


def paired_difference(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    confidence: float = DEFAULT_CONFIDENCE,
) -> PairedDifference:
    """Mean paired difference a − b over replications run with common random numbers
    (replication k of `a` beside replication k of `b`), with its t interval.

    Pairing removes the noise the two scenarios share, so the interval is narrower than
    that of the difference of two independent means whenever the pairs are correlated.
    """
    from scipy import stats

    _check_confidence(confidence)
    x, y = _values(a, "paired_difference"), _values(b, "paired_difference")
    if x.shape != y.shape:
        raise ValueError(f"paired_difference: {x.size} values against {y.size}; pairs need equal counts")
    interval = _interval(x - y, confidence)
    if interval.n < 2 or math.isnan(interval.mean):
        p = math.nan
    elif interval.standard_error == 0.0:
        p = 1.0 if interval.mean == 0.0 else 0.0
    else:
        t = interval.mean / interval.standard_error
        p = float(2.0 * stats.t.sf(abs(t), interval.n - 1))
    return PairedDifference(interval, p)


def batch_means(
    values: Sequence[float] | np.ndarray,
    n_batches: int = 20,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Interval:
    """Mean of one long run and its t interval from the means of `n_batches` consecutive
    batches (values in time order; drop the warm-up first).

    Batches long enough to be nearly independent make the batch means a fair sample;
    `n` of the result is the number of batches. Batches differ by at most one value in
    length when the values do not divide evenly.
    """
    _check_confidence(confidence)
    x = _values(values, "batch_means")
    if n_batches < 2:
        raise ValueError(f"batch_means: need at least 2 batches, got {n_batches}")
    if x.size < n_batches:
        raise ValueError(f"batch_means: {x.size} values cannot fill {n_batches} batches")
    means = np.array([batch.mean() for batch in np.array_split(x, n_batches)])
    return _interval(means, confidence)


def replications_needed(
    values: Sequence[float] | np.ndarray,
    precision: float = 0.05,
    confidence: float = DEFAULT_CONFIDENCE,
    *,
    min_replications: int = 3,
    look_ahead: int = 0,
) -> ReplicationsNeeded:
    """The confidence-interval method (Hoad, Robinson and Davies 2010): the smallest n,
    at least `min_replications`, whose t interval over the first n replications has a
    half-width below `precision` × |mean|.

    `values` are one KPI of replications 0, 1, 2, ... in order. With `look_ahead` k > 0,
    the precision must also hold after each of the next k replications (their
    replications algorithm), so that a lucky early n is not taken; values too few to
    look that far ahead give None.
    """
    _check_confidence(confidence)
    if not precision > 0.0:
        raise ValueError(f"precision must be above 0, got {precision!r}")
    if min_replications < 2 or look_ahead < 0:
        raise ValueError("need min_replications >= 2 and look_ahead >= 0")
    x = _values(values, "replications_needed")
    widths = tuple(
        math.nan if n < 2 else _interval(x[:n], confidence).relative_half_width for n in range(1, x.size + 1)
    )
    good = [w <= precision for w in widths]  # NaN compares False
    answer = None
    for n in range(min_replications, x.size - look_ahead + 1):
        if all(good[n - 1 : n + look_ahead]):
            answer = n
            break
    return ReplicationsNeeded(answer, precision, confidence, widths)


def replications_projected(
    values: Sequence[float] | np.ndarray,
    precision: float = 0.05,
    confidence: float = DEFAULT_CONFIDENCE,
    *,
    min_replications: int = 3,
) -> int | None:
    """How many replications the precision would need if the mean and standard deviation
    of the replications so far held: the smallest n, at least `min_replications`, with
    ``t(1 − α/2, n − 1) · s / √n <= precision × |mean|``.

    The estimate to plan by when `replications_needed` has not yet reached the precision
    (run that many, then check again). None when it cannot be told: fewer than 2 values,
    a NaN among them, or a mean of 0.
    """
    _check_confidence(confidence)
    if not precision > 0.0:
        raise ValueError(f"precision must be above 0, got {precision!r}")
    if min_replications < 2:
        raise ValueError("need min_replications >= 2")
    x = _values(values, "replications_projected")
    if x.size < 2 or np.isnan(x).any():
        return None
    mean, sd = float(np.mean(x)), float(np.std(x, ddof=1))
    if mean == 0.0:  # a precision relative to a mean of 0 means nothing
        return None
    if sd == 0.0:
        return min_replications
    ratio = sd / (precision * abs(mean))
    # The normal quantile gives a lower bound (t > z); t falls towards z as n grows, so the
    # search from there takes a few steps.
    from scipy import stats

    n = max(min_replications, math.ceil((float(stats.norm.ppf(0.5 + confidence / 2.0)) * ratio) ** 2))
    while t_quantile(confidence, n - 1) * ratio > math.sqrt(n):
        n += 1
    return n
