"""Curve pooling over seeds and the reward–KL Pareto front used by the plots."""

from pathlib import Path

import numpy as np
import pytest

from reports.load import Run
from reports.plots import PASSES_AXIS, mean_curve, pareto


def run_with_curve(xs: list[float], ys: list[float], passes: list[float] | None = None) -> Run:
    """A Run that only carries a training curve of train/reward (and token passes if given)."""
    curve = tuple({"samples_seen": x, "train/reward": y} for x, y in zip(xs, ys, strict=True))
    if passes is not None:
        curve = tuple(
            point | {"forward_tokens": 3 * p / 4, "backward_tokens": p / 4}
            for point, p in zip(curve, passes, strict=True)
        )
    return Run(
        Path("."), ".", "t", "1", "a", "report", 0, "samples", True, {}, {}, {}, {}, (), curve
    )


def test_equal_grids_are_pooled_point_by_point() -> None:
    runs = (run_with_curve([32, 64], [0.1, 0.3]), run_with_curve([32, 64], [0.2, 0.5]))
    grid, intervals = mean_curve(runs, "train/reward", "t")
    assert grid.tolist() == [32, 64]
    assert [i.mean for i in intervals] == pytest.approx([0.15, 0.4], abs=1e-12)
    # 0.3 and 0.5: mean 0.4 ± t_{0.975, 1} · SD / √2 = 12.7062 · 0.1 (SD = 0.1 · √2)
    half = 12.706204736 * 0.1
    assert (intervals[1].low, intervals[1].high) == pytest.approx((0.4 - half, 0.4 + half))


def test_unequal_grids_are_interpolated_over_the_common_range() -> None:
    runs = (run_with_curve([0, 100, 200], [0.0, 1.0, 2.0]), run_with_curve([0, 100], [1.0, 1.0]))
    grid, intervals = mean_curve(runs, "train/reward", "t")
    assert grid[0] == 0 and grid[-1] == 100
    # run 1 is y = x / 100 on [0, 100], run 2 is constant 1: the mean is (x / 100 + 1) / 2.
    assert [i.mean for i in intervals] == pytest.approx(((grid / 100 + 1) / 2).tolist())
    assert np.all(np.diff(grid) > 0)


def test_pareto_keeps_points_not_beaten_on_both_axes() -> None:
    points = [(0.1, 0.2), (0.05, 0.1), (0.2, 0.15), (0.3, 0.4), (0.05, 0.05)]
    assert pareto(points) == [(0.05, 0.1), (0.1, 0.2), (0.3, 0.4)]


def test_compute_axis_is_forward_plus_backward_token_passes() -> None:
    runs = (
        run_with_curve([32, 64], [0.1, 0.3], passes=[1000, 2000]),
        run_with_curve([32, 64, 96], [0.2, 0.4, 0.6], passes=[1500, 3000, 4500]),
    )
    grid, intervals = mean_curve(runs, "train/reward", "t", PASSES_AXIS)
    # common range [1500, 2000]: run 1 is 0.1 + (x − 1000) · 0.2 / 1000, run 2 is x · 0.2 / 1500.
    assert (grid[0], grid[-1]) == (1500, 2000)
    expected = ((0.1 + (grid - 1000) * 0.0002) + grid * 0.2 / 1500) / 2
    assert [i.mean for i in intervals] == pytest.approx(expected.tolist(), abs=1e-12)
    # Points without token counts are left out of the compute axis, not put at 0.
    assert mean_curve((run_with_curve([32], [0.1]),), "train/reward", "t", PASSES_AXIS)[1] == []
