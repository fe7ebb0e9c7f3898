"""Reward at matched KL: every trained run's val reward where its val KL first reaches KL*.

Rows that end at different KL to the reference are hard to compare by reward alone; reading
each run's val curve at one KL that all of them reached puts them on the same footing.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from reports.load import Run

KL_KEY = "eval/kl_exact"
REWARD_KEY = "eval/reward"


@dataclass(frozen=True)
class MatchedKL:
    """KL* of one table (per-token exact KL on val, nats) or why there is none."""

    kl: float | None
    why: str = ""

    @property
    def usable(self) -> bool:
        """True when KL* exists and is above 0, so the rewards at KL* mean something."""
        return self.kl is not None and self.kl > 0


def curve_points(run: Run) -> list[tuple[float, float]]:
    """(exact KL, sampled reward) of a run's val evaluations in update order (finite ones)."""
    ordered = sorted(run.eval_curve, key=lambda point: point.get("update", math.inf))
    pairs = [(point.get(KL_KEY, math.nan), point.get(REWARD_KEY, math.nan)) for point in ordered]
    return [(kl, reward) for kl, reward in pairs if math.isfinite(kl) and math.isfinite(reward)]


def matched_kl(runs: Sequence[Run]) -> MatchedKL:
    """KL* = min over trained runs of the largest val KL along the run's eval curve."""
    trained = [run for run in runs if not run.baseline]
    if not trained:
        return MatchedKL(None, "no trained runs")
    peaks = []
    for run in trained:
        points = curve_points(run)
        if not points:
            return MatchedKL(None, f"trained run {run.path.name} has no val eval curve")
        peaks.append(max(kl for kl, _ in points))
    if min(peaks) <= 0:
        return MatchedKL(0.0, "a trained run's val KL never rose above 0")
    return MatchedKL(min(peaks))


def reward_at_kl(points: Sequence[tuple[float, float]], target: float) -> float:
    """The reward where the curve first reaches KL `target`, linear in KL on that segment."""
    for index, (kl, reward) in enumerate(points):
        if kl < target:
            continue
        if index == 0:
            return reward
        # The previous point is below the target (this is the first one at or above it).
        prev_kl, prev_reward = points[index - 1]
        share = (target - prev_kl) / (kl - prev_kl)
        return prev_reward + share * (reward - prev_reward)
    peak = max((kl for kl, _ in points), default=math.nan)
    raise ValueError(f"the eval curve never reaches KL {target} (its largest KL is {peak})")


def run_reward_at(run: Run, matched: MatchedKL) -> float:
    """A trained run's val reward at KL* (NaN for baselines or when KL* is not usable)."""
    if run.baseline or not matched.usable or matched.kl is None:
        return math.nan
    return reward_at_kl(curve_points(run), matched.kl)


def matched_line(matched: MatchedKL) -> str:
    """The note under a table stating KL* (or why the matched-KL column is n/a)."""
    if not matched.usable or matched.kl is None:
        return f"Matched KL: n/a ({matched.why}); the 'val reward @ matched KL' column is n/a."
    return (
        f"Matched KL: {matched.kl:.4g} nats/token, the largest every trained run reached on val;"
        " baseline rows excluded."
    )
