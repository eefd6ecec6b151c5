"""flowsim.stats: the t intervals every report and comparison shares, against scipy and
figures worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from flowsim.stats import (
    batch_means,
    mean_ci,
    paired_difference,
    replications_needed,
    replications_projected,
    t_quantile,
)

pytestmark = pytest.mark.unit


def test_mean_ci_by_hand():
    """Five replications 10, 12, 11, 13, 9: mean 11, s = √2.5, t(0.975, 4) = 2.776445."""
    ci = mean_ci([10.0, 12.0, 11.0, 13.0, 9.0])
    se = math.sqrt(2.5) / math.sqrt(5)
    assert ci.mean == 11.0 and ci.n == 5 and ci.degrees_of_freedom == 4
    assert ci.standard_error == pytest.approx(se, rel=1e-12)
    assert ci.half_width == pytest.approx(2.776445105 * se, rel=1e-9)
    assert (ci.lower, ci.upper) == pytest.approx((9.036757, 12.963243), abs=1e-6)
    assert ci.relative_half_width == pytest.approx(ci.half_width / 11.0)
    assert ci.contains(11.0) and not ci.contains(13.0)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=30),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_mean_ci_matches_scipy(values, confidence):
    x = np.asarray(values)
    ci = mean_ci(x, confidence)
    sem = sps.sem(x)
    if sem == 0.0:
        assert ci.half_width == 0.0 and ci.lower == ci.upper == pytest.approx(x.mean())
        return
    lo, hi = sps.t.interval(confidence, x.size - 1, loc=x.mean(), scale=sem)
    assert (ci.lower, ci.upper) == pytest.approx((lo, hi), rel=1e-9, abs=1e-9)


def test_one_replication_has_a_mean_and_no_interval():
    ci = mean_ci([4.2])
    assert ci.mean == 4.2 and ci.n == 1
    assert math.isnan(ci.half_width) and math.isnan(ci.lower) and math.isnan(ci.upper)


def test_a_nan_replication_makes_the_result_nan_rather_than_being_dropped():
    ci = mean_ci([1.0, float("nan"), 3.0])
    assert ci.n == 3 and math.isnan(ci.mean) and math.isnan(ci.lower)


@pytest.mark.parametrize(
    "call",
    [
        lambda: mean_ci([]),
        lambda: mean_ci([[1.0, 2.0]]),
        lambda: mean_ci([1.0, 2.0], confidence=95),
        lambda: paired_difference([1.0, 2.0], [1.0]),
        lambda: batch_means([1.0, 2.0, 3.0], n_batches=4),
        lambda: batch_means([1.0, 2.0, 3.0], n_batches=1),
        lambda: replications_needed([1.0, 2.0, 3.0], precision=0.0),
        lambda: replications_projected([1.0, 2.0, 3.0], precision=-0.1),
        lambda: replications_projected([1.0, 2.0, 3.0], min_replications=1),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_paired_difference_matches_scipy_paired_t_test_and_beats_unpaired():
    """Common random numbers: two scenarios share most of their noise, so the paired
    interval is far narrower than the interval of either mean."""
    rng = np.random.default_rng(7)
    shared = rng.normal(100.0, 5.0, 10)
    a = shared + rng.normal(0.0, 0.5, 10)
    b = shared - 1.0 + rng.normal(0.0, 0.5, 10)
    result = paired_difference(a, b)
    d = a - b
    lo, hi = sps.t.interval(0.95, 9, loc=d.mean(), scale=sps.sem(d))
    assert result.difference.mean == pytest.approx(d.mean())
    assert (result.difference.lower, result.difference.upper) == pytest.approx((lo, hi))
    assert result.p_value == pytest.approx(sps.ttest_rel(a, b).pvalue)
    assert result.significant
    assert result.difference.half_width < 0.2 * mean_ci(a).half_width


def test_paired_difference_of_identical_runs_is_exactly_zero():
    result = paired_difference([3.0, 4.0, 5.0], [3.0, 4.0, 5.0])
    assert result.difference.mean == 0.0 and result.difference.half_width == 0.0
    assert result.p_value == 1.0 and not result.significant


def test_batch_means_by_hand():
    """Twelve values in 4 batches of 3: batch means 2, 5, 8, 11; mean 6.5, s = √15."""
    ci = batch_means(np.arange(1.0, 13.0), n_batches=4)
    assert ci.n == 4 and ci.mean == 6.5
    assert ci.standard_error == pytest.approx(math.sqrt(15.0) / 2.0)
    assert ci.half_width == pytest.approx(sps.t.ppf(0.975, 3) * math.sqrt(15.0) / 2.0)


def test_batch_means_covers_the_mean_of_an_autocorrelated_series():
    """An AR(1) series with mean 5: the batch-means interval holds it, and is wider than
    the (wrong) interval that treats every value as independent."""
    rng = np.random.default_rng(3)
    x = np.empty(20_000)
    x[0] = 5.0
    for i in range(1, x.size):
        x[i] = 5.0 + 0.9 * (x[i - 1] - 5.0) + rng.normal()
    ci = batch_means(x, n_batches=20)
    assert ci.contains(5.0)
    assert ci.half_width > 2.0 * mean_ci(x).half_width


def test_replications_needed_is_the_first_n_below_the_precision():
    """Relative half-widths by hand, t·s/√n/mean: n = 3 (10, 11, 11) → 4.303·0.3333/10.667 =
    0.1345; n = 4 → 3.182·0.2887/10.5 = 0.0875; n = 5 → 2.776·0.2449/10.6 = 0.0642;
    n = 6 → 2.571·0.2028/10.633 = 0.0490."""
    values = [10.0, 11.0, 11.0, 10.0, 11.0, 10.8]
    result = replications_needed(values, precision=0.06)
    assert result.n == 6
    widths = result.relative_half_widths
    assert math.isnan(widths[0]) and len(widths) == len(values)
    assert widths[2:] == pytest.approx([0.1345, 0.0875, 0.0642, 0.0490], abs=5e-4)
    assert replications_needed(values, precision=0.07).n == 5
    assert replications_needed(values, precision=0.1).n == 4
    assert replications_needed(values, precision=0.01).n is None


def test_replications_needed_look_ahead_refuses_a_lucky_early_n():
    """Three nearly equal first replications meet 5% by luck and the fourth breaks it.
    Without look-ahead the answer is 3; with a look-ahead of 2 it is the first n from which
    the precision holds three replications running (n = 9 gives 5.002%, n = 10 4.43%)."""
    values = [10.0, 10.01, 10.02, 12.0] + [10.0] * 12
    assert replications_needed(values, precision=0.05).n == 3
    assert replications_needed(values, precision=0.05, look_ahead=2).n == 10
    assert replications_needed(values[:11], precision=0.05, look_ahead=2).n is None


def test_replications_projected_by_hand():
    """The same six replications: mean 10.633, s = 0.4967. For ±6%, s / (0.06 · mean) =
    0.7785; n = 4 gives 3.182 · 0.7785 = 2.48 > √4, n = 5 gives 2.776 · 0.7785 = 2.16 <= √5.
    Where the replications already reach the precision, the projection agrees with them."""
    values = [10.0, 11.0, 11.0, 10.0, 11.0, 10.8]
    assert replications_projected(values, precision=0.06) == 5
    assert (
        replications_projected(values, precision=0.05) == replications_needed(values, precision=0.05).n == 6
    )
    assert replications_projected(values, precision=0.01) == 87  # 6 are far from enough


def test_replications_projected_cannot_tell_without_a_spread_or_a_mean():
    assert replications_projected([4.0]) is None
    assert replications_projected([1.0, float("nan"), 3.0]) is None
    assert replications_projected([-1.0, 1.0]) is None  # ±5% of a mean of 0 means nothing
    assert replications_projected([2.0, 2.0, 2.0]) == 3  # no spread: the fewest allowed


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(1.0, 100.0), min_size=2, max_size=12),
    st.sampled_from([0.01, 0.05, 0.2]),
    st.sampled_from([0.9, 0.95]),
)
def test_replications_projected_is_the_smallest_n_that_would_do(values, precision, confidence):
    x = np.asarray(values)
    n = replications_projected(x, precision, confidence)
    ratio = x.std(ddof=1) / (precision * x.mean())
    assert n is not None and n >= 3

    def enough(k: int) -> bool:
        return t_quantile(confidence, k - 1) * ratio <= math.sqrt(k) * (1 + 1e-12)

    assert enough(n) and (n == 3 or not enough(n - 1))
