"""Each row shows its algorithm parts, the KL caption names each row's KL setting, and runs
that generate baseline completions (ReMax) are marked."""

import csv
import io
import json
from pathlib import Path

import pytest
from report_fixtures import make_anchor, make_run

from harness.api.choices import KL_GRADIENTS
from reports.aggregate import PASSES_METRIC, build_tables
from reports.captions import kl_lines
from reports.html import page
from reports.load import load_runs
from reports.tables import csv_text, json_text, markdown

GRPO = {
    "rollout.advantage": "group-norm",
    "rollout.loss_agg": "seq-mean-token-mean",
    "rollout.kl_placement": "loss",
    "rollout.kl_estimator": "k3",
    "rollout.kl_coef": 0.04,
}
DAPO = {
    "rollout.advantage": "group-norm",
    "rollout.loss_agg": "token-mean",
    "rollout.dynamic_sampling": True,
    "rollout.kl_coef": 0.0,
}
REMAX = {"rollout.advantage": "remax", "rollout.kl_coef": 0.01}
REWARD_K1 = KL_GRADIENTS["reward", "k1"]
LOSS_K3 = KL_GRADIENTS["loss", "k3"]


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
def mixed(tmp_path_factory: pytest.TempPathFactory) -> list:
    """grpo (0.40), ppo (0.30), reinforce (0.20), dapo (0.15) × 1 seed, and start."""
    root = tmp_path_factory.mktemp("runs")
    make_run(root, "grpo", 0, 0.40, config_changes=GRPO)
    make_run(root, "ppo", 0, 0.30)
    make_run(root, "reinforce", 0, 0.20)
    make_run(root, "dapo", 0, 0.15, config_changes=DAPO)
    make_anchor(root, "start", 0)
    return build(root)


def test_each_row_shows_its_parts_in_every_format(mixed: list) -> None:
    text = markdown(mixed, [])
    assert (
        cells_of(text, "| 1 | grpo |")["parts"]
        == "group-norm · seq-mean-token-mean · k3 in loss β 0.04"
    )
    assert cells_of(text, "| 2 | ppo |")["parts"] == "rloo · k1 in reward β 0.05"
    dapo = "group-norm · token-mean · no KL · dynamic sampling"
    assert cells_of(text, "| 4 | dapo |")["parts"] == dapo
    assert cells_of(text, "| 5 | start (anchor) |")["parts"] == "—"
    records = {r["row"]: r for r in csv.DictReader(io.StringIO(csv_text(mixed)))}
    assert (
        records["dapo"]["parts"] == dapo
        and records["dapo"]["part:rollout.loss_agg"] == "token-mean"
    )
    assert records["dapo"]["part:rollout.dynamic_sampling"] == "True"
    rows = {row["row"]: row for row in json.loads(json_text(mixed, []))["tables"][0]["rows"]}
    assert rows["grpo"]["parts"]["rollout.kl_estimator"] == "k3"
    assert rows["dapo"]["parts_text"] == dapo and rows["start"]["parts"] == {}
    assert '<td class="label">group-norm · token-mean · no KL · dynamic sampling</td>' in page(
        mixed, [], {"summarization": []}, {"summarization": []}
    )


def test_kl_caption_has_a_line_per_setting_naming_its_rows(mixed: list) -> None:
    expected = [
        f"KL penalty (grpo): β 0.04, k3 in the loss; its gradient: {LOSS_K3}.",
        f"KL penalty (ppo, reinforce): β 0.05, k1 in the reward; its gradient: {REWARD_K1}.",
        "No KL penalty (β 0): dapo.",
    ]
    assert kl_lines(mixed[0]) == expected
    lines = markdown(mixed, []).splitlines()
    assert all(f"- {line}" in lines for line in expected)
    assert json.loads(json_text(mixed, []))["tables"][0]["kl"] == expected
    html = page(mixed, [], {"summarization": []}, {"summarization": []})
    assert '<p class="line">No KL penalty (β 0): dapo.</p>' in html


def test_one_kl_setting_keeps_one_line_with_the_runs_own_gradient_words(tmp_path: Path) -> None:
    for algo in ("ppo", "reinforce"):
        path = make_run(tmp_path, algo, 0, config_changes=GRPO)
        result = json.loads((path / "result.json").read_text())
        result["kl_gradient"] = "words from result.json"
        (path / "result.json").write_text(json.dumps(result))
    make_anchor(tmp_path, "start", 0)  # an anchor row has no KL setting of its own
    (table,) = build(tmp_path)
    expected = "KL penalty: β 0.04, k3 in the loss; its gradient: words from result.json."
    assert kl_lines(table) == [expected]
    assert f"\n{expected}\n" in markdown([table], [])


def test_baseline_completions_are_flagged_not_counted_as_samples(tmp_path: Path) -> None:
    for seed in (0, 1):
        make_run(tmp_path, "remax", seed, 0.3, config_changes=REMAX, baseline_samples=1024)
        make_run(tmp_path, "rloo", seed, 0.2)
    (table,) = build(tmp_path)
    rows = {row.label: row for row in table.rows}
    flag = "uses 1,024 greedy baseline completions per run (not training samples)"
    assert flag in rows["remax"].flags and not any("greedy" in f for f in rows["rloo"].flags)
    assert rows["remax"].baseline_samples == 1024 and rows["rloo"].baseline_samples == 0
    # The samples and compute cells are as the runs counted them: the same for both rows.
    for key in ("spent/samples", PASSES_METRIC):
        assert rows["remax"].metrics[key].mean == rows["rloo"].metrics[key].mean
    note = next(x for x in markdown([table], []).splitlines() if x.startswith("- **remax**: "))
    assert flag in note
    records = {r["row"]: r for r in csv.DictReader(io.StringIO(csv_text([table])))}
    assert (
        records["remax"]["baseline_samples"] == "1024"
        and records["rloo"]["baseline_samples"] == "0"
    )
    data = json.loads(json_text([table], []))
    assert [row["baseline_samples"] for row in data["tables"][0]["rows"]] == [1024, 0]


def test_uneven_baseline_completions_show_their_range(tmp_path: Path) -> None:
    make_run(tmp_path, "remax", 0, config_changes=REMAX, baseline_samples=1000)
    make_run(tmp_path, "remax", 1, config_changes=REMAX, baseline_samples=1024)
    (table,) = build(tmp_path)
    note = "uses 1,000–1,024 greedy baseline completions per run (not training samples)"
    assert note in table.rows[0].flags and table.rows[0].baseline_samples == 1012
