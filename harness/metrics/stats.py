"""Bootstrap confidence intervals (numpy only, so the reporter can use them without torch)."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A mean with a percentile-bootstrap confidence interval."""

    mean: float
    low: float
    high: float
    n: int

    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of zero."""
        return self.low > 0 or self.high < 0


def bootstrap_mean(
    values: Sequence[float], confidence: float = 0.95, resamples: int = 10_000, seed: int = 0
) -> Interval:
    """Percentile bootstrap CI of the mean (Efron & Tibshirani 1993, ch. 13)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("bootstrap_mean needs at least one value")
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(float(data.mean()), float(low), float(high), int(data.size))


def paired_bootstrap(
    before: Sequence[float], after: Sequence[float], confidence: float = 0.95, seed: int = 0
) -> Interval:
    """CI of mean(after − before) over paired items (e.g. the same held-out prompts)."""
    if len(before) != len(after):
        raise ValueError(
            f"paired bootstrap needs equal lengths, got {len(before)} and {len(after)}"
        )
    diffs = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    return bootstrap_mean(diffs.tolist(), confidence=confidence, seed=seed)
