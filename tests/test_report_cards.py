"""The caption line of a table scored by learned models: each model's card figures, and a warning
when the table's runs did not read one and the same model."""

import json
from pathlib import Path
from typing import Any

from report_fixtures import make_run

from reports.aggregate import build_tables
from reports.cards import read_cards
from reports.html import page
from reports.load import load_runs
from reports.tables import csv_text, json_data, markdown

REWARD = {
    "name": "dialogue-rm",
    "fingerprint": "0123456789abcdef",
    "accuracy": 0.842,
    "families": {
        "echo": {"real_beats_probe": 0.93, "n": 100, "held_out": False},
        "partial_copy": {"real_beats_probe": 0.81, "n": 96, "held_out": True},
    },
}
JUDGE = {
    "name": "dialogue-judge",
    "fingerprint": "fedcba9876543210",
    "accuracy": 0.8,
    "families": {"echo": {"real_beats_probe": 0.95, "n": 100, "held_out": False}},
}
OPENING = (
    "Learned models, by their cards (held-out accuracy; per probe family, the share of card"
    " prompts where the real text outscores the probe): "
)


def with_cards(path: Path, cards: dict[str, Any]) -> None:
    """Record `cards` as the run's result.json `reward_cards` (schema 5)."""
    result = json.loads((path / "result.json").read_text())
    result["reward_cards"] = cards
    (path / "result.json").write_text(json.dumps(result))


def report(root: Path, odd_reward: dict[str, Any] | None = None) -> tuple[str, str, dict, str]:
    """Markdown, HTML, leaderboard.json and CSV of ppo seeds 0, 1 (rank 1) and reinforce seed 0,
    all with REWARD and JUDGE cards; with `odd_reward`, reinforce's reward card is that one."""
    for algo, seed, reward in (("ppo", 0, 0.4), ("ppo", 1, 0.42), ("reinforce", 0, 0.3)):
        own = odd_reward if odd_reward and algo == "reinforce" else REWARD
        with_cards(make_run(root, algo, seed, reward), {"reward": own, "judge_rm": JUDGE})
    runs, _ = load_runs([root])
    tables, _ = build_tables(runs, allow_mixed=False)
    views = {table.task: [] for table in tables}
    html = page(tables, [], {table.task: [] for table in tables}, views)
    return markdown(tables, []), html, json_data(tables, []), csv_text(tables)


def test_the_caption_shows_each_models_card(tmp_path: Path) -> None:
    md, html, data, csv = report(tmp_path)
    # by hand: accuracy to 3 decimals, each family's share with its n, held-out families marked
    line = (
        f"{OPENING}reward = dialogue-rm #01234567: accuracy 0.842; echo 0.930 (n=100),"
        " partial_copy 0.810 (n=96, held out). judge_rm = dialogue-judge #fedcba98: accuracy"
        " 0.800; echo 0.950 (n=100)."
    )
    lines = md.splitlines()
    assert lines.index(line) < lines.index(next(x for x in lines if x.startswith("| rank")))
    assert f'<p class="line">{line}</p>' in html
    (table,) = data["tables"]
    assert table["reward_cards"]["line"] == line
    reward, judge = table["reward_cards"]["models"]
    assert (reward["role"], reward["fingerprint"], reward["runs"]) == (
        "reward",
        REWARD["fingerprint"],
        3,
    )
    assert reward["families"] == REWARD["families"] and reward["accuracy"] == 0.842
    assert (judge["role"], judge["name"], judge["runs"]) == ("judge_rm", "dialogue-judge", 3)
    assert "⚠" not in line and "Learned models" not in csv  # CSV has no caption fields


def test_runs_with_different_fingerprints_are_warned_about(tmp_path: Path) -> None:
    odd = REWARD | {"fingerprint": "99999999aaaaaaaa", "accuracy": 0.7}
    md, _, data, _ = report(tmp_path, odd)
    (line,) = [x for x in md.splitlines() if x.startswith(OPENING)]
    assert "reward = dialogue-rm #01234567 in 2 runs: accuracy 0.842;" in line
    assert "reward = dialogue-rm #99999999 in 1 run: accuracy 0.700;" in line
    assert "judge_rm = dialogue-judge #fedcba98: accuracy 0.800;" in line  # one model: no count
    assert line.endswith(
        "⚠ reward: this table's runs recorded 2 fingerprints (#01234567 in 2 runs, #99999999 in"
        " 1 run): they did not share one reward model, so their rows are not scored alike."
    )
    models = data["tables"][0]["reward_cards"]["models"]
    assert [(m["role"], m["runs"]) for m in models] == [
        ("reward", 2),
        ("reward", 1),
        ("judge_rm", 3),
    ]


def test_a_table_without_cards_has_no_line(tmp_path: Path) -> None:
    make_run(tmp_path, "ppo", 0)
    runs, _ = load_runs([tmp_path])
    tables, _ = build_tables(runs, allow_mixed=False)
    assert "Learned models" not in markdown(tables, [])
    assert "reward_cards" not in json_data(tables, [])["tables"][0]
    assert read_cards(None) == () and read_cards({"reward": "not a card"}) == ()
