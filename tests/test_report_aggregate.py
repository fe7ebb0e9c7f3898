"""Leaderboard numbers from synthetic runs with known values: means, CIs, ranks, tests, flags."""

import csv
import io
import json
import math

import pytest
from report_fixtures import make_run
from scipy import stats

from harness.metrics.stats import bootstrap_mean
from reports.aggregate import build_tables
from reports.load import load_runs
from reports.tables import csv_text, json_text, markdown

PPO = (0.30, 0.32, 0.31)
REINFORCE = (0.20, 0.24, 0.19)  # ppo − reinforce by seed: 0.10, 0.08, 0.12 (mean 0.10, SD 0.02)
TRPO = (0.25, 0.27)
T_975 = {1: 12.706204736, 2: 4.302652730}  # t_{0.975, df} from a printed t table


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


def test_means_and_t_intervals_match_hand_computation(tables: list) -> None:
    rows = rows_by_label(tables)
    for label, values in (("ppo", PPO), ("reinforce", REINFORCE), ("trpo", TRPO)):
        reward = rows[label].metrics["eval/reward"]
        n, mean = len(values), sum(values) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
        half = T_975[n - 1] * sd / math.sqrt(n)
        assert (reward.mean, reward.low, reward.high) == pytest.approx(
            (mean, mean - half, mean + half), abs=1e-9
        )
        assert reward.n == n and reward.values == pytest.approx(values, abs=1e-12)
        gain = rows[label].metrics["gain/reward"]
        assert gain.mean == pytest.approx(sum(values) / len(values) - 0.1, abs=1e-9)
    kl = rows["ppo"].metrics["eval/kl_exact"]  # 0.02, 0.03, 0.04: SD 0.01
    half = T_975[2] * 0.01 / math.sqrt(3)
    assert (kl.mean, kl.low, kl.high) == pytest.approx((0.03, 0.03 - half, 0.03 + half), abs=1e-9)
    assert rows["ppo"].metrics["eval/length"].mean == pytest.approx(26.0, abs=1e-9)
    assert rows["ppo"].metrics["spent/seconds"].mean == pytest.approx(11.0, abs=1e-9)
    assert rows["ppo"].metrics["eval/distinct_2"].mean == pytest.approx(0.8, abs=1e-9)


def raw_p(tables: list) -> dict[tuple[str, str], float]:
    """(row, against) → the unadjusted p of every test of the only table."""
    return {(test.row, test.against): test.p for test in tables[0].tests}


def test_rank_and_the_test_each_pair_gets(tables: list) -> None:
    rows = rows_by_label(tables)
    assert [row.label for row in tables[0].rows] == ["ppo", "trpo", "reinforce"]
    assert [row.rank for row in tables[0].rows] == [1, 2, 3]
    assert rows["ppo"].p_vs_best is None and rows["ppo"].significant is None
    kinds = {(test.row, test.against): test.test for test in tables[0].tests}
    assert kinds == {
        ("trpo", "best"): "Welch's t",  # seeds {0, 1} against {0, 1, 2}
        ("reinforce", "best"): "paired t",  # the same seeds: paired by seed
        ("ppo", "start"): "paired t on Δ vs start",
        ("trpo", "start"): "paired t on Δ vs start",
        ("reinforce", "start"): "paired t on Δ vs start",
    }
    # paired: differences 0.10, 0.08, 0.12 → t = 0.10 / (0.02 / √3) = 5√3 on 2 df, and the t
    # distribution with 2 df has the closed form P(|T| > t) = 1 − t / √(2 + t²).
    t = 5 * math.sqrt(3)
    p = raw_p(tables)
    assert p[("reinforce", "best")] == pytest.approx(1 - t / math.sqrt(2 + t * t), abs=1e-9)
    welch = stats.ttest_ind(TRPO, PPO, equal_var=False).pvalue
    assert p[("trpo", "best")] == pytest.approx(welch, abs=1e-12)
    gains = [value - 0.1 for value in PPO]
    assert p[("ppo", "start")] == pytest.approx(stats.ttest_1samp(gains, 0).pvalue, abs=1e-12)


def test_holm_adjusts_over_the_tables_five_tests(tables: list) -> None:
    p = raw_p(tables)
    ordered = sorted(p.items(), key=lambda item: item[1])
    expected, running = {}, 0.0
    for rank, (key, value) in enumerate(ordered):  # by hand: max of (m − rank) · p so far
        running = max(running, min(1.0, (5 - rank) * value))
        expected[key] = running
    found = {(test.row, test.against): test.p_holm for test in tables[0].tests}
    assert found == pytest.approx(expected, abs=1e-12)
    reinforce = rows_by_label(tables)["reinforce"]
    assert reinforce.p_vs_best == found[("reinforce", "best")]
    assert reinforce.significant is (found[("reinforce", "best")] < 0.05)


def test_flags_name_early_stops_and_few_seeds(tables: list) -> None:
    rows = rows_by_label(tables)
    assert rows["trpo"].flags[:2] == ("1/2 stopped early (seed 1: interrupted)", "2 seeds (< 3)")
    assert rows["ppo"].flags == () and rows["reinforce"].flags == ()


def test_the_bootstrap_stays_available(tmp_path) -> None:
    for seed, value in enumerate(PPO):
        make_run(tmp_path, "ppo", seed, value)
    runs, _ = load_runs([tmp_path])
    (table,), _ = build_tables(runs, allow_mixed=False, ci="bootstrap")
    reward = table.rows[0].metrics["eval/reward"]
    expected = bootstrap_mean(list(PPO))
    assert (reward.low, reward.high) == (expected.low, expected.high)
    # With 3 seeds each extreme resample has probability 1/27 > 2.5 %: exactly [min, max], the
    # too-narrow interval the t default replaces.
    assert (reward.low, reward.high) == pytest.approx((0.30, 0.32), abs=1e-12)
    assert "percentile bootstrap" in markdown([table], [])


def test_markdown_cells(tables: list) -> None:
    text = markdown(tables, [])
    assert "## summarization (v1) · policy tiny · budget 64 samples" in text
    assert "KL penalty: β 0.05, k1 in the reward; its gradient: sequence KL(π‖π_ref)" in text
    line = next(x for x in text.splitlines() if x.startswith("| 1 | ppo"))
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    holm = {(test.row, test.against): test.p_holm for test in tables[0].tests}
    assert cells[:9] == [
        "1",
        "ppo",
        "rloo · k1 in reward β 0.05",
        "0,1,2",
        "0.310 [0.285, 0.335]",
        "best",
        f"p={holm[('ppo', 'start')]:.3f} *",
        "0.330 [0.305, 0.355]",
        "+0.210 [+0.185, +0.235]",
    ]
    trpo = next(x for x in text.splitlines() if x.startswith("| 2 | trpo"))
    assert f"p={holm[('trpo', 'best')]:.3f} n.s." in trpo
    assert "0.260† [0.133, 0.387]" in trpo  # 0.26 ± 12.706 · 0.01 / √2
    assert "Holm-adjusted" in text and "Student-t interval over seeds" in text
    assert "Tests: 5 in this table's family, Holm-adjusted together." in text


def test_csv_and_json_carry_the_same_numbers(tables: list) -> None:
    records = list(csv.DictReader(io.StringIO(csv_text(tables))))
    assert [r["row"] for r in records] == ["ppo", "trpo", "reinforce"]
    ppo = records[0]
    assert float(ppo["eval/reward"]) == pytest.approx(0.31, abs=1e-9)
    reward = rows_by_label(tables)["ppo"].metrics["eval/reward"]
    assert float(ppo["eval/reward_low"]) == pytest.approx(reward.low, abs=1e-9)
    assert float(ppo["eval/reward_high"]) == pytest.approx(reward.high, abs=1e-9)
    assert ppo["eval/reward_n"] == "3" and ppo["seeds"] == "0;1;2"
    assert ppo["eval/reward_values"] == "0.3;0.32;0.31"  # per seed, in the seeds' order
    assert ppo["test:start:test"] == "paired t on Δ vs start"
    data = json.loads(json_text(tables, ["a warning"]))
    assert data["warnings"] == ["a warning"] and "Holm" in data["method"]["test"]
    row = data["tables"][0]["rows"][2]
    holm = rows_by_label(tables)["reinforce"].p_vs_best
    assert row["row"] == "reinforce" and row["vs_best"]["p"] == pytest.approx(holm, abs=1e-12)
    half = T_975[2] * math.sqrt(0.0014 / 2) / math.sqrt(3)  # SD of 0.20, 0.24, 0.19
    assert row["metrics"]["eval/reward"] == pytest.approx(
        {"mean": 0.21, "low": 0.21 - half, "high": 0.21 + half, "n": 3,
         "values": [0.20, 0.24, 0.19]}, abs=1e-9
    )  # fmt: skip
    assert [test["against"] for test in row["tests"]] == ["best", "start"]
    # run directories relative to the report root (the folder given), never absolute
    assert [path.rsplit("-", 1)[0] for path in row["runs"]] == [
        f"summarization/reinforce/seed{seed}" for seed in (0, 1, 2)
    ]
