"""NaN injection: a non-finite reward, loss or gradient stops the run before the weights move."""

import json

import pytest
import torch
from rich.console import Console
from safetensors.torch import load_file

from harness.launch import build_config, run
from harness.rl.guards import NonFinite, check_finite

SMALL = [
    "prompts_per_update=2",
    "rollout.samples_per_prompt=2",
    "eval.prompts=2",
    "eval.every=0",
    "checkpoint.every=1",
    "checkpoint.keep=true",
    "task.max_source_words=30",
    "task.max_new_tokens=8",
]


def test_check_finite_names_the_quantity():
    check_finite("reward", torch.tensor([0.0, 1.0]))
    with pytest.raises(NonFinite, match=r"reward is not finite \(1 of 3 values\)"):
        check_finite("reward", torch.tensor([0.0, float("nan"), 1.0]))
    with pytest.raises(NonFinite, match="grad_norm is not finite"):
        check_finite("grad_norm", float("inf"))


def poisoned_run(tmp_path, algo: str, capsys) -> tuple[dict, str, object]:
    """Run 3 updates whose second is poisoned (by the caller's monkeypatch); result and output."""
    config = build_config(
        "summarization", algo, policy="tiny", samples=12, seed=0, out=str(tmp_path),
        overrides=[*SMALL, *([] if algo == "trpo" else ["lr=1e-3"])],
    )  # fmt: skip
    run_dir = run(config, Console(), export=True)
    output = capsys.readouterr().out
    return json.loads((run_dir / "result.json").read_text()), output, run_dir


def assert_weights_of_the_last_good_update(run_dir) -> None:
    """The exported policy equals the checkpoint saved after update 1 (the last good one)."""
    saved = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert json.loads(saved["progress"])["spent"]["updates"] == 1
    exported = load_file(run_dir / "policy" / "model.safetensors")
    for name, tensor in exported.items():
        assert torch.equal(tensor, saved["model"][name]), name


def test_a_nan_reward_stops_the_run_before_the_update(bench_cache, tmp_path, monkeypatch, capsys):
    from harness.loop import dynamic_sampling as groups

    real, calls = groups.score_with_parts, []

    def nan_on_second_update(reward, examples, completions):
        calls.append(1)
        totals, parts = real(reward, examples, completions)
        return ([float("nan"), *totals[1:]] if len(calls) == 2 else totals), parts

    monkeypatch.setattr(groups, "score_with_parts", nan_on_second_update)
    result, output, run_dir = poisoned_run(tmp_path, "reinforce", capsys)
    assert result["stop_reason"] == "nonfinite" and result["eval_after"] is None
    assert result["spent"]["updates"] == 1
    assert "update 2: reward is not finite (1 of 4 values)" in output
    assert_weights_of_the_last_good_update(run_dir)


@pytest.mark.parametrize(
    ("algo", "quantity"),
    [("reinforce", "grad_norm"), ("ppo", "grad_norm"), ("trpo", "surrogate gradient")],
)
def test_a_nan_loss_stops_the_run_before_the_step(
    bench_cache, tmp_path, monkeypatch, capsys, algo, quantity
):
    from harness.rl.advantages import Estimator

    real, calls = Estimator.__call__, []

    def nan_on_second_update(self, *args, **kwargs):
        calls.append(1)
        advantages, targets = real(self, *args, **kwargs)
        return (advantages * float("nan") if len(calls) == 2 else advantages), targets

    monkeypatch.setattr(Estimator, "__call__", nan_on_second_update)
    result, output, run_dir = poisoned_run(tmp_path, algo, capsys)
    assert result["stop_reason"] == "nonfinite" and result["spent"]["updates"] == 1
    assert f"update 2: {quantity} is not finite" in output
    assert_weights_of_the_last_good_update(run_dir)


def test_rewards_outside_the_declared_range_are_counted_and_reported_once(
    bench_cache, tmp_path, monkeypatch, capsys
):
    from harness.loop import dynamic_sampling as groups

    real = groups.score_with_parts

    def one_too_high(reward, examples, completions):
        totals, parts = real(reward, examples, completions)
        return [1.5, *totals[1:]], parts

    monkeypatch.setattr(groups, "score_with_parts", one_too_high)
    result, output, run_dir = poisoned_run(tmp_path, "reinforce", capsys)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    counts = [row["train/reward_out_of_range"] for row in rows if row["kind"] == "train"]
    assert result["stop_reason"] == "samples" and counts == [1.0, 1.0, 1.0]
    assert output.count("outside its declared range [0.0, 1.0]") == 1
