"""Intervals and tests for a handful of seeds (scipy.stats and numpy; no torch, so the reporter
can use them).

A leaderboard row has 3–10 seeds. At that size a percentile bootstrap of the mean is too narrow
(it treats the few values seen as the whole population and has no t tail), so the default
interval is Student's t over seeds; the bootstrap stays available. Tests are t tests: paired
where two rows share their seeds (same prompt order and evaluation streams), Welch's where the
seed sets differ, one-sample against a deterministic row (a number that does not vary by seed
is a constant, not n draws), and Holm's step-down correction over a table's family of tests.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CI_METHODS = ("t", "bootstrap")
CONFIDENCE = 0.95
POWER = 0.8  # the power at which a table's minimum detectable difference is stated


@dataclass(frozen=True)
class Interval:
    """A mean with a confidence interval over `n` values (kept in `values`, in input order)."""

    mean: float
    low: float
    high: float
    n: int
    values: tuple[float, ...] = ()

    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of zero."""
        return self.low > 0 or self.high < 0


def finite_values(values: Sequence[float]) -> np.ndarray:
    """`values` as a float array; ValueError when there are none."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("an interval needs at least one value")
    return data


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """Student-t CI of the mean: mean ± t_{(1+c)/2, n−1} · s/√n (a point for n = 1 or s = 0)."""
    data = finite_values(values)
    mean = float(data.mean())
    spread = float(data.std(ddof=1)) if data.size > 1 else 0.0
    if spread == 0.0:
        return Interval(mean, mean, mean, int(data.size), tuple(data.tolist()))
    low, high = stats.t.interval(
        confidence, data.size - 1, loc=mean, scale=spread / math.sqrt(data.size)
    )
    return Interval(mean, float(low), float(high), int(data.size), tuple(data.tolist()))


def share_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval:
    """Wilson score CI of a share of n yes/no outcomes (scipy's `binomtest`): it stays inside
    [0, 1] and is not a point at 0 % or 100 %, where a reward card's families often sit."""
    found = stats.binomtest(successes, n).proportion_ci(confidence, method="wilson")
    return Interval(successes / n, float(found.low), float(found.high), n)


def bootstrap_mean(
    values: Sequence[float], confidence: float = CONFIDENCE, resamples: int = 10_000, seed: int = 0
) -> Interval:
    """Percentile bootstrap CI of the mean (Efron & Tibshirani 1993, ch. 13)."""
    data = finite_values(values)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(
        float(data.mean()), float(low), float(high), int(data.size), tuple(data.tolist())
    )


def mean_interval(values: Sequence[float], method: str) -> Interval:
    """The CI of the mean by `method` (one of CI_METHODS)."""
    if method == "t":
        return t_interval(values)
    if method == "bootstrap":
        return bootstrap_mean(values)
    raise ValueError(f"unknown interval method {method!r}; choose one of {', '.join(CI_METHODS)}")


def paired_bootstrap(
    before: Sequence[float], after: Sequence[float], confidence: float = CONFIDENCE, seed: int = 0
) -> Interval:
    """CI of mean(after − before) over paired items (e.g. the same held-out prompts)."""
    if len(before) != len(after):
        raise ValueError(
            f"paired bootstrap needs equal lengths, got {len(before)} and {len(after)}"
        )
    diffs = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    return bootstrap_mean(diffs.tolist(), confidence=confidence, seed=seed)


def varies(values: Sequence[float]) -> bool:
    """True when at least two values differ by more than rounding (a t statistic needs a
    spread; sums of the same numbers in another order differ in the last bits)."""
    data = np.asarray(values, dtype=float)
    return data.size > 1 and float(np.ptp(data)) > 1e-12 * max(1.0, float(np.abs(data).max()))


def two_sample_pvalue(a: Sequence[float], b: Sequence[float], paired: bool) -> float:
    """Two-sided p of mean(a) = mean(b): paired t on a − b (same seeds, same order) or Welch's t.

    NaN where the test is undefined: fewer than 2 values, or no spread (a paired test whose
    differences are all equal, or two groups that are both constant).
    """
    if paired:
        if len(a) != len(b):
            raise ValueError(f"a paired test needs equal lengths, got {len(a)} and {len(b)}")
        diffs = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
        return float(stats.ttest_rel(a, b).pvalue) if varies(diffs.tolist()) else math.nan
    if min(len(a), len(b)) < 2 or not (varies(a) or varies(b)):
        return math.nan
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def one_sample_pvalue(values: Sequence[float], constant: float) -> float:
    """Two-sided p of mean(values) = constant (one-sample t); NaN without a spread."""
    return float(stats.ttest_1samp(values, constant).pvalue) if varies(values) else math.nan


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's (1979) step-down adjusted p-values, in input order; NaNs stay NaN, outside the family.

    Sorted ascending, p_(i) becomes max over j ≤ i of min(1, (m − j + 1) · p_(j)) for m tests.
    """
    order = [i for i in np.argsort(p_values, kind="stable") if math.isfinite(p_values[i])]
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def detectable_difference(spread: float, n: int, alpha: float, power: float = POWER) -> float:
    """The smallest true difference of two n-seed means a two-sided t test at `alpha` finds with
    probability `power`: (t_{1−α/2, n−1} + t_{power, n−1}) · SD · √(2/n); NaN for n < 2."""
    if n < 2:
        return math.nan
    quantiles = stats.t.ppf(1 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1)
    return float(quantiles * spread * math.sqrt(2 / n))
