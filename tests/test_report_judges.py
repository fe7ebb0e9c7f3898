"""A judge beside the reward: its Δ column, and the flag for a reward that rises while the judge
does not (learned-reward hacking the report must show)."""

import json
from pathlib import Path

from report_fixtures import make_run
from scipy import stats

from reports.aggregate import build_tables
from reports.columns import columns, header
from reports.load import load_runs

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
