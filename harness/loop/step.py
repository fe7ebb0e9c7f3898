"""One update of the shared loop, in its phases: collect → score → log-probs and KL →
advantages → `algorithm.update` → measure the step → the metrics row.

Only `algorithm.update` differs between algorithms; every other phase is the same for all. An
algorithm that trains on references (`trains_on`, the supervised row) takes `reference_step`:
the references take the samples' place, and nothing is scored.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor

from harness.api.algorithm import UpdateContext
from harness.api.batch import Batch
from harness.api.task import Example
from harness.loop.budget import Spent, prompts_for_update
from harness.loop.compute import counting_passes
from harness.loop.dynamic_sampling import fill_varied, sample_scored
from harness.loop.rollout import Rollout, reference_rollout, reference_scores
from harness.loop.setup import Setup
from harness.loop.step_rows import counters, dynamic_stats, kl_stats, range_stats, reward_stats
from harness.loop.step_size import policy_shift, probe_of
from harness.loop.timing import Stopwatch
from harness.rl.advantages import greedy_return, token_rewards
from harness.rl.guards import check_finite
from harness.rl.kl import estimate_kl
from harness.rl.value import predict_values
from harness.rundir.faults import kill_point

Draw = Callable[[int], list[Example]]  # draw(n): the next n training prompts
PHASES = ("generate", "reward", "logprobs", "update", "kl_step")
REFERENCE_PHASES = ("encode", "logprobs", "update", "kl_step")


@dataclass(frozen=True)
class Collected:
    """An update's scored samples: the rollout, its task rewards (B,) and their named parts, the
    completions sampled and prompts drawn (dynamic sampling may draw more than it keeps), and
    with ReMax the greedy completions' returns (P,) and tokens."""

    rollout: Rollout | None
    rewards: list[float]
    parts: dict[str, list[float]]
    sampled: int
    drawn: int
    greedy: Tensor | None = None
    greedy_tokens: int = 0


@dataclass(frozen=True)
class TokenScores:
    """Per completion token (B, T): log-probs under the sampling policy and the reference, the
    exact KL(π‖π_ref) over the whole vocabulary, and the run's KL estimator (masked)."""

    old_logprobs: Tensor
    ref_logprobs: Tensor
    kl_exact: Tensor
    kl_tokens: Tensor


def train_step(setup: Setup, state: Any, draw: Draw, spent: Spent) -> dict[str, Any]:
    """One update, its phases in order and each timed; returns the update's metrics row. It
    draws the prompts the budget allows (more with dynamic sampling, as the budget pays)."""
    if setup.algorithm.trains_on == "references":
        return reference_step(setup, state, draw, spent)
    model, kl_control = setup.policy.model, setup.kl_control
    watch = Stopwatch(model.device)
    with counting_passes([model, setup.reference.model], spent):
        with watch.phase("generate"):
            collected = collect_samples(setup, draw, spent, watch)
        kill_point("update")
        with watch.phase("logprobs"):
            rewards = reward_tensor(collected)
            scores = token_scores(setup, collected.rollout)
            batch = advantage_batch(setup, collected.rollout, rewards, scores, collected.greedy)
            probe = probe_of(collected.rollout)
        # The (B, T, V) sampling logits go before the update's own activations are made.
        collected, kl_coef = replace(collected, rollout=None), kl_control.coef
        context = UpdateContext(setup.loss_settings, kl_loss_coef=kl_control.loss_coef)
        with watch.phase("update"):
            stats = setup.algorithm.update(model, batch, setup.algo_config, state, context)
    with watch.phase("kl_step"):  # a measurement: uncounted
        kl_step = policy_shift(model, probe, setup.config.rollout.temperature)
    kl = kl_stats(scores.kl_tokens, scores.kl_exact, batch.completion_mask, kl_coef, kl_step)
    kl_control.update(kl["train/kl_exact_seq"])  # adaptive β sees the exact KL of this update
    tokens = spend(spent, batch, collected.sampled, collected.greedy_tokens, watch.total())
    spent.baseline_samples += 0 if collected.greedy is None else len(collected.greedy)
    return {
        **counters(spent),
        **reward_stats(rewards, collected.parts, batch.returns),
        **kl,
        "train/length": tokens / batch.size,
        **dynamic_stats(setup.config.rollout.dynamic_sampling, batch.prompts, collected.drawn),
        **range_stats(setup.task.reward, collected.rewards),
        **{key: float(value) for key, value in stats.items()},
        **watch.row(PHASES),
    }


def collect_samples(setup: Setup, draw: Draw, spent: Spent, watch: Stopwatch) -> Collected:
    """Sample and score k completions per prompt (dynamic sampling: keep the prompts whose
    rewards vary, drawing more as the budget pays); ReMax adds its greedy baseline."""
    cfg, budget = setup.config.rollout, setup.config.budget
    k = cfg.samples_per_prompt
    count = prompts_for_update(budget, spent, cfg.prompts_per_update, k)
    scored = sample_scored(setup, draw(count), watch)
    sampled, drawn = len(scored.rewards), count
    if cfg.dynamic_sampling:

        def affordable(so_far: int) -> int:
            more = replace(spent, samples=spent.samples + so_far)
            return prompts_for_update(budget, more, cfg.prompts_per_update, k)

        scored, sampled, drawn = fill_varied(setup, scored, draw, affordable, watch)
    greedy, greedy_tokens = (
        greedy_returns(setup, scored.rollout, watch) if setup.estimator.needs_greedy else (None, 0)
    )
    return Collected(
        scored.rollout, scored.rewards, scored.parts, sampled, drawn, greedy, greedy_tokens
    )


def greedy_returns(setup: Setup, rollout: Rollout, watch: Stopwatch) -> tuple[Tensor, int]:
    """ReMax's baseline: the return of each prompt's greedy completion (P,), and its tokens.

    Shaped as the samples' returns are (`greedy_return`: reward − β Σ_t kl_t, the run's
    estimator; the policy's log-probs from generate's logits, the reference's from one counted
    forward, skipped with no KL in the reward). Not training samples: they count in `tokens`,
    `baseline_samples` and the compute column, never in `samples`.
    """
    cfg, coef = setup.config.rollout, setup.kl_control.reward_coef
    scored = sample_scored(setup, list(rollout.examples), watch, greedy=True)
    greedy, mask = scored.rollout, scored.rollout.completion_mask
    rewards = torch.tensor(scored.rewards, dtype=torch.float32, device=mask.device)
    kl = torch.zeros_like(mask)
    if coef != 0.0:
        logprobs, ref_logprobs, _ = reference_scores(
            setup.reference, greedy, cfg.temperature, cfg.micro_batch_prompts
        )
        kl = estimate_kl(cfg.kl_estimator, logprobs, ref_logprobs)
    return greedy_return(rewards, kl, mask, coef), int(mask.sum().item())


def reward_tensor(collected: Collected) -> Tensor:
    """The task rewards (B,) on the rollout's device, refused if any is not finite."""
    device = collected.rollout.completion_ids.device
    rewards = torch.tensor(collected.rewards, dtype=torch.float32, device=device)
    check_finite("reward", rewards)
    if collected.greedy is not None:
        check_finite("greedy baseline reward", collected.greedy)
    return rewards


def token_scores(setup: Setup, rollout: Rollout) -> TokenScores:
    """Log-probs of the sampled tokens under π_old and π_ref, and the KL between them."""
    cfg, mask = setup.config.rollout, rollout.completion_mask
    old_logprobs, ref_logprobs, kl_exact = reference_scores(
        setup.reference, rollout, cfg.temperature, cfg.micro_batch_prompts
    )
    check_finite("exact KL to the reference", kl_exact[mask.bool()])
    kl_tokens = estimate_kl(cfg.kl_estimator, old_logprobs, ref_logprobs) * mask
    return TokenScores(old_logprobs, ref_logprobs, kl_exact, kl_tokens)


def advantage_batch(
    setup: Setup, rollout: Rollout, rewards: Tensor, scores: TokenScores, greedy: Tensor | None
) -> Batch:
    """The update's batch: KL-shaped returns, the value head's predictions (gae only) and the
    run's advantage estimator."""
    cfg, mask = setup.config.rollout, rollout.completion_mask
    # Per-token KL-shaped rewards (Ziegler et al. 2019, eq. 2); Σ_t = R − β Σ_t kl_t.
    shaped = token_rewards(rewards, scores.kl_tokens, mask, setup.kl_control.reward_coef)
    values = predict_values(  # gae only
        setup.policy.model,
        rollout.prompt_ids,
        rollout.prompt_mask,
        rollout.completion_ids,
        mask,
        cfg.micro_batch_prompts,
    )
    advantages, value_targets = setup.estimator(shaped, mask, values, greedy)
    return batch_of(rollout, scores, shaped.sum(-1), advantages, value_targets)


def batch_of(
    rollout: Rollout,
    scores: TokenScores,
    returns: Tensor,
    advantages: Tensor,
    value_targets: Tensor | None = None,
) -> Batch:
    """A rollout's tensors with their log-probs, returns and advantages, as `update` takes them."""
    return Batch(
        prompt_ids=rollout.prompt_ids,
        prompt_mask=rollout.prompt_mask,
        completion_ids=rollout.completion_ids,
        completion_mask=rollout.completion_mask,
        old_logprobs=scores.old_logprobs,
        ref_logprobs=scores.ref_logprobs,
        returns=returns,
        advantages=advantages,
        value_targets=value_targets,
    )


def spend(spent: Spent, batch: Batch, samples: int, extra_tokens: int, seconds: float) -> int:
    """Count one update in the budget; returns the batch's completion tokens."""
    tokens = int(batch.completion_mask.sum().item())
    spent.samples += samples
    spent.tokens += tokens + extra_tokens
    spent.updates += 1
    spent.seconds += seconds
    return tokens


def reference_step(setup: Setup, state: Any, draw: Draw, spent: Spent) -> dict[str, Any]:
    """One update on train references: P·k distinct prompts, each with its reference.

    One (prompt, reference) pair is one sample of the budget, so the update draws as many as
    an RL update samples. The policy's logits at the reference tokens stand in for the sampling
    logits: old_logprobs, the exact KL to the reference (on the reference tokens, at the
    sampling temperature) and `train/kl_step` come from the shared functions. No reward,
    advantages (zeros in the batch) or KL control; the references' tokens count as `tokens`.
    """
    cfg, model = setup.config.rollout, setup.policy.model
    watch = Stopwatch(model.device)
    with counting_passes([model, setup.reference.model], spent):
        with watch.phase("encode"):
            k = cfg.samples_per_prompt
            count = prompts_for_update(setup.config.budget, spent, cfg.prompts_per_update, k) * k
            rollout = reference_rollout(
                setup.policy, draw(count), setup.max_new_tokens, cfg.max_prompt_tokens,
                cfg.micro_batch_prompts,
            )  # fmt: skip
        kill_point("update")
        with watch.phase("logprobs"):
            scores = token_scores(setup, rollout)
            zeros = rollout.completion_mask.new_zeros(count)
            batch, probe = batch_of(rollout, scores, zeros, zeros), probe_of(rollout)
        del rollout
        with watch.phase("update"):
            context = UpdateContext(setup.loss_settings)
            stats = setup.algorithm.update(model, batch, setup.algo_config, state, context)
    with watch.phase("kl_step"):  # a measurement: uncounted
        kl_step = policy_shift(model, probe, cfg.temperature)
    tokens = spend(spent, batch, count, 0, watch.total())
    return {
        **counters(spent),
        **kl_stats(scores.kl_tokens, scores.kl_exact, batch.completion_mask, None, kl_step),
        "train/length": tokens / count,
        **{key: float(value) for key, value in stats.items()},
        **watch.row(REFERENCE_PHASES),
    }
