"""ReMax's baseline is the greedy completion's return, shaped by the same KL penalty as the
samples' returns: by hand, and on the tiny policy against an independent computation."""

import torch
from rich.console import Console

from harness.launch import build_config
from harness.loop.budget import Spent
from harness.loop.compute import counting_passes
from harness.loop.dynamic_sampling import sample_scored
from harness.loop.rollout import sample_rollout
from harness.loop.setup import prepare
from harness.loop.step import greedy_returns
from harness.loop.timing import Stopwatch
from harness.rl.advantages import Estimator, greedy_return, token_rewards
from harness.rl.logprobs import completion_logits, gather_logprobs
from harness.rundir.layout import create_run_dir

SMALL = ["eval.prompts=2", "eval.every=0", "task.max_source_words=30", "task.max_new_tokens=8"]
# Two greedy completions: per-token KL estimates (the last one of row 1 is past its end).
KL = torch.tensor([[0.2, -0.1, 0.4], [0.3, 0.3, 9.0]])
MASK = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])


def test_the_greedy_return_subtracts_beta_times_its_kl_over_its_completion():
    baseline = greedy_return(torch.tensor([1.0, 0.5]), KL, MASK, 0.1)
    # 1.0 − 0.1·(0.2 − 0.1 + 0.4) and 0.5 − 0.1·(0.3 + 0.3): the masked 9.0 never counts.
    torch.testing.assert_close(baseline, torch.tensor([0.95, 0.44]), atol=1e-6, rtol=0)


def test_without_kl_in_the_reward_the_greedy_return_is_its_task_reward():
    baseline = greedy_return(torch.tensor([1.0, 0.5]), KL, MASK, 0.0)
    torch.testing.assert_close(baseline, torch.tensor([1.0, 0.5]), atol=0, rtol=0)


def test_a_sample_equal_to_the_greedy_completion_has_advantage_zero():
    # Prompt 0's first sample is its greedy completion (same reward, same KL); the second is not.
    kl = torch.tensor([[0.2, -0.1, 0.4], [0.0, 0.5, 0.5]])
    shaped = token_rewards(torch.tensor([1.0, 1.0]), kl, torch.ones(2, 3), 0.1)
    baseline = greedy_return(torch.tensor([1.0]), kl[:1], torch.ones(1, 3), 0.1)
    advantages, _ = Estimator("remax", 2)(shaped, torch.ones(2, 3), None, baseline)
    # Same reward, more KL: 1.0 − 0.1 → 0.9 against the greedy's 0.95 gives −0.05.
    torch.testing.assert_close(advantages, torch.tensor([0.0, -0.05]), atol=1e-6, rtol=0)


def logprobs_of(model, rollout, temperature: float) -> torch.Tensor:
    """log π(y_t) of a rollout's tokens by a full forward (not the logits `generate` kept)."""
    with torch.no_grad():
        logits = completion_logits(
            model,
            rollout.prompt_ids,
            rollout.prompt_mask,
            rollout.completion_ids,
            rollout.completion_mask,
        )
    return gather_logprobs(logits, rollout.completion_ids, temperature)


def test_greedy_returns_are_the_greedy_return_and_counts_the_reference_forward(
    bench_cache, tmp_path
):
    config = build_config(
        "summarization", "remax", policy="tiny", samples=16, seed=0, out=str(tmp_path),
        overrides=["prompts_per_update=2", "rollout.samples_per_prompt=2", "kl_coef=0.5", *SMALL],
    )  # fmt: skip
    setup = prepare(config, Console(quiet=True), create_run_dir(config))
    setup.log.close()
    torch.manual_seed(1)
    with torch.no_grad():  # move the policy off the reference, so that the KL is not 0
        for parameter in setup.policy.model.parameters():
            parameter.add_(0.02 * torch.randn_like(parameter))
    examples = setup.task.examples("train")[:2]
    rollout = sample_scored(setup, examples, Stopwatch()).rollout
    with_kl, without_kl = Spent(), Spent()
    with counting_passes([setup.policy.model, setup.reference.model], with_kl):
        baseline, tokens = greedy_returns(setup, rollout, Stopwatch())
    setup.kl_control.coef = 0.0
    with counting_passes([setup.policy.model, setup.reference.model], without_kl):
        reward_only, _ = greedy_returns(setup, rollout, Stopwatch())

    cfg = config.rollout
    greedy = sample_rollout(
        setup.policy, examples, 1, setup.max_new_tokens, cfg.temperature,
        cfg.max_prompt_tokens, draw="greedy",
    )  # fmt: skip
    rewards = torch.tensor(setup.task.reward(examples, list(greedy.completions)))
    mask = greedy.completion_mask
    k1 = logprobs_of(setup.policy.model, greedy, cfg.temperature) - logprobs_of(
        setup.reference.model, greedy, cfg.temperature
    )
    expected = rewards - 0.5 * (k1 * mask).sum(-1)
    assert (k1 * mask).sum(-1).abs().min() > 1e-3  # the KL term is really there
    # generate's logits and a full forward agree to float rounding, not bit for bit
    torch.testing.assert_close(baseline, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(reward_only, rewards, atol=0, rtol=0)
    assert tokens == int(mask.sum().item())
    # The KL costs one reference forward: every prompt token, then every completion token but
    # the last (harness.rl.logprobs.completion_logits).
    positions = greedy.prompt_ids.numel() + mask.shape[0] * (mask.shape[1] - 1)
    assert with_kl.forward_tokens - without_kl.forward_tokens == positions
