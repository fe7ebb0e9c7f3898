"""The tensors one policy update sees, and the reductions every algorithm's loss shares."""

from collections.abc import Callable
from dataclasses import dataclass, replace

from torch import Tensor
from transformers import PreTrainedModel

from harness.logprobs import completion_logits, gather_logprobs


@dataclass(frozen=True)
class Batch:
    """One update's data: P prompts, B = P·k completions, T completion positions.

    prompt_ids, prompt_mask: (P, L). completion_ids, completion_mask: (B, T).
    old_logprobs (sampling policy) and ref_logprobs (reference policy): (B, T).
    returns: (B,) KL-shaped sequence returns; advantages: (B,).
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
        k = self.samples_per_prompt
        rows = slice(start * k, stop * k)
        return replace(
            self,
            prompt_ids=self.prompt_ids[start:stop],
            prompt_mask=self.prompt_mask[start:stop],
            completion_ids=self.completion_ids[rows],
            completion_mask=self.completion_mask[rows],
            old_logprobs=self.old_logprobs[rows],
            ref_logprobs=self.ref_logprobs[rows],
            returns=self.returns[rows],
            advantages=self.advantages[rows],
        )


def per_sequence_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Σ_t values·mask per sequence, then the mean over sequences: (B, T) → scalar.

    Every algorithm reduces its per-token objective this way, so that at θ = θ_old their
    gradients coincide with the REINFORCE gradient E[A ∇ log π(y)].
    """
    return (values * mask).sum(-1).mean()


def policy_logprobs(model: PreTrainedModel, batch: Batch) -> Tensor:
    """log π_θ of the batch's completion tokens (B, T), differentiable."""
    logits = completion_logits(
        model, batch.prompt_ids, batch.prompt_mask, batch.completion_ids, batch.completion_mask
    )
    return gather_logprobs(logits, batch.completion_ids, batch.temperature)


def accumulate_gradients(
    model: PreTrainedModel, batch: Batch, loss_fn: Callable[[Tensor, Batch], Tensor]
) -> float:
    """Backward `loss_fn(logprobs, micro_batch)` over micro-batches; returns the full-batch loss.

    Each micro-batch loss is a mean over its completions and is weighted by its share of the
    batch, so the accumulated gradient equals the gradient of the full-batch mean.
    """
    total = 0.0
    for micro in batch.micro_batches():
        loss = loss_fn(policy_logprobs(model, micro), micro) * (micro.size / batch.size)
        loss.backward()
        total += loss.item()
    return total
