"""One update of the shared loop: rollout → score → log-probs → advantages → update → step size.

Only `algorithm.update` differs between algorithms; everything else here is the same for all.
An algorithm that trains on references (`trains_on`, the supervised row) gets its batch from
`reference_step` instead: the references take the rollout's place, and nothing is scored.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor
from transformers import PreTrainedModel

from harness.api.algorithm import UpdateContext
from harness.api.batch import Batch
from harness.api.task import Example, Reward, out_of_range
from harness.loop.budget import Spent, prompts_for_update
from harness.loop.compute import counting_passes
from harness.loop.dynamic_sampling import ScoringTime, fill_varied, sample_scored
from harness.loop.rollout import Rollout, reference_rollout, reference_scores
from harness.loop.setup import Setup
from harness.rl.advantages import greedy_return, token_rewards
from harness.rl.guards import check_finite
from harness.rl.kl import estimate_kl, exact_kl
from harness.rl.logprobs import completion_logits
from harness.rl.value import predict_values
from harness.rundir.faults import kill_point

PROBE_SHARE = 8  # train/kl_step is measured on 1 prompt in 8 (its k completions), at least 1


@dataclass(frozen=True)
class Probe:
    """A few rollout rows and their sampling logits (π_old), kept to measure the update's step."""

    prompt_ids: Tensor
    prompt_mask: Tensor
    completion_ids: Tensor
    completion_mask: Tensor
    logits: Tensor


def probe_of(rollout: Rollout) -> Probe:
    """The first max(1, P // PROBE_SHARE) prompts of a rollout with their completions."""
    prompts = max(1, len(rollout.examples) // PROBE_SHARE)
    rows = prompts * rollout.samples_per_prompt
    return Probe(
        rollout.prompt_ids[:prompts],
        rollout.prompt_mask[:prompts],
        rollout.completion_ids[:rows],
        rollout.completion_mask[:rows],
        rollout.logits[:rows].clone(),
    )


@torch.no_grad()
def policy_shift(model: PreTrainedModel, probe: Probe, temperature: float) -> float:
    """Exact mean per-token KL(π_old‖π_new) over the probe's completion tokens.

    π_old is the sampling policy (the logits `generate` recorded), π_new the updated model; both
    under temperature T, summed over the whole vocabulary at every position.
    """
    model.eval()
    new = completion_logits(
        model, probe.prompt_ids, probe.prompt_mask, probe.completion_ids, probe.completion_mask
    )
    kl = exact_kl(probe.logits, new, temperature) * probe.completion_mask
    return (kl.sum() / probe.completion_mask.sum().clamp(min=1.0)).item()


def greedy_baseline(setup: Setup, rollout: Rollout, timer: ScoringTime) -> tuple[Tensor, int]:
    """ReMax's baseline: the return of each prompt's greedy completion (P,), and its tokens.

    Shaped as the samples' returns are (`greedy_return`: reward − β Σ_t kl_t, the run's
    estimator; the policy's log-probs from generate's logits, the reference's from one counted
    forward, skipped with no KL in the reward). Not training samples: they count in `tokens`,
    `baseline_samples` and the compute column, never in `samples`.
    """
    cfg, coef = setup.config.rollout, setup.kl_control.reward_coef
    scored = sample_scored(setup, list(rollout.examples), timer, greedy=True)
    greedy, mask = scored.rollout, scored.rollout.completion_mask
    rewards = torch.tensor(scored.rewards, dtype=torch.float32, device=mask.device)
    kl = torch.zeros_like(mask)
    if coef != 0.0:
        logprobs, ref_logprobs, _ = reference_scores(
            setup.reference, greedy, cfg.temperature, cfg.micro_batch_prompts
        )
        kl = estimate_kl(cfg.kl_estimator, logprobs, ref_logprobs)
    return greedy_return(rewards, kl, mask, coef), int(mask.sum().item())


def dynamic_stats(enabled: bool, kept: int, drawn: int) -> dict[str, float]:
    """With dynamic sampling: the share of drawn prompts kept and the prompts drawn."""
    if not enabled:
        return {}
    return {"train/dynamic_kept_share": kept / drawn, "train/dynamic_prompts_drawn": float(drawn)}


def range_stats(reward: Reward, values: list[float]) -> dict[str, float]:
    """How many training rewards fell outside the reward's declared range (only when some did)."""
    outside = out_of_range(reward, values)
    return {"train/reward_out_of_range": float(outside)} if outside else {}


def train_step(
    setup: Setup, state: Any, draw: Callable[[int], list[Example]], spent: Spent
) -> dict[str, Any]:
    """One update: sample, score, compute log-probs and advantages, call the algorithm.

    draw(n) hands out the next n training prompts; the update draws as many as the budget
    allows (more with dynamic sampling, as long as the budget pays for them).
    """
    if setup.algorithm.trains_on == "references":
        return reference_step(setup, state, draw, spent)
    cfg, budget = setup.config.rollout, setup.config.budget
    k = cfg.samples_per_prompt
    clock = time.perf_counter()
    with counting_passes([setup.policy.model, setup.reference.model], spent):
        count = prompts_for_update(budget, spent, cfg.prompts_per_update, k)
        scoring = ScoringTime()
        scored = sample_scored(setup, draw(count), scoring)
        sampled, drawn = len(scored.rewards), count
        if cfg.dynamic_sampling:
            scored, sampled, drawn = fill_varied(
                setup,
                scored,
                draw,
                lambda so_far: prompts_for_update(
                    budget,
                    replace(spent, samples=spent.samples + so_far),
                    cfg.prompts_per_update,
                    k,
                ),
                scoring,
            )
        rollout, reward_parts = scored.rollout, scored.parts
        greedy_rewards, greedy_tokens = (
            greedy_baseline(setup, rollout, scoring) if setup.estimator.needs_greedy else (None, 0)
        )
        t_generate = time.perf_counter()
        kill_point("update")
        rewards = torch.tensor(
            scored.rewards, dtype=torch.float32, device=rollout.completion_ids.device
        )
        check_finite("reward", rewards)
        if greedy_rewards is not None:
            check_finite("greedy baseline reward", greedy_rewards)
        old_logprobs, ref_logprobs, kl_exact = reference_scores(
            setup.reference, rollout, cfg.temperature, cfg.micro_batch_prompts
        )
        mask, kl_control = rollout.completion_mask, setup.kl_control
        kl_coef = kl_control.coef
        check_finite("exact KL to the reference", kl_exact[mask.bool()])
        kl_tokens = estimate_kl(cfg.kl_estimator, old_logprobs, ref_logprobs) * mask
        # Per-token KL-shaped rewards (Ziegler et al. 2019, eq. 2); Σ_t = R − β Σ_t kl_t.
        shaped = token_rewards(rewards, kl_tokens, mask, kl_control.reward_coef)
        values = predict_values(  # gae only
            setup.policy.model,
            rollout.prompt_ids,
            rollout.prompt_mask,
            rollout.completion_ids,
            mask,
            cfg.micro_batch_prompts,
        )
        advantages, value_targets = setup.estimator(shaped, mask, values, greedy_rewards)
        returns = shaped.sum(-1)
        batch = Batch(
            prompt_ids=rollout.prompt_ids,
            prompt_mask=rollout.prompt_mask,
            completion_ids=rollout.completion_ids,
            completion_mask=mask,
            old_logprobs=old_logprobs,
            ref_logprobs=ref_logprobs,
            returns=returns,
            advantages=advantages,
            value_targets=value_targets,
        )
        context = UpdateContext(setup.loss_settings, kl_loss_coef=kl_control.loss_coef)
        probe = probe_of(rollout)
        sampled_rewards = scored.rewards
        # Drop the (B, T, V) sampling logits before the update's own activations: `scored`
        # holds the rollout too (0.2 GB on smollm2-135m at the default batch).
        del rollout, scored
        t_logprobs = time.perf_counter()
        stats = setup.algorithm.update(setup.policy.model, batch, setup.algo_config, state, context)
        t_update = time.perf_counter()
    kl_step = policy_shift(setup.policy.model, probe, cfg.temperature)  # a measurement: uncounted
    t_probe = time.perf_counter()
    masked_kl = kl_exact * mask  # zero past each completion's end
    kl_exact_seq = masked_kl.sum(-1).mean().item()
    kl_control.update(kl_exact_seq)  # adaptive β sees the exact KL of this update
    tokens = int(mask.sum().item())
    spent.samples += sampled
    spent.tokens += tokens + greedy_tokens
    spent.baseline_samples += 0 if greedy_rewards is None else len(greedy_rewards)
    spent.updates += 1
    spent.seconds += t_probe - clock
    return {
        **counters(spent),
        "train/reward": rewards.mean().item(),
        "train/reward_std": rewards.std().item() if batch.size > 1 else 0.0,
        **{f"train/reward_{name}": sum(v) / len(v) for name, v in reward_parts.items()},
        "train/return": returns.mean().item(),
        "train/kl": kl_tokens.sum(-1).mean().item(),
        "train/kl_exact": (masked_kl.sum() / mask.sum()).item(),
        "train/kl_exact_seq": kl_exact_seq,
        "train/kl_coef": kl_coef,
        "train/kl_step": kl_step,
        "train/length": tokens / batch.size,
        **dynamic_stats(cfg.dynamic_sampling, batch.prompts, drawn),
        **range_stats(setup.task.reward, sampled_rewards),
        **{key: float(value) for key, value in stats.items()},
        "time/generate": t_generate - clock - scoring.seconds,
        "time/reward": scoring.seconds,
        "time/logprobs": t_logprobs - t_generate,
        "time/update": t_update - t_logprobs,
        "time/kl_step": t_probe - t_update,
    }


def counters(spent: Spent) -> dict[str, Any]:
    """The budget counters every train row starts with."""
    return {
        "kind": "train",
        "update": spent.updates,
        "samples_seen": spent.samples,
        "tokens_generated": spent.tokens,
        "baseline_samples": spent.baseline_samples,
        "forward_tokens": spent.forward_tokens,
        "backward_tokens": spent.backward_tokens,
        "seconds": round(spent.seconds, 3),
    }


def reference_step(
    setup: Setup, state: Any, draw: Callable[[int], list[Example]], spent: Spent
) -> dict[str, Any]:
    """One update on train references: P·k distinct prompts, each with its reference.

    One (prompt, reference) pair is one sample of the budget, so the update draws as many as
    an RL update samples. The policy's logits at the reference tokens stand in for the sampling
    logits: old_logprobs, the exact KL to the reference (on the reference tokens, at the
    sampling temperature) and `train/kl_step` come from the shared functions. No reward,
    advantages (zeros in the batch) or KL control; the references' tokens count as `tokens`.
    """
    cfg, budget = setup.config.rollout, setup.config.budget
    clock = time.perf_counter()
    with counting_passes([setup.policy.model, setup.reference.model], spent):
        k = cfg.samples_per_prompt
        count = prompts_for_update(budget, spent, cfg.prompts_per_update, k) * k
        rollout = reference_rollout(
            setup.policy, draw(count), setup.max_new_tokens, cfg.max_prompt_tokens,
            cfg.micro_batch_prompts,
        )  # fmt: skip
        t_encode = time.perf_counter()
        kill_point("update")
        old_logprobs, ref_logprobs, kl_exact = reference_scores(
            setup.reference, rollout, cfg.temperature, cfg.micro_batch_prompts
        )
        mask = rollout.completion_mask
        zeros = mask.new_zeros(count)
        batch = Batch(
            prompt_ids=rollout.prompt_ids,
            prompt_mask=rollout.prompt_mask,
            completion_ids=rollout.completion_ids,
            completion_mask=mask,
            old_logprobs=old_logprobs,
            ref_logprobs=ref_logprobs,
            returns=zeros,
            advantages=zeros,
        )
        probe = probe_of(rollout)
        del rollout
        t_logprobs = time.perf_counter()
        context = UpdateContext(setup.loss_settings)
        stats = setup.algorithm.update(setup.policy.model, batch, setup.algo_config, state, context)
        t_update = time.perf_counter()
    kl_step = policy_shift(setup.policy.model, probe, cfg.temperature)  # a measurement: uncounted
    t_probe = time.perf_counter()
    masked_kl = kl_exact * mask
    tokens = int(mask.sum().item())
    spent.samples += count
    spent.tokens += tokens
    spent.updates += 1
    spent.seconds += t_probe - clock
    return {
        **counters(spent),
        "train/kl_exact": (masked_kl.sum() / mask.sum()).item(),
        "train/kl_exact_seq": masked_kl.sum(-1).mean().item(),
        "train/kl_step": kl_step,
        "train/length": tokens / count,
        **{key: float(value) for key, value in stats.items()},
        "time/encode": t_encode - clock,
        "time/logprobs": t_logprobs - t_encode,
        "time/update": t_update - t_logprobs,
        "time/kl_step": t_probe - t_update,
    }
