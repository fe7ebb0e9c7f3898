"""The tensors one policy update sees: what the runner hands every algorithm's `update`."""

from dataclasses import dataclass, replace

import torch
from torch import Tensor


@dataclass(frozen=True)
class Batch:
    """One update's data: P prompts, B = P·k completions, T completion positions.

    prompt_ids, prompt_mask: (P, L). completion_ids, completion_mask: (B, T).
    old_logprobs (sampling policy) and ref_logprobs (reference policy): (B, T).
    returns: (B,) KL-shaped sequence returns; advantages: (B,) or (B, T) (per token, gae).
    value_targets: (B, T) regression targets of the value head (gae only, else None).
    kl_loss_coef, kl_estimator: the KL penalty added to every loss (placement `loss`; β = 0
    when the penalty is in the reward). value_coef: weight of the value loss with gae.
    """

    prompt_ids: Tensor
    prompt_mask: Tensor
    completion_ids: Tensor
    completion_mask: Tensor
    old_logprobs: Tensor
    ref_logprobs: Tensor
    returns: Tensor
    advantages: Tensor
    samples_per_prompt: int
    temperature: float
    micro_batch_prompts: int
    value_targets: Tensor | None = None
    kl_loss_coef: float = 0.0
    kl_estimator: str = "k1"
    value_coef: float = 0.0

    @property
    def size(self) -> int:
        """Number of completions B."""
        return self.completion_ids.shape[0]

    def micro_batches(self) -> list["Batch"]:
        """Consecutive slices of `micro_batch_prompts` prompts with their k completions each."""
        step = self.micro_batch_prompts
        prompts = self.prompt_ids.shape[0]
        return [
            self.prompt_slice(start, min(start + step, prompts))
            for start in range(0, prompts, step)
        ]

    def prompt_slice(self, start: int, stop: int) -> "Batch":
        """The sub-batch of prompts [start, stop) and their completions."""
        return self.select_prompts(torch.arange(start, stop, device=self.prompt_ids.device))

    def select_prompts(self, prompts: Tensor) -> "Batch":
        """The sub-batch of the given prompt indices (P',) and their completions, in that order."""
        k = self.samples_per_prompt
        rows = (prompts[:, None] * k + torch.arange(k, device=prompts.device)).reshape(-1)
        return replace(
            self,
            prompt_ids=self.prompt_ids[prompts],
            prompt_mask=self.prompt_mask[prompts],
            completion_ids=self.completion_ids[rows],
            completion_mask=self.completion_mask[rows],
            old_logprobs=self.old_logprobs[rows],
            ref_logprobs=self.ref_logprobs[rows],
            returns=self.returns[rows],
            advantages=self.advantages[rows],
            value_targets=None if self.value_targets is None else self.value_targets[rows],
        )
