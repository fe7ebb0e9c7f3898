"""The tensors one policy update sees, and the one way to cut them into chunks of prompts."""

from dataclasses import dataclass, replace

import torch
from torch import Tensor


def prompt_chunks(prompts: int, samples_per_prompt: int, size: int) -> list[tuple[slice, slice]]:
    """(prompt slice, completion-row slice) of consecutive chunks of at most `size` prompts.

    Rows of one prompt are consecutive, so prompts [a, b) own completion rows [a·k, b·k).
    """
    k = samples_per_prompt
    return [
        (slice(start, min(start + size, prompts)), slice(start * k, min(start + size, prompts) * k))
        for start in range(0, prompts, size)
    ]


@dataclass(frozen=True)
class Batch:
    """One update's data: P prompts, B = P·k completions, T completion positions.

    prompt_ids, prompt_mask: (P, L) left-padded. completion_ids, completion_mask: (B, T).
    old_logprobs (sampling policy) and ref_logprobs (reference policy): (B, T).
    returns: (B,) KL-shaped sequence returns; advantages: (B,) or (B, T) (per token, gae).
    value_targets: (B, T) regression targets of the value head (gae only, else None).
    """

    prompt_ids: Tensor
    prompt_mask: Tensor
    completion_ids: Tensor
    completion_mask: Tensor
    old_logprobs: Tensor
    ref_logprobs: Tensor
    returns: Tensor
    advantages: Tensor
    value_targets: Tensor | None = None

    @property
    def size(self) -> int:
        """Number of completions B."""
        return self.completion_ids.shape[0]

    @property
    def prompts(self) -> int:
        """Number of prompts P."""
        return self.prompt_ids.shape[0]

    @property
    def samples_per_prompt(self) -> int:
        """k = B / P completions per prompt."""
        return self.size // self.prompts

    def micro_batches(self, prompts_per_chunk: int) -> list["Batch"]:
        """Consecutive slices of `prompts_per_chunk` prompts with their k completions each."""
        return [
            self.select_prompts(
                torch.arange(chunk.start, chunk.stop, device=self.prompt_ids.device)
            )
            for chunk, _ in prompt_chunks(self.prompts, self.samples_per_prompt, prompts_per_chunk)
        ]

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
