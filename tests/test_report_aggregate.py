"""Leaderboard numbers from synthetic runs with known values: means, CIs, ranks, tests, flags."""

import csv
import io
import json

import numpy as np
import pytest
from report_fixtures import make_run

from harness.metrics.stats import bootstrap_mean
from reports.aggregate import build_tables
from reports.load import load_runs
from reports.significance import permutation_pvalue, smallest_pvalue
from reports.tables import csv_text, json_text, markdown

PPO = (0.30, 0.32, 0.31)
REINFORCE = (0.20, 0.22, 0.21)
TRPO = (0.25, 0.27)


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> list:
    """ppo × 3 seeds, reinforce × 3 seeds, trpo × 2 seeds (one interrupted)."""
    root = tmp_path_factory.mktemp("runs")
    for seed, (ppo, reinforce) in enumerate(zip(PPO, REINFORCE, strict=True)):
        make_run(root, "ppo", seed, ppo, kl=0.02 + seed / 100)
        make_run(root, "reinforce", seed, reinforce, kl=0.01)
    make_run(root, "trpo", 0, TRPO[0], kl=0.015)
    make_run(root, "trpo", 1, TRPO[1], kl=0.017, stop_reason="interrupted")
    runs, skipped = load_runs([root])
    assert skipped == []
    built, warnings = build_tables(runs, allow_mixed=False)
    assert warnings == ["'summarization' row 'trpo': 1/2 stopped early (seed 1: interrupted)"]
    return built


def rows_by_label(tables: list) -> dict:
    """The rows of the only table, by label."""
    assert len(tables) == 1
    return {row.label: row for row in tables[0].rows}


def test_means_and_cis_match_hand_computation_and_harness_stats(tables: list) -> None:
    rows = rows_by_label(tables)
    for label, values in (("ppo", PPO), ("reinforce", REINFORCE), ("trpo", TRPO)):
        reward = rows[label].metrics["eval/reward"]
        expected = bootstrap_mean(list(values))
        assert reward.mean == pytest.approx(sum(values) / len(values), abs=1e-9)
        assert (reward.low, reward.high, reward.n) == pytest.approx(
            (expected.low, expected.high, expected.n), abs=1e-9
        )
        # With ≤ 3 seeds each extreme resample has probability ≥ 1/27 > 2.5 %, so the 95 %
        # percentile-bootstrap interval is exactly [min, max].
        assert (reward.low, reward.high) == pytest.approx((min(values), max(values)), abs=1e-9)
        gain = rows[label].metrics["gain/reward"]
        assert gain.mean == pytest.approx(sum(values) / len(values) - 0.1, abs=1e-9)
    kl = rows["ppo"].metrics["eval/kl_exact"]
    assert (kl.mean, kl.low, kl.high) == pytest.approx((0.03, 0.02, 0.04), abs=1e-9)
    assert rows["ppo"].metrics["eval/length"].mean == pytest.approx(26.0, abs=1e-9)
    assert rows["ppo"].metrics["spent/seconds"].mean == pytest.approx(11.0, abs=1e-9)
    assert rows["ppo"].metrics["eval/distinct_2"].mean == pytest.approx(0.8, abs=1e-9)


def test_rank_and_permutation_test_against_best(tables: list) -> None:
    rows = rows_by_label(tables)
    assert [row.label for row in tables[0].rows] == ["ppo", "trpo", "reinforce"]
    assert [row.rank for row in tables[0].rows] == [1, 2, 3]
    assert rows["ppo"].p_vs_best is None and rows["ppo"].significant is None
    # 3 vs 3 fully separated groups: 2 of the C(6, 3) = 20 splits are as extreme.
    assert rows["reinforce"].p_vs_best == pytest.approx(2 / 20, abs=1e-12)
    # 2 vs 3: only the observed split of C(5, 2) = 10 is as extreme.
    assert rows["trpo"].p_vs_best == pytest.approx(1 / 10, abs=1e-12)
    assert rows["reinforce"].significant is False


def test_permutation_pvalue_hand_computed() -> None:
    assert permutation_pvalue([1, 2, 3, 4], [5, 6, 7, 8]) == pytest.approx(2 / 70, abs=1e-12)
    assert permutation_pvalue([1, 2], [1, 2]) == pytest.approx(1.0, abs=1e-12)
    # splits of {1,2,3,4} into pairs: |diff| of means is 2 ({1,2}|{3,4}) or 1 or 0 → 4 of 6 ≥ 1.
    assert permutation_pvalue([1, 3], [2, 4]) == pytest.approx(4 / 6, abs=1e-12)
    big = permutation_pvalue(np.arange(12.0), np.arange(12.0) + 30, max_splits=5000)
    assert big == pytest.approx(1 / 5001, abs=1e-12)
    assert smallest_pvalue(3, 3) == pytest.approx(0.1) and smallest_pvalue(4, 4) < 0.05


def test_flags_name_early_stops_and_few_seeds(tables: list) -> None:
    rows = rows_by_label(tables)
    assert rows["trpo"].flags[:2] == ("1/2 stopped early (seed 1: interrupted)", "2 seeds (< 3)")
    assert "cannot reach p < 0.05" in rows["reinforce"].flags[0]
    assert rows["ppo"].flags == ()


def test_markdown_cells(tables: list) -> None:
    text = markdown(tables, [])
    assert "## summarization (v1) · policy tiny · budget 64 samples" in text
    assert "KL penalty: β 0.05, k1 in the reward; its gradient: sequence KL(π‖π_ref)" in text
    line = next(x for x in text.splitlines() if x.startswith("| 1 | ppo"))
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert cells[:8] == [
        "1",
        "ppo",
        "rloo · k1 in reward β 0.05",
        "0,1,2",
        "0.310 [0.300, 0.320]",
        "best",
        "0.330 [0.320, 0.340]",
        "+0.210 [+0.200, +0.220]",
    ]
    trpo = next(x for x in text.splitlines() if x.startswith("| 2 | trpo"))
    assert "0.260† [0.250, 0.270]" in trpo and "p=0.100 n.s." in trpo
    assert "permutation test" in text and "bootstrap over seeds" in text


def test_csv_and_json_carry_the_same_numbers(tables: list) -> None:
    records = list(csv.DictReader(io.StringIO(csv_text(tables))))
    assert [r["row"] for r in records] == ["ppo", "trpo", "reinforce"]
    ppo = records[0]
    assert float(ppo["eval/reward"]) == pytest.approx(0.31, abs=1e-9)
    assert float(ppo["eval/reward_low"]) == pytest.approx(0.30, abs=1e-9)
    assert float(ppo["eval/reward_high"]) == pytest.approx(0.32, abs=1e-9)
    assert ppo["eval/reward_n"] == "3" and ppo["seeds"] == "0;1;2"
    data = json.loads(json_text(tables, ["a warning"]))
    assert data["warnings"] == ["a warning"] and "permutation" in data["method"]["test"]
    row = data["tables"][0]["rows"][2]
    assert row["row"] == "reinforce" and row["vs_best"]["p"] == pytest.approx(0.1, abs=1e-12)
    assert row["metrics"]["eval/reward"] == pytest.approx(
        {"mean": 0.21, "low": 0.20, "high": 0.22, "n": 3}, abs=1e-9
    )
    # run directories relative to the report root (the folder given), never absolute
    assert [path.rsplit("-", 1)[0] for path in row["runs"]] == [
        f"summarization/reinforce/seed{seed}" for seed in (0, 1, 2)
    ]
