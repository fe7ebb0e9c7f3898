"""`bench sweep --estimate`: the prediction by hand, the measured costs, the CLI end to end."""

import tempfile

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli import app
from harness.config.run_config import BudgetConfig
from harness.sweep.calibration import measured_costs
from harness.sweep.estimate import (
    Costs,
    Prediction,
    Workload,
    middle_evaluations,
    predict,
    predict_start,
    total,
    updates_per_run,
    workload,
)
from harness.sweep.plan import plan_sweep
from harness.sweep.spec import parse_spec

COSTS = Costs(
    update_seconds=30.0,
    samples_per_update=32.0,
    tokens_per_update=640.0,
    sampled_seconds=2.0,
    greedy_seconds=0.5,
    other_seconds=20.0,
)
WORK = Workload(
    tuning_runs=6,
    report_runs=5,
    budget=BudgetConfig(samples=770),
    samples_per_prompt=4,
    eval_every=4,
    val_prompts=100,
    test_prompts=120,
)


def test_the_prediction_matches_a_hand_computation():
    # 770 samples: 192 whole prompts of 4 = 768 usable, 32 per update → 24 updates; val after
    # updates 4, 8, 12, 16, 20 (never after the last) = 5 middle evaluations of 100 prompts.
    # tuning trial: 2 × 100 × (2.0 + 0.5) + 5 × 100 × 2.0 = 500 + 1000 = 1500 s
    # report run:   (100 + 120) × (2.0 + 0.5) + 1000 = 550 + 1000 = 1550 s (start: the start row)
    found = predict(WORK, COSTS)
    assert found == Prediction(
        runs=11,
        updates=24,
        update_seconds=30.0,
        train_seconds=11 * 24 * 30.0,  # 7920
        eval_seconds=6 * 1500.0 + 5 * 1550.0,  # 16750
        other_seconds=11 * 20.0,
    )
    assert found.total_seconds == pytest.approx(7920 + 16750 + 220, abs=1e-6)
    # one start evaluation per seed, val and test, at the mean of two algorithms' costs (3.0, 1.0)
    slower = Costs(30.0, 32.0, 640.0, sampled_seconds=4.0, greedy_seconds=1.5, other_seconds=0.0)
    start = predict_start(5, 220, [COSTS, slower])
    assert start == Prediction(0, 0, 0.0, 0.0, 5 * 220 * (3.0 + 1.0), 0.0)
    assert total([found, start]) == Prediction(11, 0, 0.0, 7920.0, 16750.0 + 4400.0, 220.0)


@pytest.mark.parametrize(
    ("budget", "updates"),
    [
        (BudgetConfig(samples=768), 24),
        (BudgetConfig(samples=770), 24),  # 770 // 4 = 192 prompts: the 2 samples left are unusable
        (BudgetConfig(samples=772), 25),  # 193 prompts: a last update of one prompt
        (BudgetConfig(samples=768, updates=10), 10),  # the first limit reached
        (BudgetConfig(samples=None, tokens=6400), 10),  # 640 tokens per update
        (BudgetConfig(samples=None, seconds=100.0), 4),  # checked before each update: 4 × 30 s
    ],
)
def test_updates_per_run_stop_at_the_first_limit(budget, updates):
    assert updates_per_run(budget, 4, COSTS) == updates


def test_dynamic_sampling_spends_the_budget_in_fewer_updates():
    drawn = Costs(30.0, 40.0, 640.0, 2.0, 0.5, 20.0)  # 40 samples per update: 768 / 40 = 19.2
    assert updates_per_run(BudgetConfig(samples=768), 4, drawn) == 20


@pytest.mark.parametrize(
    ("updates", "every", "middle"), [(24, 4, 5), (25, 4, 6), (24, 0, 0), (8, 8, 0), (9, 8, 1)]
)
def test_middle_evaluations_follow_the_runner(updates, every, middle):
    assert middle_evaluations(updates, every) == middle


def test_the_workload_counts_extra_trials_on_every_tuning_seed(tmp_path):
    spec = {
        "tasks": ["summarization"],
        "algos": ["reinforce", "ppo"],
        "seeds": [0, 1, 2],
        "policy": "tiny",
        "budget": {"samples": 96},
        "overrides": {"eval.every": 3, "rollout.samples_per_prompt": 2},
        "tune": {
            "seeds": [100, 101],
            "grid": {
                "reinforce": {"lr": [1.0e-3, 3.0e-3, 1.0e-2]},
                "ppo": {"lr": [1.0e-3, 2.0e-3, 3.0e-3]},
            },
            "extend_edges": 1,
        },
    }
    plan = plan_sweep(parse_spec(spec, str(tmp_path)))
    found = workload(plan, "summarization", "ppo", (7, 9))
    assert found == Workload(
        tuning_runs=(3 + 1) * 2,
        report_runs=3,
        budget=BudgetConfig(samples=96),
        samples_per_prompt=2,
        eval_every=3,
        val_prompts=7,
        test_prompts=9,
    )


def test_measured_costs_skip_the_warm_up_and_the_start_evaluation():
    def train(update, seconds):
        return {
            "kind": "train",
            "update": update,
            "seconds": seconds,
            "samples_seen": 8 * update,
            "tokens_generated": 50 * update,
        }

    def evaluation(label, decoding, seconds):
        return {
            "kind": "eval",
            "label": label,
            "split": "val",
            "decoding": decoding,
            "eval/seconds": seconds,
        }

    rows = [
        evaluation("before", "sampled", 9.0),  # pays for loading the reward: not a unit cost
        evaluation("before", "greedy", 1.5),
        train(1, 5.0),  # the warm-up
        train(2, 7.0),
        train(3, 9.5),
        evaluation("after", "sampled", 2.0),
        evaluation("after", "greedy", 1.0),
    ]
    found = measured_costs(rows, prompts=4, wall=30.0)
    # 3 updates at 2.25 s and 2 evaluations of 4 prompts at 0.5 + 0.25 s: 6.75 + 6 = 12.75 s
    assert found == Costs(2.25, 8.0, 50.0, 0.5, 0.25, 30.0 - 12.75)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--dry-run"], "--dry-run"),
        (["--out", "elsewhere"], "--out"),
        (["--executor", "ray"], "--executor ray"),
        (["--address", "ray://head:10001"], "--address"),
    ],
)
def test_estimate_refuses_options_that_make_no_sense_with_it(tmp_path, options, named):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({"tasks": ["summarization"], "algos": ["reinforce"]}))
    result = CliRunner().invoke(app, ["sweep", str(path), "--estimate", *options])
    assert result.exit_code == 2
    assert f"error: --estimate cannot be combined with {named}: it runs" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_estimate_on_tiny_prints_the_table_and_writes_nothing(
    tiny_policy, tmp_path, monkeypatch
):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the calibration runs
    out = tmp_path / "out"
    spec = {
        "tasks": ["summarization"],
        "algos": ["reinforce"],
        "seeds": [0, 1],
        "policy": "tiny",
        "budget": {"samples": 16},
        "overrides": {
            "rollout.prompts_per_update": 2,
            "rollout.samples_per_prompt": 2,
            "eval.prompts": 6,
            "eval.every": 2,
            "task.max_source_words": 40,  # as the tiny_policy fixture: its cached build
            "task.max_new_tokens": 8,
        },
        "tune": {"seeds": [100], "grid": {"reinforce": {"lr": [1.0e-3, 3.0e-3]}}},
        "threads": 1,
        "out": str(out),
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    result = CliRunner().invoke(app, ["sweep", str(path), "--estimate"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "calibrating  summarization · reinforce" in lines
    header = next(line for line in lines if line.startswith("task"))
    assert header.split() == [
        "task",
        "algo",
        "runs",
        "updates",
        "s/update",
        "train",
        "h",
        "eval",
        "h",
        "other",
        "h",
        "total",
        "h",
    ]
    # 2 tuning trials + 2 report seeds, 16 / (2 × 2) = 4 updates each
    assert next(line for line in lines if "reinforce" in line and line.startswith("summ")).split()[
        2:4
    ] == ["4", "4"]
    assert any(line.split()[:2] == ["summarization", "start"] for line in lines)
    assert any(line.startswith("total") for line in lines)
    assert any(line.startswith("predicted    4 runs: training") for line in lines)
    assert "through the sweep's worker on cpu" in result.output
    assert not out.exists()
    assert not [p for p in scratch.iterdir() if p.name.startswith("bench-estimate-")]
