"""Reward at matched KL: every trained run's val reward where its val curve crosses KL*.

Rows that end at different KL to the reference are hard to compare by reward alone; reading
each run's val curve at one KL puts them on the same footing. The reading must rest on the
run's own training: a segment from the shared start point (update 0) would make every row read
≈ start + (KL* / KL at its next point) × its gain, so only segments whose two ends both come
after update 0 count, and KL* is chosen where every trained run has such a segment.

The curve functions read the val reward by default and any other key of the eval curve on
request: a judge's score read on the same KL grid is the over-optimisation picture, a reward
that keeps rising with KL while the judge falls.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.metrics.stats import Interval, mean_interval
from reports.load import Run

KL_KEY = "eval/kl_exact"
REWARD_KEY = "eval/reward"
Point = tuple[float, float]  # (exact KL, sampled reward or a judge's score) of a val evaluation
KL_GRID_POINTS = 200  # the KLs at which the report's reward–KL curves are read (no markers)


@dataclass(frozen=True)
class MatchedKL:
    """KL* of one table (per-token exact KL on val, nats) or why there is none."""

    kl: float | None
    why: str = ""
    low: float | None = None  # the KL range every trained run's trained segments cover
    high: float | None = None

    @property
    def usable(self) -> bool:
        """True when KL* exists and is above 0, so the rewards at KL* mean something."""
        return self.kl is not None and self.kl > 0


def curve_points(run: Run, after_start: bool = False, key: str = REWARD_KEY) -> list[Point]:
    """(exact KL, sampled reward, or `key`) of a run's val evaluations in update order (finite
    ones); with `after_start`, only those after update 0."""
    ordered = sorted(run.eval_curve, key=lambda point: point.get("update", math.inf))
    if after_start:
        ordered = [point for point in ordered if point.get("update", math.inf) > 0]
    pairs = [(point.get(KL_KEY, math.nan), point.get(key, math.nan)) for point in ordered]
    return [(kl, value) for kl, value in pairs if math.isfinite(kl) and math.isfinite(value)]


def matched_kl(runs: Sequence[Run]) -> MatchedKL:
    """KL* = the middle of the KL range that every trained run's curve after update 0 covers.

    A run's segments after update 0 cover [its smallest, its largest] val KL from update 1 on
    (the curve is continuous), so the common range is [max of the smallest, min of the largest].
    Its middle is a KL that no single run's extreme point sets.
    """
    trained = [run for run in runs if run.trained]
    if not trained:
        return MatchedKL(None, "no trained runs")
    ranges = []
    for run in trained:
        kls = [kl for kl, _ in curve_points(run, after_start=True)]
        if len(kls) < 2:
            why = f"trained run {run.name} has {len(kls)} val evaluation(s) after update 0"
            return MatchedKL(None, f"{why}; a reading needs two (set eval.every)")
        ranges.append((min(kls), max(kls), run.name))
    low = max(ranges, key=lambda r: r[0])
    high = min(ranges, key=lambda r: r[1])
    if low[0] > high[1]:
        why = (
            f"no KL lies on every trained run's val curve after update 0: {low[2]} stays above"
            f" {low[0]:.4g} while {high[2]} stays below {high[1]:.4g}"
        )
        return MatchedKL(None, why)
    if high[1] <= 0:
        return MatchedKL(0.0, "a trained run's val KL never rose above 0", 0.0, 0.0)
    return MatchedKL((low[0] + high[1]) / 2, "", low[0], high[1])


def reward_at_kl(points: Sequence[Point], target: float) -> float:
    """The reward where the curve first crosses KL `target`, linear in KL on that segment
    (a point exactly at `target` is read as it is)."""
    for (kl_a, reward_a), (kl_b, reward_b) in zip(points, points[1:], strict=False):
        if min(kl_a, kl_b) <= target <= max(kl_a, kl_b):
            if kl_a == kl_b:
                return reward_a
            return reward_a + (target - kl_a) / (kl_b - kl_a) * (reward_b - reward_a)
    if len(points) == 1 and points[0][0] == target:
        return points[0][1]
    shown = ", ".join(f"{kl:.4g}" for kl, _ in points)
    raise ValueError(f"the eval curve never crosses KL {target} (its KLs: {shown})")


def run_reward_at(run: Run, matched: MatchedKL) -> float:
    """A trained run's val reward at KL* (NaN for other runs or when KL* is not usable)."""
    if not run.trained or not matched.usable or matched.kl is None:
        return math.nan
    return reward_at_kl(curve_points(run, after_start=True), matched.kl)


def matched_line(matched: MatchedKL) -> str:
    """The note under a table stating KL* (or why the matched-KL column is n/a)."""
    if not matched.usable or matched.kl is None:
        return f"Matched KL: n/a ({matched.why}); the 'val reward @ matched KL' column is n/a."
    return (
        f"Matched KL: {matched.kl:.4g} nats/token, the middle of [{matched.low:.4g},"
        f" {matched.high:.4g}], the val KL range every trained run's curve crosses after update"
        " 0; anchor rows excluded."
    )


def kl_grid(runs: Sequence[Run], key: str = REWARD_KEY) -> np.ndarray:
    """KL_GRID_POINTS KLs from the largest first-evaluation KL of `runs` (≈ 0 at update 0: a
    KL every curve starts from) to their largest val KL, over the evaluations that have `key`;
    empty if that is not above 0."""
    curves = [points for points in (curve_points(run, key=key) for run in runs) if points]
    if not curves:
        return np.array([])
    first, peak = max(c[0][0] for c in curves), max(kl for c in curves for kl, _ in c)
    return np.linspace(first, peak, KL_GRID_POINTS) if peak > first else np.array([])


def row_kl_curve(
    runs: Sequence[Run], grid: np.ndarray, ci: str, key: str = REWARD_KEY
) -> tuple[np.ndarray, list[Interval]]:
    """A row's mean val reward, or `key` (and CI over its runs), at each KL of `grid` that every
    run's whole val curve (update 0 on) crosses; each run read where it first crosses that KL."""
    curves = [curve_points(run, key=key) for run in runs]
    kept, intervals = [], []
    for kl in grid:
        try:
            readings = [reward_at_kl(points, float(kl)) for points in curves]
        except ValueError:  # a run's curve does not reach this KL: no mean over the same runs
            continue
        kept.append(kl)
        intervals.append(mean_interval(readings, ci))
    return np.array(kept), intervals
