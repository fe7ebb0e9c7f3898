"""Runs with different shared settings are refused, or kept apart under --allow-mixed."""

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


def test_differing_rollout_setting_is_refused_naming_the_key(tmp_path: Path) -> None:
    make_run(tmp_path, "ppo", 0, config_changes={"rollout.advantage": "batch-mean"})
    make_run(tmp_path, "ppo", 1)
    make_run(tmp_path, "reinforce", 0)
    with pytest.raises(BenchError) as error:
        tables_for(tmp_path, allow_mixed=False)
    message = str(error.value)
    assert "rollout.advantage (batch-mean ×1, rloo ×2)" in message
    assert "--allow-mixed" in message and "'summarization'" in message


def test_differing_policy_and_task_version_are_refused(tmp_path: Path) -> None:
    make_run(tmp_path, "ppo", 0, config_changes={"policy": "smollm2-135m"}, task_version="2")
    make_run(tmp_path, "reinforce", 0)
    with pytest.raises(BenchError, match=r"policy \(smollm2-135m ×1, tiny ×1\)") as error:
        tables_for(tmp_path, allow_mixed=False)
    assert "task_version (1 ×1, 2 ×1)" in str(error.value)


def test_allow_mixed_keeps_settings_apart_and_warns(tmp_path: Path) -> None:
    for seed in (0, 1):
        make_run(tmp_path, "ppo", seed, 0.3, config_changes={"rollout.advantage": "batch-mean"})
        make_run(tmp_path, "ppo", seed, 0.4)
        make_run(tmp_path, "reinforce", seed, 0.2)
    tables, warnings = tables_for(tmp_path, allow_mixed=True)
    labels = [row.label for row in tables[0].rows]
    assert labels == [
        "ppo · rollout.advantage=rloo",
        "ppo · rollout.advantage=batch-mean",
        "reinforce · rollout.advantage=rloo",
    ]
    assert [row.metrics["eval/reward"].mean for row in tables[0].rows] == pytest.approx(
        [0.4, 0.3, 0.2], abs=1e-9
    )
    assert tables[0].varied == ("rollout.advantage",)
    assert "rollout.advantage" not in tables[0].conditions
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
