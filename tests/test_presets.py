"""Presets of the REINFORCE family: each equals its decomposition; dapo's and reinforce++'s clip
binds; dynamic sampling and remax keep the budget exact; grpo and dapo learn the small task the
baselines learn."""

import json

import pytest
from equal_groups_task import constant_group
from rich.console import Console
from test_learning import learnable_task, train_curve  # noqa: F401 (fixture)
from test_registry import register

from baselines.preset_table import PRESETS
from harness.api import registry
from harness.launch import build_config, run

SMALL = ["eval.prompts=2", "eval.every=0", "task.max_source_words=30", "task.max_new_tokens=8"]


def as_overrides(parts: dict) -> list[str]:
    """A preset's parts written as `-o key=value` items."""
    return [f"{key.removeprefix('algo.')}={value}" for key, value in parts.items()]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_preset_is_its_base_algorithm_with_its_parts(bench_cache, name):
    preset = build_config("summarization", name, policy="tiny")
    base, parts = PRESETS[name]["base"], PRESETS[name]["parts"]
    spelled = build_config("summarization", base, policy="tiny", overrides=as_overrides(parts))
    assert preset.to_dict() == {**spelled.to_dict(), "algo": name}
    assert registry.load("algorithms", name).update is registry.load("algorithms", base).update


def test_an_explicit_option_overrides_the_preset(bench_cache):
    config = build_config("summarization", "grpo", policy="tiny", overrides=["kl_coef=0.1"])
    assert config.rollout.kl_coef == 0.1 and config.rollout.advantage == "group-norm"
    assert config.algo_config["epochs"] == 1


def test_a_replayed_config_keeps_its_values(bench_cache, tmp_path):
    config = build_config("summarization", "dapo", policy="tiny", overrides=["clip_high=0.3"])
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    assert build_config(config_file=path) == config


def train_rows(run_dir) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [row for row in rows if row["kind"] == "train"]


@pytest.mark.slow
@pytest.mark.parametrize(("algo", "steps"), [("dapo", 16), ("reinforce++", 8)])
def test_the_clip_binds_in_presets_with_several_steps_per_rollout(
    bench_cache, tmp_path, algo, steps
):
    # The check: `bench run summarization --algo dapo --policy tiny --samples 64
    # -o lr=1e-3` logs a clip fraction > 0 (a clip that never binds is not that algorithm).
    config = build_config(
        "summarization", algo, policy="tiny", samples=64, seed=0, out=str(tmp_path),
        overrides=["lr=1e-3", *SMALL],
    )  # fmt: skip
    rows = train_rows(run(config, Console(quiet=True)))
    assert rows[0]["ppo/steps"] == steps  # 8 prompts: dapo 2 epochs × 8, reinforce++ 1 × 8
    assert max(row["ppo/clipfrac"] for row in rows) > 0, [row["ppo/clipfrac"] for row in rows]


@pytest.fixture
def equal_groups_task(monkeypatch, tmp_path):
    """Register the test task whose reward gives half of the prompts all-equal groups."""
    entry = "equal-groups = equal_groups_task:equal_groups"
    register(tmp_path / "entry-points", "bench-test-tasks", "bench.tasks", entry)
    monkeypatch.syspath_prepend(str(tmp_path / "entry-points"))
    return "equal-groups"


@pytest.mark.slow
def test_dynamic_sampling_drops_equal_groups_and_keeps_the_budget(
    bench_cache, equal_groups_task, tmp_path
):
    config = build_config(
        equal_groups_task, "dapo", policy="tiny", samples=50, seed=0, out=str(tmp_path),
        overrides=["prompts_per_update=4", "rollout.samples_per_prompt=3", *SMALL],
    )  # fmt: skip
    run_dir = run(config, Console(quiet=True))
    result = json.loads((run_dir / "result.json").read_text())
    rows = train_rows(run_dir)
    # 50 samples at k = 3 pay for 16 prompts: every sampled completion counts, none beyond.
    assert result["spent"]["samples"] == 48 and result["stop_reason"] == "samples"
    assert sum(row["train/dynamic_prompts_drawn"] for row in rows) == 16
    assert rows[0]["train/dynamic_prompts_drawn"] > 4  # dropped prompts were replaced
    assert any(row["train/dynamic_kept_share"] < 1 for row in rows)


def test_fill_varied_keeps_exactly_the_prompts_with_varied_rewards(
    bench_cache, equal_groups_task, tmp_path
):
    from harness.loop.dynamic_sampling import fill_varied, sample_scored, varied_prompts
    from harness.loop.setup import prepare
    from harness.loop.timing import Stopwatch
    from harness.rundir.layout import create_run_dir

    config = build_config(
        equal_groups_task, "dapo", policy="tiny", samples=64, seed=0, out=str(tmp_path),
        overrides=["prompts_per_update=4", "rollout.samples_per_prompt=2", *SMALL],
    )  # fmt: skip
    setup = prepare(config, Console(quiet=True), create_run_dir(config))
    pool = iter(setup.task.examples("train"))
    drawn: list = []

    def draw(count: int) -> list:
        drawn.extend(next(pool) for _ in range(count))
        return drawn[-count:]

    timer = Stopwatch()
    first = sample_scored(setup, draw(4), timer)
    kept, sampled, count = fill_varied(setup, first, draw, lambda so_far: 100, timer)
    varied = [e for e in drawn if not constant_group(e)]
    assert [e.id for e in kept.rollout.examples] == [e.id for e in varied][:4]
    assert count == len(drawn) and sampled == 2 * len(drawn) and len(drawn) > 4
    assert kept.rollout.completion_ids.shape[0] == 8 and len(kept.rewards) == 8
    assert varied_prompts([1.0, 1.0, 0.2, 0.3, 0.5, 0.5], 2) == [1]
    assert timer.seconds["reward"] > 0


@pytest.mark.slow
def test_remax_counts_its_greedy_completions_apart_from_the_samples(bench_cache, tmp_path):
    config = build_config(
        "summarization", "remax", policy="tiny", samples=16, seed=0, out=str(tmp_path),
        overrides=["prompts_per_update=2", "rollout.samples_per_prompt=4", *SMALL],
    )  # fmt: skip
    run_dir = run(config, Console(quiet=True))
    spent = json.loads((run_dir / "result.json").read_text())["spent"]
    rows = train_rows(run_dir)
    assert spent["samples"] == 16 and spent["baseline_samples"] == 4  # 2 updates × 2 prompts
    sampled_tokens = sum(row["train/length"] * 8 for row in rows)
    assert spent["tokens"] > round(sampled_tokens)  # the greedy completions' tokens count too


@pytest.mark.slow
@pytest.mark.parametrize("algo", ["grpo", "dapo"])
def test_preset_raises_reward(bench_cache, learnable_task, tmp_path, algo):  # noqa: F811
    rewards, result = train_curve(algo, tmp_path, ["lr=2e-3"])
    first, last = sum(rewards[:4]) / 4, sum(rewards[-4:]) / 4
    assert last > first + 0.1, f"{algo}: train reward {first:.3f} → {last:.3f}"
    assert result["heldout_gain"]["low"] > 0, result["heldout_gain"]


@pytest.mark.parametrize(
    ("name", "precision", "warned"),
    [
        ("gspo", "bf16", True),
        ("gspo", "fp32", False),
        ("ppo", "bf16", False),
        ("dapo", "bf16", False),
    ],
)
def test_bf16_warns_where_its_rounding_outruns_the_clip(
    bench_cache, tmp_path, name, precision, warned
):
    """GSPO's 3e-4/4e-4 sequence clip binds on bf16 rounding alone (every completion, measured by
    benchmarks/precision_mismatch.py); PPO's 0.2 and DAPO's 0.2/0.28 do not, nor does fp32."""
    from harness.loop.setup import prepare

    overrides = [*SMALL, f"precision={precision}"]
    config = build_config(
        "summarization", name, policy="tiny", out=str(tmp_path), overrides=overrides
    )
    console = Console(record=True, width=300)
    prepare(config, console, tmp_path).log.close()
    shown = console.export_text()
    assert ("run this algorithm in fp32" in shown) == warned
    if warned:
        assert "clipped at 0.0003/0.0004" in shown
