"""What the columns show: the test split, greedy reward, hacking signals, compute."""

import csv
import io
import json
from pathlib import Path

import pytest
from report_fixtures import BACKWARD, FORWARD, make_run

from reports.aggregate import build_tables
from reports.captions import method_lines
from reports.columns import columns, header
from reports.load import load_runs
from reports.tables import csv_text, json_text, markdown

HACKING_HEADERS = [
    "novel 2-grams",
    "copy rate",
    "coverage",
    "density",
    "compression",
    "ends with EOS",
    "repeat 4-grams ↓",
    "entropy",
    "MSTTR ↑",
]


def build(root: Path) -> list:
    """Load every run under root and build the tables (no skips, no warnings)."""
    runs, skipped = load_runs([root])
    assert skipped == []
    tables, warnings = build_tables(runs, allow_mixed=False)
    assert warnings == []
    return tables


def cells_of(text: str, prefix: str) -> dict[str, str]:
    """The Markdown row starting with `prefix`, as header → cell."""
    lines = text.splitlines()
    headers = next(line for line in lines if line.startswith("| rank |"))
    row = next(line for line in lines if line.startswith(prefix))
    split = [[c.strip() for c in line.strip("|").split("|")] for line in (headers, row)]
    return dict(zip(*split, strict=True))


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> list:
    """ppo × 3 seeds (test reward 0.30, 0.32, 0.31; val 0.05 higher), reinforce × 1."""
    root = tmp_path_factory.mktemp("runs")
    for seed, reward in enumerate((0.30, 0.32, 0.31)):
        make_run(root, "ppo", seed, reward, kl=0.02)
    make_run(root, "reinforce", 0, 0.5, kl=0.01)
    return build(root)


def test_the_report_reads_the_test_split(tables: list, tmp_path: Path) -> None:
    rows = {row.label: row for row in tables[0].rows}
    assert rows["ppo"].metrics["eval/reward"].mean == pytest.approx(0.31, abs=1e-12)  # val: 0.36
    assert rows["ppo"].metrics["gain/reward"].mean == pytest.approx(0.21, abs=1e-12)
    # A val split that would rank the rows the other way round changes nothing.
    for seed, reward in enumerate((0.30, 0.32, 0.31)):
        path = make_run(tmp_path, "ppo", seed, reward, kl=0.02)
        result = json.loads((path / "result.json").read_text())
        result["eval_after"]["val"]["eval/reward"] = 0.9
        (path / "result.json").write_text(json.dumps(result))
    make_run(tmp_path, "reinforce", 0, 0.5, kl=0.01)
    again = build(tmp_path)
    assert [row.label for row in again[0].rows] == ["reinforce", "ppo"]
    assert again[0].rows[1].metrics["eval/reward"].mean == pytest.approx(0.31, abs=1e-12)
    text = markdown(tables, [])
    assert "· eval 4 val+test prompts ·" in text
    assert (
        cells_of(text, "| 2 | ppo |")["test reward (sampled) ↑"] == "0.310 [0.285, 0.335]"
    )  # ± 4.303 · 0.01 / √3


def test_greedy_reward_column(tables: list) -> None:
    cells = cells_of(markdown(tables, []), "| 2 | ppo |")
    assert cells["test reward (greedy) ↑"] == "0.330 [0.305, 0.355]"
    assert cells_of(markdown(tables, []), "| 1 | reinforce |")["test reward (greedy) ↑"] == "0.520†"


def test_task_metrics_exclude_generic_extractive_and_greedy_keys(tables: list) -> None:
    assert tables[0].task_metrics == ("eval/rouge1", "eval/rouge2", "eval/rougeL")
    headers = [header(column) for column in columns(tables[0])]
    assert headers[:7] == [
        "test reward (sampled) ↑",
        "test reward (greedy) ↑",
        "Δ vs start ↑",
        "val reward @ matched KL ↑",
        "rouge1 ↑",
        "rouge2 ↑",
        "rougeL ↑",
    ]
    start = headers.index("self-BLEU ↓") + 1
    assert headers[start : start + len(HACKING_HEADERS)] == HACKING_HEADERS
    assert headers[-4:] == ["len", "samples", "compute (M tok passes)", "s/run"]


def test_hacking_columns_hold_the_test_numbers(tables: list) -> None:
    cells = cells_of(markdown(tables, []), "| 2 | ppo |")
    # novel_bigrams = 0.4 + reward and copy_rate = 0.3 − reward / 2 in the fixture.
    assert cells["novel 2-grams"] == "0.710 [0.685, 0.735]"
    assert cells["copy rate"] == "0.145 [0.133, 0.157]"  # SD 0.005
    assert (cells["coverage"], cells["density"], cells["compression"]) == ("0.800", "3.50", "6.00")
    assert (cells["ends with EOS"], cells["repeat 4-grams ↓"]) == ("0.750", "0.050")
    assert (cells["entropy"], cells["MSTTR ↑"]) == ("1.980", "0.600")


def test_hacking_columns_only_where_present(tmp_path: Path) -> None:
    path = make_run(tmp_path, "ppo", 0, kl=0.02, config_changes={"task": "translation"})
    result = json.loads((path / "result.json").read_text())
    for split in ("val", "test"):
        for key in ("coverage", "density", "compression"):
            del result["eval_after"][split][f"eval/{key}"]
    (path / "result.json").write_text(json.dumps(result))
    headers = [header(column) for column in columns(build(tmp_path)[0])]
    assert "coverage" not in headers and "density" not in headers
    assert "novel 2-grams" in headers and "ends with EOS" in headers


def test_compute_column_and_raw_token_counts(tables: list) -> None:
    # ppo seed s: forward 2 · (FORWARD + 10,000 s), backward 2 · BACKWARD → 4.00, 4.02, 4.04 M.
    cells = cells_of(markdown(tables, []), "| 2 | ppo |")
    assert cells["compute (M tok passes)"] == "4.020 [3.970, 4.070]"  # ± 4.303 · 0.02 / √3
    records = {r["row"]: r for r in csv.DictReader(io.StringIO(csv_text(tables)))}
    ppo = records["ppo"]
    assert float(ppo["spent/forward_tokens"]) == pytest.approx(2 * FORWARD + 20_000, abs=1e-6)
    assert float(ppo["spent/backward_tokens"]) == pytest.approx(2 * BACKWARD, abs=1e-6)
    assert float(ppo["spent/token_passes"]) == pytest.approx(4_020_000, abs=1e-6)
    data = json.loads(json_text(tables, []))
    metrics = next(r for r in data["tables"][0]["rows"] if r["row"] == "ppo")["metrics"]
    half = 4.302652730 * 20_000 / 3**0.5
    assert metrics["spent/token_passes"]["low"] == pytest.approx(4_020_000 - half, abs=1e-3)
    assert metrics["spent/forward_tokens"]["n"] == 3


def test_method_lines_say_how_rows_are_ranked_and_what_is_measured() -> None:
    text = " ".join(method_lines())
    assert "ranked by the mean sampled reward on the test split" in text
    assert "val is what a sweep may select on" in text
    assert "read linearly in KL on the first segment of its val eval curve" in text
    assert "with both ends after update 0" in text
    assert "Holm-adjusted over the table's family of tests" in text
    assert "token positions run forward plus those back-propagated" in text
    assert "Pooling: A table holds the runs of one task" in text
