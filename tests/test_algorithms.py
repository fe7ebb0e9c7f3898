"""Every registered algorithm: the same gradient at θ = θ_old, a working update, learning."""

import json
from typing import get_args

import pytest
import torch
from test_learning import learnable_task, train_curve  # noqa: F401 (fixture)

from baselines import trpo
from harness.api import registry
from harness.api.algorithm import LossSettings
from harness.api.batch import Batch
from harness.api.choices import LossAgg
from harness.rl.losses import policy_logprobs
from harness.rl.value import attach_value_head, value_head

ALGORITHMS = sorted(registry.entries("algorithms"))
RL_ALGORITHMS = [  # supervised trains on references: no advantages, no gradient identity
    name for name in ALGORITHMS if registry.load("algorithms", name).trains_on == "samples"
]


def on_policy_batch(policy, token_level: bool) -> Batch:
    """A rollout batch whose old log-probs are the current policy's (θ = θ_old)."""
    from harness.loop.rollout import reference_scores, sample_rollout
    from tasks.summarization import summarization

    torch.manual_seed(3)
    examples = summarization(max_source_words=30).examples("train")[:4]
    rollout = sample_rollout(policy, examples, 2, 8, 1.0, 256)
    old, ref, _ = reference_scores(policy, rollout, 1.0, 2)
    shape = rollout.completion_ids.shape if token_level else rollout.completion_ids.shape[:1]
    batch = Batch(
        prompt_ids=rollout.prompt_ids, prompt_mask=rollout.prompt_mask,
        completion_ids=rollout.completion_ids, completion_mask=rollout.completion_mask,
        old_logprobs=old, ref_logprobs=ref, returns=torch.randn(8), advantages=torch.randn(shape),
    )  # fmt: skip
    with torch.no_grad():
        exact_old = policy_logprobs(policy.model, batch, temperature=1.0)
    return Batch(**{**batch.__dict__, "old_logprobs": exact_old})


def loss_gradient(model, name: str, batch: Batch, loss_agg: str) -> torch.Tensor:
    """∇θ of the algorithm's declared loss at θ_old, flattened."""
    algorithm = registry.load("algorithms", name)
    settings = LossSettings(1.0, 2, loss_agg=loss_agg, max_new_tokens=8)
    model.zero_grad(set_to_none=True)
    logprobs = policy_logprobs(model, batch, temperature=1.0)
    algorithm.loss(logprobs, batch, algorithm.Config(), settings)[0].backward()
    grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    model.zero_grad(set_to_none=True)
    return grads


@pytest.mark.parametrize("loss_agg", get_args(LossAgg))
@pytest.mark.parametrize("token_level", [False, True])
def test_all_algorithms_have_the_reinforce_gradient_at_theta_old(
    tiny_policy, token_level, loss_agg
):
    assert {"reinforce", "ppo", "trpo"} <= set(ALGORITHMS)
    batch = on_policy_batch(tiny_policy, token_level)
    reference = loss_gradient(tiny_policy.model, "reinforce", batch, loss_agg)
    assert reference.abs().max() > 1e-4
    for name in RL_ALGORITHMS:
        gradient = loss_gradient(tiny_policy.model, name, batch, loss_agg)
        torch.testing.assert_close(gradient, reference, atol=1e-6, rtol=0, msg=name)


def run_rows(tmp_path, algo: str, overrides: list[str]) -> list[dict]:
    """Train rows of a 2-update run of `algo` on the tiny policy."""
    from rich.console import Console

    from harness.launch import build_config, run

    config = build_config(
        "summarization", algo, policy="tiny", samples=16, seed=0, out=str(tmp_path),
        overrides=["prompts_per_update=2", "rollout.samples_per_prompt=4", "eval.prompts=2",
                   "task.max_source_words=40", "task.max_new_tokens=12", *overrides],
    )  # fmt: skip
    run_dir = run(config, Console(quiet=True))
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [row for row in rows if row["kind"] == "train"]


@pytest.mark.parametrize("algo", ["reinforce", "ppo", "trpo"])
@pytest.mark.parametrize(
    "extra",
    [["advantage=gae"], ["advantage=ema", "kl_placement=loss", "kl_estimator=k3", "kl_target=1"]],
)
def test_every_algorithm_runs_with_shared_options(bench_cache, tmp_path, algo, extra):
    rows = run_rows(tmp_path, algo, extra)
    assert len(rows) == 2 and all(row["train/kl_exact"] >= 0 for row in rows)
    assert rows[1]["train/kl_exact"] > 0  # the first update moved the policy
    assert "train/kl_coef" in rows[0]
    if "advantage=gae" in extra:
        assert "loss/value" in rows[0] and "value/explained_variance" in rows[0]
    if algo == "trpo":  # the line search keeps every accepted step inside the trust region
        assert all(row["trpo/kl"] <= trpo.Config().max_kl for row in rows)


def test_value_head_is_attached_once_and_left_out_of_the_policy(tiny_policy):
    import copy

    from harness.rl.value import policy_parameters

    model = copy.deepcopy(tiny_policy.model)
    head = attach_value_head(model)
    assert attach_value_head(model) is head and value_head(model) is head
    ids = {id(p) for p in policy_parameters(model)}
    assert not ids & {id(p) for p in head.parameters()}
    assert len(ids) == len(list(tiny_policy.model.parameters()))


@pytest.mark.slow
@pytest.mark.parametrize(("algo", "overrides"), [("ppo", ["lr=1e-3"]), ("trpo", ["max_kl=0.3"])])
def test_algorithm_raises_reward(bench_cache, learnable_task, tmp_path, algo, overrides):  # noqa: F811
    rewards, result = train_curve(algo, tmp_path, overrides)
    first, last = sum(rewards[:4]) / 4, sum(rewards[-4:]) / 4
    assert last > first + 0.1, f"{algo}: train reward {first:.3f} → {last:.3f}"
    assert result["heldout_gain"]["low"] > 0, result["heldout_gain"]
