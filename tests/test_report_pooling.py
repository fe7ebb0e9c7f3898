"""Runs with different shared settings are refused, or kept apart under --allow-mixed; runs
with different algorithm parts are rows of their own."""

from pathlib import Path

import pytest
from report_fixtures import make_run

from harness.api.errors import BenchError
from reports.aggregate import build_tables
from reports.load import load_runs


def tables_for(root: Path, allow_mixed: bool) -> tuple[list, list[str]]:
    """Load every run under root and build the tables."""
    runs, skipped = load_runs([root])
    assert skipped == []
    return build_tables(runs, allow_mixed)


GRPO_PARTS = {  # as the grpo preset pins them (baselines/preset_table.py)
    "rollout.advantage": "group-norm",
    "rollout.loss_agg": "seq-mean-token-mean",
    "rollout.kl_placement": "loss",
    "rollout.kl_estimator": "k3",
    "rollout.kl_coef": 0.04,
}


def test_differing_rollout_setting_is_refused_naming_the_key(tmp_path: Path) -> None:
    make_run(tmp_path, "ppo", 0, config_changes={"rollout.temperature": 0.7})
    make_run(tmp_path, "ppo", 1)
    make_run(tmp_path, "reinforce", 0)
    with pytest.raises(BenchError) as error:
        tables_for(tmp_path, allow_mixed=False)
    message = str(error.value)
    assert "rollout.temperature (0.7 ×1, 1.0 ×2)" in message
    assert "--allow-mixed" in message and "'summarization'" in message


def test_runs_differing_only_in_parts_are_rows_without_allow_mixed(tmp_path: Path) -> None:
    for seed in (0, 1):
        make_run(tmp_path, "grpo", seed, 0.3, config_changes=GRPO_PARTS)
        make_run(tmp_path, "ppo", seed, 0.2)
    tables, warnings = tables_for(tmp_path, allow_mixed=False)
    assert warnings == []
    rows = tables[0].rows
    assert [(row.label, len(row.runs)) for row in rows] == [("grpo", 2), ("ppo", 2)]
    assert [row.parts["rollout.advantage"] for row in rows] == ["group-norm", "rloo"]
    assert tables[0].varied == ()
    assert "rollout.advantage" not in tables[0].conditions
    assert tables[0].conditions["rollout.temperature"] == 1.0


def test_a_shared_setting_is_refused_even_next_to_differing_parts(tmp_path: Path) -> None:
    make_run(tmp_path, "grpo", 0, config_changes=GRPO_PARTS | {"rollout.temperature": 0.7})
    make_run(tmp_path, "ppo", 0)
    with pytest.raises(BenchError) as error:
        tables_for(tmp_path, allow_mixed=False)
    message = str(error.value)
    assert "differ in shared settings" in message
    assert "rollout.temperature (0.7 ×1, 1.0 ×1)" in message and "advantage" not in message


def test_one_algorithm_with_two_advantages_is_two_labelled_rows(tmp_path: Path) -> None:
    for seed in (0, 1):
        make_run(tmp_path, "ppo", seed, 0.4, config_changes={"rollout.advantage": "gae"})
        make_run(tmp_path, "ppo", seed, 0.3)
        make_run(tmp_path, "reinforce", seed, 0.2)
    tables, warnings = tables_for(tmp_path, allow_mixed=False)
    assert warnings == []
    assert [(row.label, len(row.runs)) for row in tables[0].rows] == [
        ("ppo · advantage=gae", 2),
        ("ppo · advantage=rloo", 2),
        ("reinforce", 2),
    ]


def test_allow_mixed_keeps_settings_apart_and_warns(tmp_path: Path) -> None:
    for seed in (0, 1):
        changes = {"rollout.samples_per_prompt": 2}
        make_run(tmp_path, "ppo", seed, 0.3, config_changes=changes)
        make_run(tmp_path, "ppo", seed, 0.4)
        make_run(tmp_path, "reinforce", seed, 0.2)
    tables, warnings = tables_for(tmp_path, allow_mixed=True)
    labels = [row.label for row in tables[0].rows]
    assert labels == [
        "ppo · rollout.samples_per_prompt=4",
        "ppo · rollout.samples_per_prompt=2",
        "reinforce · rollout.samples_per_prompt=4",
    ]
    assert [row.metrics["eval/reward"].mean for row in tables[0].rows] == pytest.approx(
        [0.4, 0.3, 0.2], abs=1e-9
    )
    assert tables[0].varied == ("rollout.samples_per_prompt",)
    assert "rollout.samples_per_prompt" not in tables[0].conditions
    assert len(warnings) == 1 and warnings[0].startswith("MIXED SETTINGS in 'summarization'")


def test_algo_config_splits_rows_without_a_warning(tmp_path: Path) -> None:
    make_run(tmp_path, "ppo", 0, 0.3, config_changes={"algo_config.lr": 0.01})
    make_run(tmp_path, "ppo", 0, 0.4)
    make_run(tmp_path, "reinforce", 0, 0.2, config_changes={"algo_config.lr": 0.01})
    tables, warnings = tables_for(tmp_path, allow_mixed=False)
    assert warnings == []
    assert [row.label for row in tables[0].rows] == ["ppo · lr=0.001", "ppo · lr=0.01", "reinforce"]


def test_seed_out_and_device_never_matter(tmp_path: Path) -> None:
    make_run(tmp_path, "ppo", 0, config_changes={"out": "a", "device": "cuda"})
    make_run(tmp_path, "ppo", 1, config_changes={"out": "b", "device": "cpu"})
    tables, warnings = tables_for(tmp_path, allow_mixed=False)
    assert warnings == [] and len(tables[0].rows) == 1 and len(tables[0].rows[0].runs) == 2


def test_tasks_get_separate_tables(tmp_path: Path) -> None:
    make_run(tmp_path, "ppo", 0)
    make_run(tmp_path, "ppo", 0, config_changes={"task": "translation", "rollout.kl_coef": 0.1})
    tables, warnings = tables_for(tmp_path, allow_mixed=False)
    assert [table.task for table in tables] == ["summarization", "translation"]
    assert warnings == []


def test_memory_only_chunk_sizes_do_not_split_runs(tmp_path: Path) -> None:
    make_run(tmp_path, "ppo", 0, config_changes={"rollout.micro_batch_prompts": 1})
    make_run(tmp_path, "ppo", 1, config_changes={"eval.batch_prompts": 4})
    tables, warnings = tables_for(tmp_path, allow_mixed=False)
    assert warnings == [] and [len(row.runs) for row in tables[0].rows] == [2]
