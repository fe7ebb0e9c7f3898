"""Bootstrap intervals: degenerate cases by hand, and agreement with a direct resampling."""

import numpy as np
import pytest

from harness.metrics.stats import bootstrap_mean, paired_bootstrap


def test_constant_values_give_a_point_interval():
    interval = bootstrap_mean([0.25] * 10)
    assert (interval.mean, interval.low, interval.high, interval.n) == (0.25, 0.25, 0.25, 10)


def test_interval_equals_direct_percentile_bootstrap():
    values = [0.1, 0.4, 0.35, 0.8, 0.2, 0.05]
    rng = np.random.default_rng(7)
    means = np.asarray(values)[rng.integers(0, 6, size=(10_000, 6))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    interval = bootstrap_mean(values, seed=7)
    assert interval.mean == pytest.approx(np.mean(values), abs=1e-12)
    assert (interval.low, interval.high) == pytest.approx((low, high), abs=1e-12)


def test_paired_bootstrap_uses_differences():
    before, after = [0.1, 0.2, 0.3], [0.2, 0.3, 0.4]
    interval = paired_bootstrap(before, after)
    assert (interval.mean, interval.low, interval.high) == pytest.approx((0.1, 0.1, 0.1))
    assert interval.excludes_zero()
    with pytest.raises(ValueError, match="equal lengths"):
        paired_bootstrap([1.0], [1.0, 2.0])
