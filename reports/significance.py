"""Permutation test over seeds: is a row's mean different from the best row's mean?"""

import itertools
import math
from collections.abc import Sequence

import numpy as np

ALPHA = 0.05
TEST_NAME = "two-sided permutation test over seeds (exact up to 20,000 splits), α = 0.05"


def permutation_pvalue(
    a: Sequence[float], b: Sequence[float], max_splits: int = 20_000, seed: int = 0
) -> float:
    """p-value of |mean(a) − mean(b)| under random relabelling of the pooled values.

    Exact (every split of the pooled values into groups of len(a) and len(b)) when there are at
    most `max_splits` splits; otherwise `max_splits` random splits with the (k + 1) / (N + 1)
    estimate (Phipson & Smyth 2010). No distributional assumption, which suits a handful of seeds.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size == 0 or y.size == 0:
        raise ValueError(f"permutation test needs values in both groups, got {x.size}, {y.size}")
    pooled = np.concatenate([x, y])
    observed = abs(x.mean() - y.mean())
    # A small slack so that splits tying the observed difference count despite rounding.
    slack = 1e-12 * max(1.0, float(np.abs(pooled).max()))
    if math.comb(pooled.size, x.size) <= max_splits:
        picks = np.array(list(itertools.combinations(range(pooled.size), x.size)))
        in_a = np.zeros((len(picks), pooled.size), dtype=bool)
        np.put_along_axis(in_a, picks, True, axis=1)
        diffs = mean_diffs(pooled, in_a)
        return float(np.mean(diffs >= observed - slack))
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((max_splits, pooled.size)), axis=1)
    in_a = np.zeros((max_splits, pooled.size), dtype=bool)
    np.put_along_axis(in_a, order[:, : x.size], True, axis=1)
    hits = int(np.sum(mean_diffs(pooled, in_a) >= observed - slack))
    return (hits + 1) / (max_splits + 1)


def mean_diffs(pooled: np.ndarray, in_a: np.ndarray) -> np.ndarray:
    """|mean of the values marked in `in_a` − mean of the others|, one per row of `in_a`."""
    n_a = in_a.sum(axis=1)
    sum_a = (in_a * pooled).sum(axis=1)
    return np.abs(sum_a / n_a - (pooled.sum() - sum_a) / (pooled.size - n_a))


def smallest_pvalue(n_a: int, n_b: int) -> float:
    """The smallest p-value the exact test can reach with these group sizes."""
    # With equal sizes the most extreme split and its mirror image tie, so two splits count.
    extreme = 2 if n_a == n_b else 1
    return min(1.0, extreme / math.comb(n_a + n_b, n_a))
