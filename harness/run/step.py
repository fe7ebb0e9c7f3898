"""One update of the shared loop: rollout → score → log-probs → advantages → update → step size.

Only `algorithm.update` differs between algorithms; everything else here is the same for all.
"""

import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from transformers import PreTrainedModel

from harness.api.algorithm import UpdateContext
from harness.api.batch import Batch
from harness.api.task import Example, score_with_parts
from harness.rl.advantages import token_rewards
from harness.rl.kl import estimate_kl, exact_kl
from harness.rl.logprobs import completion_logits
from harness.rl.value import predict_values
from harness.run.budget import Spent
from harness.run.compute import counting_passes
from harness.run.faults import kill_point
from harness.run.rollout import Rollout, reference_scores, sample_rollout
from harness.run.setup import Setup

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


def train_step(setup: Setup, state: Any, examples: list[Example], spent: Spent) -> dict[str, Any]:
    """One update: sample, score, compute log-probs and advantages, call the algorithm."""
    cfg = setup.config.rollout
    clock = time.perf_counter()
    with counting_passes([setup.policy.model, setup.reference.model], spent):
        rollout = sample_rollout(
            setup.policy,
            examples,
            cfg.samples_per_prompt,
            setup.max_new_tokens,
            cfg.temperature,
            cfg.max_prompt_tokens,
        )
        t_generate = time.perf_counter()
        kill_point("update")
        scores, reward_parts = score_with_parts(
            setup.task.reward, rollout.repeated_examples(), rollout.completions
        )
        rewards = torch.tensor(scores, dtype=torch.float32, device=rollout.completion_ids.device)
        t_reward = time.perf_counter()
        old_logprobs, ref_logprobs, kl_exact = reference_scores(
            setup.reference, rollout, cfg.temperature, cfg.micro_batch_prompts
        )
        mask, kl_control = rollout.completion_mask, setup.kl_control
        kl_coef = kl_control.coef
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
        advantages, value_targets = setup.estimator(shaped, mask, values)
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
        del rollout  # drop the (B, T, V) sampling logits before the update's own activations
        t_logprobs = time.perf_counter()
        stats = setup.algorithm.update(setup.policy.model, batch, setup.algo_config, state, context)
        t_update = time.perf_counter()
    kl_step = policy_shift(setup.policy.model, probe, cfg.temperature)  # a measurement: uncounted
    t_probe = time.perf_counter()
    masked_kl = kl_exact * mask  # zero past each completion's end
    kl_exact_seq = masked_kl.sum(-1).mean().item()
    kl_control.update(kl_exact_seq)  # adaptive β sees the exact KL of this update
    tokens = int(mask.sum().item())
    spent.samples += batch.size
    spent.tokens += tokens
    spent.updates += 1
    spent.seconds += t_probe - clock
    return {
        "kind": "train",
        "update": spent.updates,
        "samples_seen": spent.samples,
        "tokens_generated": spent.tokens,
        "forward_tokens": spent.forward_tokens,
        "backward_tokens": spent.backward_tokens,
        "seconds": round(spent.seconds, 3),
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
        **{key: float(value) for key, value in stats.items()},
        "time/generate": t_generate - clock,
        "time/reward": t_reward - t_generate,
        "time/logprobs": t_logprobs - t_reward,
        "time/update": t_update - t_logprobs,
        "time/kl_step": t_probe - t_update,
    }
