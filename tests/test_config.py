"""Config: -o overrides with types and sections, ambiguity, unknown keys, replay from JSON."""

import json

import pytest

from baselines.reinforce import Config as ReinforceConfig
from harness.api.errors import BenchError
from harness.config.overrides import apply_overrides, resolve_defaults
from harness.config.run_config import RunConfig, load_config_file
from tasks.summarization import summarization


def resolved(*overrides: str) -> RunConfig:
    config = apply_overrides(
        RunConfig("summarization", "reinforce"), list(overrides), ReinforceConfig, summarization
    )
    return resolve_defaults(config, ReinforceConfig, summarization)


def test_qualified_and_bare_keys_are_typed():
    config = resolved(
        "rollout.kl_coef=0.1",
        "lr=3e-5",
        "budget.tokens=none",
        "samples=64",
        "task.target=title",
        "seed=3",
    )
    assert config.rollout.kl_coef == 0.1
    assert config.algo_config["lr"] == 3e-5
    assert config.budget.tokens is None and config.budget.samples == 64
    assert config.task_options["target"] == "title"
    assert config.seed == 3


def test_defaults_are_filled_for_algo_and_task():
    config = resolved()
    assert config.algo_config == {"lr": ReinforceConfig().lr, "max_grad_norm": 1.0}
    assert config.task_options["source"] == "aclsum"


def test_ambiguous_bare_key_lists_the_qualified_ones():
    with pytest.raises(
        BenchError,
        match="ambiguous; write one of: rollout.samples_per_prompt, eval.samples_per_prompt",
    ):
        resolved("samples_per_prompt=2")


def test_unknown_key_suggests_the_closest():
    with pytest.raises(BenchError, match="unknown option 'kl_coeff'; did you mean"):
        resolved("kl_coeff=1")


def test_bad_value_names_the_type():
    with pytest.raises(BenchError, match="option 'lr' expects float, got 'fast'"):
        resolved("lr=fast")
    with pytest.raises(BenchError, match="key=value"):
        resolved("lr")


def test_config_round_trips_through_json(tmp_path):
    config = resolved("rollout.kl_coef=0.2", "task.target=outcome")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    assert load_config_file(path) == config
