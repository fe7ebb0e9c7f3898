"""How far one update moved the policy: exact KL(π_old‖π_new) on a few of its own samples."""

from dataclasses import dataclass

import torch
from torch import Tensor
from transformers import PreTrainedModel

from harness.loop.rollout import Rollout
from harness.rl.kl import exact_kl
from harness.rl.logprobs import completion_logits

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
