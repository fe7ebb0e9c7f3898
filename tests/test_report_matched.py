"""Reward at matched KL: KL*, each run's reading on a segment after update 0, and the reward–KL
curves on a common grid, checked by hand."""

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from report_fixtures import make_anchor, make_run

from harness.metrics.stats import t_interval
from reports.aggregate import build_tables
from reports.load import load_runs
from reports.matched import kl_grid, reward_at_kl, row_kl_curve
from reports.tables import csv_text, json_text, markdown

# (val KL, val reward) at updates 0, 1, ...; the KL range each curve covers after update 0:
#   ppo 0 [0.02, 0.06], ppo 1 [0.01, 0.06], reinforce 0 [0.01, 0.04], reinforce 1 [0.03, 0.08]
# → common range [0.03, 0.04], KL* = its middle, 0.035.
CURVES = {
    ("ppo", 0): [(0.0, 0.10), (0.02, 0.20), (0.06, 0.30)],
    ("ppo", 1): [(0.0, 0.10), (0.05, 0.30), (0.01, 0.20), (0.06, 0.50)],  # not monotone in KL
    ("reinforce", 0): [(0.0, 0.12), (0.01, 0.15), (0.04, 0.25)],
    ("reinforce", 1): [(0.0, 0.10), (0.03, 0.20), (0.08, 0.90)],
}
# By hand, at KL 0.035, on the first segment after update 0 that crosses it:
#   ppo 0:       (0.02, 0.20)–(0.06, 0.30): 0.20 + (0.015 / 0.04) · 0.10 = 0.2375
#   ppo 1:       (0.05, 0.30)–(0.01, 0.20): 0.30 − (0.015 / 0.04) · 0.10 = 0.2625 (neither the
#                start segment (0, 0.10)–(0.05, 0.30), 0.24, nor the later one, 0.35)
#   reinforce 0: (0.01, 0.15)–(0.04, 0.25): 0.15 + (0.025 / 0.03) · 0.10 = 0.2333…
#   reinforce 1: (0.03, 0.20)–(0.08, 0.90): 0.20 + (0.005 / 0.05) · 0.70 = 0.27
AT_KL = {"ppo": (0.2375, 0.2625), "reinforce": (0.15 + 0.1 * 2.5 / 3, 0.27)}


def test_reward_at_kl_hand_computed() -> None:
    points = [(0.0, 1.0), (2.0, 3.0), (4.0, 2.0)]
    assert reward_at_kl(points, 1.0) == pytest.approx(2.0, abs=1e-12)
    assert reward_at_kl(points, 3.0) == pytest.approx(2.5, abs=1e-12)
    assert reward_at_kl(points, 2.0) == pytest.approx(3.0, abs=1e-12)
    assert reward_at_kl(points, 0.0) == pytest.approx(1.0, abs=1e-12)
    assert reward_at_kl([(1.0, 0.5), (0.0, 0.0), (2.0, 1.0)], 0.5) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="never crosses KL 5.0 \\(its KLs: 0, 2, 4\\)"):
        reward_at_kl(points, 5.0)


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> list:
    """The four trained runs of CURVES (their eval curves stored out of order) and a start run."""
    root = tmp_path_factory.mktemp("runs")
    for (algo, seed), curve in CURVES.items():
        path = make_run(root, algo, seed, 0.3 if algo == "ppo" else 0.2, eval_curve=curve)
        result = json.loads((path / "result.json").read_text())
        result["eval_curve"].reverse()  # the reporter orders points by update itself
        (path / "result.json").write_text(json.dumps(result))
    for seed in (0, 1):
        make_anchor(root, "start", seed)
    runs, skipped = load_runs([root])
    assert skipped == []
    return build_tables(runs, allow_mixed=False)[0]


def test_matched_kl_is_the_middle_of_the_range_every_run_crosses_after_update_0(
    tables: list,
) -> None:
    (table,) = tables
    assert (table.matched.low, table.matched.high) == pytest.approx((0.03, 0.04), abs=1e-15)
    assert table.matched.kl == pytest.approx(0.035, abs=1e-15) and table.matched.usable


def test_row_value_is_the_seed_mean_of_the_bracketed_readings(tables: list) -> None:
    rows = {row.label: row for row in tables[0].rows}
    for label, values in AT_KL.items():
        found = rows[label].metrics["matched/reward"]
        expected = t_interval(list(values))
        assert found.values == pytest.approx(values, abs=1e-12)
        assert (found.mean, found.low, found.high, found.n) == pytest.approx(
            (sum(values) / 2, expected.low, expected.high, 2), abs=1e-12
        )
    assert "matched/reward" not in rows["start"].metrics


def test_matched_kl_in_markdown_csv_and_json(tables: list) -> None:
    text = markdown(tables, [])
    expected = (
        "Matched KL: 0.035 nats/token, the middle of [0.03, 0.04], the val KL range every"
        " trained run's curve crosses after update 0; anchor rows excluded."
    )
    assert expected in text.splitlines()
    header = next(line for line in text.splitlines() if line.startswith("| rank |"))
    cells = [c.strip() for c in header.strip("|").split("|")]
    column = cells.index("val reward @ matched KL ↑")
    ppo = next(line for line in text.splitlines() if line.startswith("| 1 | ppo |"))
    half = 12.706204736 * 0.0125  # t_{0.975, 1} · SD / √2 with SD = 0.025 / √2
    assert [c.strip() for c in ppo.strip("|").split("|")][column] == (
        f"0.250† [{0.25 - half:.3f}, {0.25 + half:.3f}]"
    )
    start = next(line for line in text.splitlines() if "| start (anchor) |" in line)
    assert [c.strip() for c in start.strip("|").split("|")][column] == "n/a"
    records = {r["row"]: r for r in csv.DictReader(io.StringIO(csv_text(tables)))}
    assert float(records["reinforce"]["matched/reward"]) == pytest.approx(
        sum(AT_KL["reinforce"]) / 2, abs=1e-9
    )
    assert float(records["ppo"]["matched_kl"]) == pytest.approx(0.035, abs=1e-12)
    data = json.loads(json_text(tables, []))["tables"][0]
    assert data["matched_kl"]["kl"] == pytest.approx(0.035)
    assert data["matched_kl"]["range"] == pytest.approx([0.03, 0.04])
    assert data["matched_kl"]["line"] == expected
    method = json.loads(json_text(tables, []))["method"]["matched_kl"]
    assert "with both ends after update 0" in method


def step_size_runs(root: Path, steps: dict[str, tuple[float, float]]) -> list:
    """Three seeds of reinforce per learning rate; lr → (val KL per update, reward per update)."""
    for lr, (kl_step, reward_step) in steps.items():
        for seed in range(3):
            curve = [(kl_step * u, 0.10 + reward_step * u + 0.005 * seed) for u in range(5)]
            changes = {"algo_config.lr": float(lr)}
            make_run(root, "reinforce", seed, 0.2, eval_curve=curve, config_changes=changes)
    runs, skipped = load_runs([root])
    assert skipped == []
    return build_tables(runs, allow_mixed=False)[0]


def test_the_column_separates_two_rows_that_differ_only_in_step_size(tmp_path: Path) -> None:
    # lr 1e-3: KL 0.01 and reward +0.05 per update; lr 3e-3: KL 0.02 but reward only +0.03.
    # Both end at the same test reward; at KL* = middle of [0.02, 0.04] = 0.03 the small step
    # reads 0.25 + 0.005 · seed, the large one 0.145 + 0.005 · seed.
    (table,) = step_size_runs(tmp_path, {"0.001": (0.01, 0.05), "0.003": (0.02, 0.03)})
    assert table.matched.kl == pytest.approx(0.03, abs=1e-12)
    small, large = (
        next(row for row in table.rows if row.algo_config["lr"] == lr).metrics["matched/reward"]
        for lr in (0.001, 0.003)
    )
    assert small.values == pytest.approx((0.25, 0.255, 0.26), abs=1e-12)
    assert large.values == pytest.approx((0.145, 0.15, 0.155), abs=1e-12)
    assert large.high < small.low  # the intervals do not overlap
    same_test = [row.metrics["eval/reward"].mean for row in table.rows]
    assert same_test == pytest.approx([0.2, 0.2])  # the final test reward cannot tell them apart


def test_no_bracket_or_too_few_evaluations_give_n_a_with_the_reason(tmp_path: Path) -> None:
    # lr 1e-3 stays in [0.01, 0.02] after update 0, lr 3e-3 in [0.05, 0.08]: no common KL.
    curves = {"0.001": [(0.0, 0.1), (0.01, 0.2), (0.02, 0.3)]}
    curves["0.003"] = [(0.0, 0.1), (0.05, 0.2), (0.08, 0.3)]
    for lr, curve in curves.items():
        make_run(tmp_path / "apart", "reinforce", 0, eval_curve=curve,
                 config_changes={"algo_config.lr": float(lr)})  # fmt: skip
    runs, _ = load_runs([tmp_path / "apart"])
    (table,), _ = build_tables(runs, allow_mixed=False)
    assert table.matched.kl is None and not table.matched.usable
    assert "no KL lies on every trained run's val curve after update 0" in table.matched.why
    assert "stays above 0.05 while" in table.matched.why and "stays below 0.02" in table.matched.why
    assert all("matched/reward" not in row.metrics for row in table.rows)
    assert "the 'val reward @ matched KL' column is n/a." in markdown([table], [])
    short = make_run(tmp_path / "short", "ppo", 0, eval_curve=[(0.0, 0.1), (0.02, 0.2)])
    runs, _ = load_runs([tmp_path / "short"])
    (table,), _ = build_tables(runs, allow_mixed=False)
    assert table.matched.why == (
        f"trained run summarization/ppo/{short.name} has 1 val evaluation(s) after update 0;"
        " a reading needs two (set eval.every)"
    )


def test_reward_kl_curves_on_a_common_grid(tables: list) -> None:
    rows = {row.label: row for row in tables[0].rows}
    trained = [run for label in ("ppo", "reinforce") for run in rows[label].runs]
    grid = kl_grid(trained)
    assert grid[0] == 0.0 and grid[-1] == pytest.approx(0.08)  # the first KLs are all 0
    xs, intervals = row_kl_curve(rows["reinforce"].runs, grid, "t")
    # reinforce 0 reaches only 0.04: the row is drawn where both runs have a reading.
    assert xs[-1] <= 0.04 and xs[0] == 0.0
    at = int(np.argmin(np.abs(xs - 0.02)))
    kl = xs[at]  # reinforce 0: 0.15 + (kl − 0.01)/0.03 · 0.10; reinforce 1: 0.10 + kl/0.03 · 0.10
    expected = (0.15 + (kl - 0.01) / 0.03 * 0.10 + 0.10 + kl / 0.03 * 0.10) / 2
    assert intervals[at].mean == pytest.approx(expected, abs=1e-12)
    assert intervals[0].mean == pytest.approx(0.11, abs=1e-12)  # the two start points
