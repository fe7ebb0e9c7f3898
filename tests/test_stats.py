"""Intervals and tests over seeds: by hand, against scipy, and on the committed reference runs."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from harness.metrics.stats import (
    bootstrap_mean,
    detectable_difference,
    holm,
    mean_interval,
    one_sample_pvalue,
    paired_bootstrap,
    share_interval,
    t_interval,
    two_sample_pvalue,
)


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


def test_t_interval_by_hand() -> None:
    # 0.1, 0.2, 0.3: mean 0.2, SD 0.1, t_{0.975, 2} = 4.302652730 (a printed t table)
    interval = t_interval([0.1, 0.2, 0.3])
    half = 4.302652730 * 0.1 / math.sqrt(3)
    assert (interval.mean, interval.low, interval.high) == pytest.approx(
        (0.2, 0.2 - half, 0.2 + half), abs=1e-9
    )
    assert interval.values == (0.1, 0.2, 0.3) and interval.n == 3
    assert (t_interval([0.25] * 4).low, t_interval([0.25] * 4).high) == (0.25, 0.25)
    assert (t_interval([0.4]).low, t_interval([0.4]).high) == (0.4, 0.4)
    assert mean_interval([0.1, 0.2, 0.3], "bootstrap") == bootstrap_mean([0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="unknown interval method 'z'; choose one of t, bootstrap"):
        mean_interval([0.1], "z")


def test_tests_agree_with_scipy_and_hand_computation() -> None:
    a, b = [0.30, 0.32, 0.31, 0.35], [0.20, 0.24, 0.19, 0.26]
    assert two_sample_pvalue(a, b, paired=True) == pytest.approx(stats.ttest_rel(a, b).pvalue)
    welch = stats.ttest_ind(a, b[:3], equal_var=False).pvalue
    assert two_sample_pvalue(a, b[:3], paired=False) == pytest.approx(welch, abs=1e-15)
    # one-sample on 2 df: t = (mean − c) / (SD / √3); P(|T| > t) = 1 − t / √(2 + t²)
    t = (0.2 - 0.1) / (0.1 / math.sqrt(3))
    assert one_sample_pvalue([0.1, 0.2, 0.3], 0.1) == pytest.approx(1 - t / math.sqrt(2 + t * t))
    # undefined: no spread, or a single value
    assert math.isnan(one_sample_pvalue([0.2, 0.2, 0.2], 0.1))
    assert math.isnan(two_sample_pvalue([0.3, 0.4], [0.2, 0.3], paired=True))  # equal gaps
    assert math.isnan(two_sample_pvalue([0.3], [0.2, 0.25], paired=False))


def test_holm_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 of m = 3: 3 · 0.01 = 0.03, 2 · 0.03 = 0.06, max(0.06, 0.04) = 0.06
    adjusted = holm([0.04, 0.01, math.nan, 0.03])
    assert adjusted[:2] == pytest.approx([0.06, 0.03], abs=1e-15)
    assert math.isnan(adjusted[2]) and adjusted[3] == pytest.approx(0.06, abs=1e-15)
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_detectable_difference_by_hand() -> None:
    # n = 5: t_{0.975, 4} = 2.776445105, t_{0.80, 4} = 0.940964577 (printed t tables)
    expected = (2.776445105 + 0.940964577) * 0.02 * math.sqrt(2 / 5)
    assert detectable_difference(0.02, 5, 0.05) == pytest.approx(expected, abs=1e-8)
    assert math.isnan(detectable_difference(0.02, 1, 0.05))


def test_trpo_gain_on_the_committed_reference_runs() -> None:
    """The issue's check: TRPO's Δ vs start over its five committed seeds reads [−0.009, +0.059]
    under t (the percentile bootstrap read [+0.003, +0.045])."""
    root = Path(__file__).resolve().parents[1] / "reports" / "reference" / "runs"
    gains = []
    for path in sorted((root / "summarization" / "trpo").glob("*/result.json")):
        result = json.loads(path.read_text())
        if result["role"] == "report":
            gains.append(
                result["eval_after"]["test"]["eval/reward"]
                - result["eval_before"]["test"]["eval/reward"]
            )
    assert len(gains) == 5
    interval = t_interval(gains)
    assert (interval.low, interval.high) == pytest.approx((-0.009, 0.059), abs=1e-3)
    assert bootstrap_mean(gains).low > 0  # the old interval excluded 0; t does not


def test_share_interval_is_wilsons_by_hand():
    """Wilson (1927): (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z = 1.959964."""
    z, n, k = 1.959963984540054, 150, 111  # dialogue's same_chat family: 74 % of 150 prompts
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    found = share_interval(k, n)
    assert found.mean == p and found.n == n
    assert found.low == pytest.approx(centre - half, abs=1e-9)
    assert found.high == pytest.approx(centre + half, abs=1e-9)
    everything = share_interval(158, 158)  # all wins: not a point at 100 %
    assert everything.high == pytest.approx(1.0) and everything.low == pytest.approx(
        158 / (158 + z * z), abs=1e-9
    )
