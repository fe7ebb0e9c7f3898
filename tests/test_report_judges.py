"""A judge beside the reward: its Δ column, the flag for a reward that rises while the judge does
not, and the judge against KL (learned-reward hacking the report must show)."""

import json
from pathlib import Path

import numpy as np
import pytest
from report_fixtures import make_run
from rich.console import Console
from scipy import stats

from reports.aggregate import build_tables
from reports.build import build_report
from reports.columns import columns, header
from reports.load import load_runs
from reports.matched import curve_points, kl_grid, row_kl_curve

JUDGE = "eval/judge_rm"


def with_judge(path: Path, before: float, after: float) -> None:
    """Give a fixture run a judge score on test before and after training."""
    result = json.loads((path / "result.json").read_text())
    result["eval_before"]["test"][JUDGE] = before
    result["eval_after"]["test"][JUDGE] = after
    (path / "result.json").write_text(json.dumps(result))


def test_delta_judge_column_and_the_hacking_flag(tmp_path: Path) -> None:
    judge_after = {"ppo": (0.51, 0.49, 0.50), "reinforce": (0.60, 0.62, 0.64)}
    rewards = {"ppo": (0.40, 0.42, 0.41), "reinforce": (0.30, 0.33, 0.31)}
    for algo, values in rewards.items():
        for seed, reward in enumerate(values):
            with_judge(make_run(tmp_path, algo, seed, reward), 0.5, judge_after[algo][seed])
    runs, _ = load_runs([tmp_path])
    (table,), _ = build_tables(runs, allow_mixed=False)
    rows = {row.label: row for row in table.rows}
    headers = [header(column) for column in columns(table)]
    assert headers[2:4] == ["Δ vs start ↑", "Δ judge_rm ↑"]
    gains = rows["ppo"].metrics["gain/judge_rm"]
    assert gains.values == tuple(value - 0.5 for value in judge_after["ppo"])
    # ppo: reward +0.31 (significant after Holm), judge ±0.01 around 0: flagged, with its p
    p = stats.ttest_1samp(gains.values, 0.0).pvalue
    (flag,) = [f for f in rows["ppo"].flags if "judge_rm does not" in f]
    assert f"p={p:.3f}" in flag and "reward rises significantly" in flag
    # reinforce: the judge rises too (+0.12, p < 0.05): no flag
    assert not any("judge_rm does not" in f for f in rows["reinforce"].flags)


def with_judge_curve(path: Path, scores: list[float]) -> None:
    """Give a fixture run's val curve a judge score at each evaluation, in update order."""
    result = json.loads((path / "result.json").read_text())
    for point, score in zip(result["eval_curve"], scores, strict=True):
        point[JUDGE] = score
    (path / "result.json").write_text(json.dumps(result))


def judged_runs(root: Path) -> None:
    """ppo seed 0 evaluated at KL 0, 0.01, 0.02 and seed 1 at 0, 0.02, 0.04 (make_run: start,
    half-way, end), the judge rising then falling on both; reinforce without a judge."""
    with_judge_curve(make_run(root, "ppo", 0, 0.4, kl=0.02), [0.5, 0.6, 0.4])
    with_judge_curve(make_run(root, "ppo", 1, 0.4, kl=0.04), [0.5, 0.7, 0.3])
    make_run(root, "reinforce", 0, 0.3, kl=0.02)


def test_judge_against_kl_is_read_like_the_reward(tmp_path: Path) -> None:
    judged_runs(tmp_path)
    runs, _ = load_runs([tmp_path])
    ppo = sorted((run for run in runs if run.algo == "ppo"), key=lambda run: run.seed)
    (reinforce,) = [run for run in runs if run.algo == "reinforce"]
    assert curve_points(ppo[0], key=JUDGE) == [(0.0, 0.5), (0.01, 0.6), (0.02, 0.4)]
    rewards = [reward for _, reward in curve_points(ppo[0])]  # the default key: the val reward
    assert rewards == pytest.approx([0.15, 0.3, 0.45], abs=1e-12)  # start, half-way, end
    grid = kl_grid(ppo, JUDGE)
    assert (grid[0], grid[-1]) == (0.0, pytest.approx(0.04, abs=1e-12))
    xs, intervals = row_kl_curve(ppo, np.array([0.005, 0.015, 0.03]), "t", JUDGE)
    assert xs.tolist() == [0.005, 0.015]  # seed 0's curve ends at KL 0.02: no reading at 0.03
    # KL 0.005: seed 0 0.5 + 0.5 · 0.1 = 0.55, seed 1 0.5 + 0.25 · 0.2 = 0.55
    # KL 0.015: seed 0 0.6 − 0.5 · 0.2 = 0.50, seed 1 0.5 + 0.75 · 0.2 = 0.65: mean 0.575,
    # half-width t_{0.975, 1} · SD/√2 = 12.7062047 · 0.075
    assert [i.mean for i in intervals] == pytest.approx([0.55, 0.575], abs=1e-12)
    half = 12.706204736 * 0.075
    assert (intervals[1].low, intervals[1].high) == pytest.approx((0.575 - half, 0.575 + half))
    assert curve_points(reinforce, key=JUDGE) == []  # a row without the judge is not drawn
    assert row_kl_curve((reinforce,), grid, "t", JUDGE)[1] == []


def test_a_judge_gets_a_figure_against_kl(tmp_path: Path) -> None:
    judged_runs(tmp_path / "runs")
    build_report([tmp_path / "runs"], tmp_path / "out", False, Console(quiet=True))
    png = (tmp_path / "out" / "summarization-kl_judge_rm.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    page = (tmp_path / "out" / "index.html").read_text()
    assert 'data-plot="kl_curve"' in page and 'data-plot="kl_judge_rm"' in page
    assert "while judge_rm falls is over-optimising its reward" in page
