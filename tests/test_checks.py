"""Up-front checks: every bad value fails in one line, exit code 2, before anything is written."""

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from harness.api.errors import BenchError
from harness.cli import app
from harness.config.run_config import BudgetConfig, RunConfig
from harness.launch import build_config, resolve

BAD_OPTIONS = [
    ("rollout.temperature=0", "rollout.temperature must be > 0, got 0.0"),
    ("lr=-1e-5", "algo.lr must be > 0, got -1e-05"),
    ("rollout.kl_placement=rewards", "rollout.kl_placement must be one of loss, reward; got "),
    ("kl_estimator=k4", "rollout.kl_estimator must be one of k1, k2, k3; got 'k4'"),
    ("advantage=rlo", "did you mean 'rloo'"),
    ("eval.split=test", "eval.split was removed: runs evaluate val during training"),
    (
        "rollout.samples_per_prompt=1",
        "rloo compares the k samples of a prompt and needs rollout.samples_per_prompt ≥ 2",
    ),
    ("budget.samples=0", "budget.samples must be > 0, got 0"),
    ("rollout.gamma=1.5", "rollout.gamma must be in [0, 1], got 1.5"),
    ("seed=-1", "seed must be ≥ 0, got -1"),
    ("task.target=abstract", "unknown target 'abstract'"),
    ("kl_placement=loss", "k1 in the loss has zero expected gradient"),
    ("kl_estimator=k3", "k3 in the reward is a biased estimate of the sequence KL"),
]


@pytest.mark.parametrize(("override", "message"), BAD_OPTIONS)
def test_bad_option_is_one_line_with_exit_2_and_writes_nothing(tmp_path, override, message):
    out = tmp_path / "runs"
    args = ["run", "summarization", "--algo", "reinforce", "--policy", "tiny"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "-o", override])
    assert result.exit_code == 2, result.output
    assert message in result.output and result.output.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("algo", "override", "message"),
    [
        ("trpo", "max_kl=0", "algo.max_kl must be > 0, got 0.0"),
        ("trpo", "backtrack_ratio=1", "algo.backtrack_ratio must be in (0, 1)"),
        ("ppo", "epochs=0", "algo.epochs must be ≥ 1, got 0"),
        ("ppo", "target_kl=-0.1", "algo.target_kl must be > 0"),
    ],
)
def test_algorithm_configs_check_their_ranges(tmp_path, algo, override, message):
    with pytest.raises(BenchError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_config("summarization", algo, policy="tiny", out=str(tmp_path), overrides=[override])


def test_budget_without_any_limit_is_refused(tmp_path):
    config = RunConfig("summarization", "reinforce", out=str(tmp_path), budget=BudgetConfig(None))
    with pytest.raises(BenchError, match="the budget has no limit"):
        resolve(config)


def test_devices_are_checked_against_this_machine(tmp_path):
    import torch

    with pytest.raises(BenchError, match="unknown device 'gpu'.*cuda"):
        build_config("summarization", "reinforce", device="gpu", out=str(tmp_path))
    if not torch.cuda.is_available():
        with pytest.raises(BenchError, match="device 'cuda' is not available"):
            build_config("summarization", "reinforce", device="cuda", out=str(tmp_path))


def test_an_output_directory_below_a_file_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(BenchError, match="cannot be created: .* is a file"):
        build_config("summarization", "reinforce", out=str(blocker / "runs"))


def test_unknown_policy_is_refused_before_loading(tmp_path):
    with pytest.raises(BenchError, match=r"unknown policy 'no-such'.*\(policies: .*smollm2-135m"):
        build_config("summarization", "reinforce", policy="no-such", out=str(tmp_path))


def test_a_replayed_config_file_is_checked_like_flags(tmp_path):
    good = build_config("summarization", "reinforce", policy="tiny", out=str(tmp_path))
    data = good.to_dict()
    data["rollout"]["temperature"] = "hot"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    with pytest.raises(BenchError, match="rollout.temperature expects float, got 'hot'"):
        build_config(config_file=path)


def test_a_python_config_is_checked_by_resolve(tmp_path):
    config = RunConfig("summarization", "ppo", out=str(tmp_path))
    with pytest.raises(BenchError, match="rollout.kl_estimator must be one of"):
        resolve(replace(config, rollout=replace(config.rollout, kl_estimator="k9")))
    assert resolve(config).algo_config["clip_eps"] == 0.2
