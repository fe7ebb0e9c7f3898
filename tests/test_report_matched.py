"""Reward at matched KL: KL* and each run's interpolated val reward, checked by hand."""

import csv
import io
import json
from pathlib import Path

import pytest
from report_fixtures import make_baseline, make_run

from harness.metrics.stats import bootstrap_mean
from reports.aggregate import build_tables
from reports.load import load_runs
from reports.matched import reward_at_kl
from reports.tables import csv_text, json_text, markdown

# (val KL, val reward) at updates 0, 1, ...: KL* = min(0.05, 0.06, 0.03, 0.08) = 0.03.
CURVES = {
    ("ppo", 0): [(0.0, 0.10), (0.02, 0.20), (0.05, 0.30)],
    ("ppo", 1): [(0.0, 0.10), (0.04, 0.30), (0.01, 0.20), (0.06, 0.50)],  # not monotone in KL
    ("reinforce", 0): [(0.0, 0.12), (0.01, 0.15), (0.03, 0.25)],
    ("reinforce", 1): [(0.0, 0.10), (0.03, 0.20), (0.08, 0.90)],
}
# By hand, at KL 0.03:
#   ppo 0:       segment (0.02, 0.20)–(0.05, 0.30): 0.20 + (0.01 / 0.03) · 0.10 = 0.2333…
#   ppo 1:       first segment to reach it is (0, 0.10)–(0.04, 0.30): 0.10 + 0.75 · 0.20 = 0.25
#                (the later segment (0.01, 0.20)–(0.06, 0.50) would give 0.32: not used)
#   reinforce 0: the last point is exactly at 0.03: 0.25
#   reinforce 1: the point at update 1 is exactly at 0.03: 0.20
AT_KL = {"ppo": (0.20 + 0.10 / 3, 0.25), "reinforce": (0.25, 0.20)}


def test_reward_at_kl_hand_computed() -> None:
    points = [(0.0, 1.0), (2.0, 3.0), (4.0, 2.0)]
    assert reward_at_kl(points, 1.0) == pytest.approx(2.0, abs=1e-12)
    assert reward_at_kl(points, 3.0) == pytest.approx(2.5, abs=1e-12)
    assert reward_at_kl(points, 2.0) == pytest.approx(3.0, abs=1e-12)
    assert reward_at_kl(points, 0.0) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="never reaches KL 5.0 \\(its largest KL is 4.0\\)"):
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
        make_baseline(root, "start", seed)
    runs, skipped = load_runs([root])
    assert skipped == []
    return build_tables(runs, allow_mixed=False)[0]


def test_matched_kl_is_the_smallest_peak_over_trained_runs(tables: list) -> None:
    (table,) = tables
    assert table.matched.kl == pytest.approx(0.03, abs=1e-15) and table.matched.usable


def test_row_value_is_the_seed_mean_with_the_usual_bootstrap_ci(tables: list) -> None:
    rows = {row.label: row for row in tables[0].rows}
    for label, values in AT_KL.items():
        found = rows[label].metrics["matched/reward"]
        expected = bootstrap_mean(list(values))
        assert found.mean == pytest.approx(sum(values) / 2, abs=1e-12)
        assert (found.low, found.high, found.n) == pytest.approx(
            (expected.low, expected.high, 2), abs=1e-12
        )
    assert "matched/reward" not in rows["start"].metrics


def test_matched_kl_in_markdown_csv_and_json(tables: list) -> None:
    text = markdown(tables, [])
    expected = (
        "Matched KL: 0.03 nats/token, the largest every trained run reached on val;"
        " baseline rows excluded."
    )
    assert expected in text.splitlines()
    header = next(line for line in text.splitlines() if line.startswith("| rank |"))
    assert [c.strip() for c in header.strip("|").split("|")][8] == "val reward @ matched KL ↑"
    ppo = next(line for line in text.splitlines() if line.startswith("| 1 | ppo |"))
    assert [c.strip() for c in ppo.strip("|").split("|")][8] == "0.242† [0.233, 0.250]"
    start = next(line for line in text.splitlines() if "| start (baseline) |" in line)
    assert [c.strip() for c in start.strip("|").split("|")][8] == "n/a"
    records = {r["row"]: r for r in csv.DictReader(io.StringIO(csv_text(tables)))}
    assert float(records["reinforce"]["matched/reward"]) == pytest.approx(0.225, abs=1e-9)
    assert float(records["ppo"]["matched_kl"]) == pytest.approx(0.03, abs=1e-12)
    data = json.loads(json_text(tables, []))["tables"][0]
    assert (
        data["matched_kl"]["kl"] == pytest.approx(0.03) and data["matched_kl"]["line"] == expected
    )
    assert "minimum over trained runs" in json.loads(json_text(tables, []))["method"]["matched_kl"]


def test_no_kl_reached_or_no_eval_curve_gives_n_a(tmp_path: Path) -> None:
    make_run(tmp_path / "flat", "ppo", 0, eval_curve=[(0.0, 0.1), (0.0, 0.2)])
    make_run(tmp_path / "flat", "reinforce", 0, kl=0.02)
    runs, _ = load_runs([tmp_path / "flat"])
    (table,), _ = build_tables(runs, allow_mixed=False)
    assert table.matched.kl == 0.0 and not table.matched.usable
    assert all("matched/reward" not in row.metrics for row in table.rows)
    assert (
        "Matched KL: n/a (a trained run's val KL never rose above 0); the 'val reward @ matched"
        " KL' column is n/a." in markdown([table], [])
    )
    bare = make_run(tmp_path / "bare", "ppo", 0)
    result = json.loads((bare / "result.json").read_text())
    (bare / "result.json").write_text(json.dumps(result | {"eval_curve": []}))
    runs, _ = load_runs([tmp_path / "bare"])
    (table,), _ = build_tables(runs, allow_mixed=False)
    assert (
        table.matched.kl is None
        and table.matched.why == f"trained run {bare.name} has no val eval curve"
    )
