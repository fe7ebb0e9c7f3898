"""Anchor rows (start, lead-n): they join their task's table, are marked, ranked and compared."""

import csv
import io
import json
from pathlib import Path

import pytest
from report_fixtures import make_anchor, make_run
from scipy import stats

from harness.api.errors import BenchError
from reports.aggregate import build_tables
from reports.load import load_runs
from reports.plots import table_plots
from reports.samples import sample_views
from reports.tables import csv_text, json_text, markdown

LEAD = 0.231
# What an anchor row's run may differ in from the trained runs: budget and algorithm settings.
NOT_EVALUATION = {"budget.samples": 0, "rollout.kl_coef": 0.2, "rollout.advantage": "none"}


def tables_for(root: Path, allow_mixed: bool = False) -> tuple[list, list[str]]:
    """Load every run under root and build the tables."""
    runs, skipped = load_runs([root])
    assert skipped == []
    return build_tables(runs, allow_mixed)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ppo and reinforce × 3 seeds, start and lead-9 × 3 seeds (other budget and algo settings)."""
    path = tmp_path_factory.mktemp("runs")
    for seed, (ppo, reinforce) in enumerate(
        zip((0.30, 0.32, 0.31), (0.20, 0.22, 0.21), strict=True)
    ):
        make_run(path, "ppo", seed, ppo, kl=0.02)
        make_run(path, "reinforce", seed, reinforce, kl=0.01)
        make_anchor(path, "start", seed, config_changes=NOT_EVALUATION)
        make_anchor(path, "lead-9", seed, reward=LEAD, config_changes=NOT_EVALUATION)
    return path


def test_anchor_rows_join_the_table_and_are_ranked_with_trained_rows(root: Path) -> None:
    tables, warnings = tables_for(root)
    assert warnings == [] and len(tables) == 1
    rows = tables[0].rows
    assert [(row.rank, row.label) for row in rows] == [
        (1, "ppo"),
        (2, "lead-9"),
        (3, "reinforce"),
        (4, "start"),
    ]
    assert [row.anchor for row in rows] == [False, True, False, True]
    by_label = {row.label: row for row in rows}
    assert by_label["lead-9"].metrics["eval/reward"].mean == pytest.approx(LEAD, abs=1e-12)
    assert by_label["start"].metrics["eval/reward"].mean == pytest.approx(0.1, abs=1e-12)
    # lead-9 is one number for every seed: ppo's three values are tested against it as a
    # constant (one-sample t), never as three draws; the start row is a sampled policy: paired.
    lead_test = by_label["lead-9"].test("best")
    assert lead_test.test == "one-sample t"
    expected = stats.ttest_1samp([0.30, 0.32, 0.31], LEAD).pvalue
    assert lead_test.p == pytest.approx(expected, abs=1e-12)
    assert by_label["start"].test("best").test == "paired t"
    assert by_label["reinforce"].test("lead-9").test == "one-sample t"
    for label in ("start", "lead-9"):
        assert "gain/reward" not in by_label[label].metrics  # Δ vs start: n/a
        assert "matched/reward" not in by_label[label].metrics
        assert {"spent/samples", "spent/token_passes"}.isdisjoint(by_label[label].metrics)
    assert by_label["ppo"].metrics["spent/token_passes"].mean > 0  # trained rows keep their cost
    # A text anchor has no policy: no KL, entropy or greedy decoding.
    assert {"eval/kl_exact", "eval/entropy", "eval/greedy/reward"}.isdisjoint(
        by_label["lead-9"].metrics
    )
    assert by_label["start"].metrics["eval/greedy/reward"].mean == pytest.approx(0.12, abs=1e-12)
    # The table's conditions are the trained runs' (anchor rows' budget 0 does not show); the
    # algorithm parts are each trained row's own, and an anchor row has none.
    assert tables[0].conditions["budget.samples"] == 64
    assert "rollout.kl_coef" not in tables[0].conditions
    assert by_label["ppo"].parts["rollout.kl_coef"] == 0.05 and by_label["start"].parts == {}


def test_anchor_rows_are_marked_in_every_format(root: Path) -> None:
    tables, _ = tables_for(root)
    lines = markdown(tables, []).splitlines()
    start = next(line for line in lines if line.startswith("| 4 | start (anchor) | — | 0,1,2 |"))
    cells = [cell.strip() for cell in start.strip("|").split("|")]
    holm = {label: row.p_vs_best for label, row in ((r.label, r) for r in tables[0].rows)}
    # test reward, vs best, vs start, vs lead-9 (an anchor row is tested against best only),
    # greedy reward, Δ vs start
    assert cells[4:10] == ["0.100", f"p={holm['start']:.3f} *", "—", "—", "0.120", "n/a"]
    assert "- **start (anchor)**: anchor: the policy before training (no updates)" in lines
    lead_note = "- **lead-9 (anchor)**: anchor: the first 9 source words as the output"
    assert any(line.startswith(lead_note) for line in lines)
    records = {r["row"]: r for r in csv.DictReader(io.StringIO(csv_text(tables)))}
    # the role column is the runs' role as result.json writes it: "baseline" for an anchor row
    assert records["start"]["role"] == "baseline" and records["ppo"]["role"] == "report"
    assert records["lead-9"]["flags"].startswith("anchor: the first 9 source words")
    data = json.loads(json_text(tables, []))
    roles = {row["row"]: row["role"] for row in data["tables"][0]["rows"]}
    assert roles == {"ppo": "report", "lead-9": "baseline", "reinforce": "report"} | {
        "start": "baseline"
    }


def test_trained_row_below_lead_n_is_flagged_everywhere(root: Path) -> None:
    tables, _ = tables_for(root)
    rows = {row.label: row for row in tables[0].rows}
    flag = "does not beat lead-9 (0.231)"
    assert flag in rows["reinforce"].flags
    assert not any("does not beat" in text for text in rows["ppo"].flags)
    assert not any("does not beat" in text for text in rows["start"].flags)  # anchor rows: no
    assert f"- **reinforce**: {flag}" in markdown(tables, [])
    records = {r["row"]: r for r in csv.DictReader(io.StringIO(csv_text(tables)))}
    assert flag in records["reinforce"]["flags"] and "does not" not in records["ppo"]["flags"]
    data = json.loads(json_text(tables, []))
    reinforce = next(row for row in data["tables"][0]["rows"] if row["row"] == "reinforce")
    assert flag in reinforce["flags"]


def test_a_tie_with_lead_n_does_not_beat_it(tmp_path: Path) -> None:
    make_run(tmp_path, "ppo", 0, 0.25)
    make_anchor(tmp_path, "lead-3", 0, reward=0.25)
    make_anchor(tmp_path, "lead-9", 0, reward=0.2)
    tables, _ = tables_for(tmp_path)
    ppo = next(row for row in tables[0].rows if row.label == "ppo")
    assert "does not beat lead-3 (0.250)" in ppo.flags
    assert not any("lead-9" in text for text in ppo.flags)


def test_anchor_evaluated_differently_is_refused_or_kept_apart(tmp_path: Path) -> None:
    for seed in (0, 1):
        make_run(tmp_path, "ppo", seed, 0.3)
        make_anchor(tmp_path, "start", seed, config_changes={"eval.prompts": 8})
    with pytest.raises(BenchError) as error:
        tables_for(tmp_path)
    message = str(error.value)
    assert "anchor rows of task 'summarization' were not evaluated like its other runs" in message
    assert "eval.prompts (4 ×2, 8 ×2)" in message and "--allow-mixed" in message
    tables, warnings = tables_for(tmp_path, allow_mixed=True)
    assert [row.label for row in tables[0].rows] == [
        "ppo · eval.prompts=4",
        "start · eval.prompts=8",
    ]
    assert (
        warnings[0].startswith("MIXED SETTINGS in 'summarization'")
        and "eval.prompts" in warnings[0]
    )
    assert "eval.prompts" not in tables[0].conditions


@pytest.mark.parametrize(
    "key, value",
    [("rollout.temperature", 0.7), ("rollout.max_prompt_tokens", 256), ("policy", "smollm2-135m")],
)
def test_every_evaluation_setting_must_match(tmp_path: Path, key: str, value: object) -> None:
    make_run(tmp_path, "ppo", 0, 0.3)
    make_anchor(tmp_path, "start", 0, config_changes={key: value})
    with pytest.raises(
        BenchError, match=rf"not evaluated like its other runs, so they are not pooled: {key} \("
    ):
        tables_for(tmp_path)


def test_trained_runs_keep_their_pooling_rule_next_to_anchor_rows(tmp_path: Path) -> None:
    make_run(tmp_path, "ppo", 0, 0.3)
    make_run(tmp_path, "reinforce", 0, 0.2, config_changes={"rollout.samples_per_prompt": 2})
    make_anchor(tmp_path, "start", 0)
    with pytest.raises(
        BenchError, match=r"differ in shared settings.*rollout.samples_per_prompt \(2 ×1, 4 ×1\)"
    ):
        tables_for(tmp_path)


def test_a_table_of_anchor_rows_only_still_builds(tmp_path: Path) -> None:
    make_anchor(tmp_path, "start", 0)
    make_anchor(tmp_path, "lead-9", 0, reward=LEAD)
    tables, warnings = tables_for(tmp_path)
    assert warnings == [] and [row.label for row in tables[0].rows] == ["lead-9", "start"]
    assert tables[0].matched.kl is None and tables[0].matched.why == "no trained runs"
    assert "Matched KL: n/a (no trained runs)" in markdown(tables, [])
    assert len(table_plots(tables[0])) == 6


def test_side_by_side_view_shows_anchor_rows_and_no_second_start(root: Path) -> None:
    tables, _ = tables_for(root)
    views = sample_views(tables[0])
    assert [view.id for view in views] == ["P-1", "P-2", "P-3", "P-4"]
    labels = [gen.label for gen in views[0].generations]
    assert labels == ["ppo", "lead-9", "reinforce", "start"]  # start is a row: no extra card
    assert views[0].generations[0].text == "ppo seed 0 after P-1 <b>&"
    assert views[0].prompt == "Summarize paper P-1 (test)."
