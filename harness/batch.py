"""The tensors one policy update sees, and the reductions every algorithm's loss shares."""

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch import Tensor
from transformers import PreTrainedModel

from harness.kl import estimate_kl
from harness.logprobs import completion_logits, completion_outputs, gather_logprobs
from harness.value import explained_variance, value_head, value_loss


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


def per_sequence_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Σ_t values·mask per sequence, then the mean over sequences: (B, T) → scalar.

    Every algorithm reduces its per-token objective this way, so that at θ = θ_old their
    gradients coincide with the REINFORCE gradient E[A ∇ log π(y)].
    """
    return (values * mask).sum(-1).mean()


def token_advantages(advantages: Tensor) -> Tensor:
    """Advantages that broadcast against (B, T): (B,) → (B, 1); (B, T) unchanged; detached."""
    return advantages.detach()[:, None] if advantages.dim() == 1 else advantages.detach()


def kl_penalty(logprobs: Tensor, batch: Batch) -> Tensor:
    """β · Σ_t kl_t averaged over sequences (placement `loss`), with the batch's estimator."""
    if batch.kl_loss_coef == 0.0:
        return logprobs.new_zeros(())
    kl = estimate_kl(batch.kl_estimator, logprobs, batch.ref_logprobs)
    return batch.kl_loss_coef * per_sequence_mean(kl, batch.completion_mask)


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
    batch, so the accumulated gradient equals the gradient of the full-batch mean. The shared
    terms of `accumulate_losses` (KL in the loss, value loss with gae) are included.
    """
    return accumulate_losses(model, batch, lambda lp, mb: (loss_fn(lp, mb), {}))["loss/policy"]


StatsLoss = Callable[[Tensor, Batch], tuple[Tensor, dict[str, Tensor]]]


def accumulate_losses(
    model: PreTrainedModel, batch: Batch, loss_fn: StatsLoss, fit_value: bool = True
) -> dict[str, float]:
    """Backward `loss_fn` + the shared terms over micro-batches; batch means of losses and stats.

    Shared terms: the KL penalty when it sits in the loss, and with gae (and `fit_value`)
    value_coef · the value loss of the head on the policy trunk (PPO's L^{CLIP+VF}, eq. 9).
    """
    head = value_head(model) if fit_value and batch.value_targets is not None else None
    totals: dict[str, float] = {}
    for micro in batch.micro_batches():
        share = micro.size / batch.size
        logits, hidden = completion_outputs(
            model, micro.prompt_ids, micro.prompt_mask, micro.completion_ids,
            micro.completion_mask, with_hidden=head is not None,
        )  # fmt: skip
        logprobs = gather_logprobs(logits, micro.completion_ids, micro.temperature)
        policy_loss, stats = loss_fn(logprobs, micro)
        loss = policy_loss + kl_penalty(logprobs, micro)
        stats = {"loss/policy": policy_loss.detach(), **stats}
        if head is not None:
            values = head(hidden)
            fitted = value_loss(values, micro.value_targets, micro.completion_mask)
            loss = loss + batch.value_coef * fitted
            variance = explained_variance(
                values.detach(), micro.value_targets, micro.completion_mask
            )
            stats.update({"loss/value": fitted.detach(), "value/explained_variance": variance})
        (loss * share).backward()
        for key, value in stats.items():
            totals[key] = totals.get(key, 0.0) + float(value) * share
    return totals
