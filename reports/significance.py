"""A table's family of tests on the sampled test reward, Holm-adjusted together.

Each row is tested against the rank-1 row (`best`); each trained row's Δ vs start against 0
(`start`); each trained row against each deterministic anchor row such as lead-n (its label).
Which t test a pair gets follows from how its numbers were made (harness/metrics/stats.py):
runs of one seed share the prompt order and evaluation streams, so two rows with the same seeds
are paired; an anchor row that gives the same number for every seed is a constant.
"""

import math
from dataclasses import dataclass, replace

from harness.metrics.stats import holm, one_sample_pvalue, two_sample_pvalue

ALPHA = 0.05
BEST, START = "best", "start"
TEST_NAME = (
    "two-sided t tests over seeds on the sampled test reward: paired where two rows share their"
    " seeds (one seed's runs share the prompt order and evaluation streams), Welch's where the"
    " seed sets differ, one-sample against a deterministic row (lead-n gives one number for every"
    " seed: a constant, not n draws), and Δ vs start (each run's gain over its own start"
    " evaluation) against 0; p-values Holm-adjusted over the table's family of tests"
    f" (* adjusted p < {ALPHA})"
)


@dataclass(frozen=True)
class Sample:
    """One row's per-seed values of the tested metric; `constant`: a deterministic anchor row."""

    label: str
    seeds: tuple[int, ...]
    values: tuple[float, ...]
    constant: bool = False

    def by_seed(self) -> dict[int, float]:
        """Seed → value (only meaningful when no seed repeats)."""
        return dict(zip(self.seeds, self.values, strict=True))

    @property
    def distinct_seeds(self) -> bool:
        """True when no seed repeats, so the values can be paired by seed."""
        return len(set(self.seeds)) == len(self.seeds)


@dataclass(frozen=True)
class Comparison:
    """One test of the family: `row` against `against` (BEST, START or an anchor row's label)."""

    row: str
    against: str
    test: str
    p: float
    p_holm: float = math.nan

    @property
    def significant(self) -> bool:
        """True when the Holm-adjusted p is below ALPHA (False when the test is undefined)."""
        return self.p_holm < ALPHA

    def cell(self) -> str:
        """`p=0.012 *`, `p=0.333 n.s.` (adjusted p), or `n/a` when the test is undefined (too
        few seeds, or no spread; CSV and JSON keep the test's name)."""
        if not math.isfinite(self.p):
            return "n/a"
        return f"p={self.p_holm:.3f} " + ("*" if self.significant else "n.s.")


def compare(a: Sample, b: Sample) -> tuple[str, float]:
    """(test name, two-sided p) of mean(a) = mean(b), the test chosen by how the rows were made."""
    if a.constant and b.constant:
        return "both deterministic: the difference is exact", math.nan
    if a.constant or b.constant:
        varying, constant = (b, a) if a.constant else (a, b)
        return "one-sample t", one_sample_pvalue(varying.values, constant.values[0])
    if a.distinct_seeds and b.distinct_seeds and set(a.seeds) == set(b.seeds):
        seeds = sorted(a.seeds)
        x, y = a.by_seed(), b.by_seed()
        pairs = [x[seed] for seed in seeds], [y[seed] for seed in seeds]
        return "paired t", two_sample_pvalue(*pairs, paired=True)
    return "Welch's t", two_sample_pvalue(a.values, b.values, paired=False)


def gain_test(row: str, gains: tuple[float, ...]) -> Comparison:
    """A trained row's Δ vs start (per-seed gains) against 0: a one-sample (paired) t test."""
    return Comparison(row, START, "paired t on Δ vs start", one_sample_pvalue(gains, 0.0))


def family(
    rewards: list[Sample], gains: dict[str, tuple[float, ...]], best: str
) -> list[Comparison]:
    """Every test of one table, Holm-adjusted together.

    rewards: every row's per-seed test rewards; gains: each trained row's per-seed Δ vs start;
    best: the rank-1 row's label.
    """
    by_label = {sample.label: sample for sample in rewards}
    tests = [
        Comparison(sample.label, BEST, *compare(sample, by_label[best]))
        for sample in rewards
        if sample.label != best
    ]
    tests += [gain_test(label, values) for label, values in gains.items()]
    constants = [sample for sample in rewards if sample.constant]
    tests += [
        Comparison(label, constant.label, *compare(by_label[label], constant))
        for label in gains
        for constant in constants
    ]
    adjusted = holm([test.p for test in tests])
    return [replace(test, p_holm=p) for test, p in zip(tests, adjusted, strict=True)]


def family_size(tests: list[Comparison]) -> int:
    """How many tests of the family were defined (the m of Holm's correction)."""
    return sum(math.isfinite(test.p) for test in tests)
