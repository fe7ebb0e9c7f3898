"""Loss reductions every algorithm shares: per-sequence means, the KL and value terms."""

from collections.abc import Callable

import torch
from torch import Tensor
from transformers import PreTrainedModel

from harness.api.algorithm import UpdateContext
from harness.api.batch import Batch
from harness.rl.kl import estimate_kl
from harness.rl.logprobs import completion_logits, completion_outputs, gather_logprobs
from harness.rl.value import explained_variance, value_head, value_loss


def per_sequence_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Σ_t values·mask per sequence, then the mean over sequences: (B, T) → scalar.

    Every algorithm reduces its per-token objective this way, so that at θ = θ_old their
    gradients coincide with the REINFORCE gradient E[A ∇ log π(y)].
    """
    return (values * mask).sum(-1).mean()


def token_advantages(advantages: Tensor) -> Tensor:
    """Advantages that broadcast against (B, T): (B,) → (B, 1); (B, T) unchanged; detached."""
    return advantages.detach()[:, None] if advantages.dim() == 1 else advantages.detach()


def kl_penalty(logprobs: Tensor, batch: Batch, context: UpdateContext) -> Tensor:
    """β · Σ_t kl_t averaged over sequences (placement `loss`), with the run's estimator."""
    if context.kl_loss_coef == 0.0:
        return logprobs.new_zeros(())
    kl = estimate_kl(context.settings.kl_estimator, logprobs, batch.ref_logprobs)
    return context.kl_loss_coef * per_sequence_mean(kl, batch.completion_mask)


def policy_logprobs(model: PreTrainedModel, batch: Batch, temperature: float) -> Tensor:
    """log π_θ of the batch's completion tokens (B, T) under the tempered policy, differentiable."""
    logits = completion_logits(
        model, batch.prompt_ids, batch.prompt_mask, batch.completion_ids, batch.completion_mask
    )
    return gather_logprobs(logits, batch.completion_ids, temperature)


def accumulate_gradients(
    model: PreTrainedModel,
    batch: Batch,
    context: UpdateContext,
    loss_fn: Callable[[Tensor, Batch], Tensor],
) -> float:
    """Backward `loss_fn(logprobs, micro_batch)` over micro-batches; returns the full-batch loss.

    Each micro-batch loss is a mean over its completions and is weighted by its share of the
    batch, so the accumulated gradient equals the gradient of the full-batch mean. The shared
    terms of `accumulate_losses` (KL in the loss, value loss with gae) are included.
    """
    stats = accumulate_losses(model, batch, context, lambda lp, mb: (loss_fn(lp, mb), {}))
    return stats["loss/policy"]


StatsLoss = Callable[[Tensor, Batch], tuple[Tensor, dict[str, Tensor]]]
"""(logprobs, micro-batch) → (per-sequence-mean loss, stats that are means over its tokens)."""


def accumulate_losses(
    model: PreTrainedModel,
    batch: Batch,
    context: UpdateContext,
    loss_fn: StatsLoss,
    fit_value: bool = True,
) -> dict[str, float]:
    """Backward `loss_fn` + the shared terms over micro-batches; batch means of losses and stats.

    Shared terms: the KL penalty when it sits in the loss, and with gae (and `fit_value`)
    value_coef · the value loss of the head on the policy trunk (PPO's L^{CLIP+VF}, eq. 9).
    Sequence means are weighted by each micro-batch's share of the completions and token means
    by its share of the tokens, so every number and gradient is that of the whole batch, the
    same for any `micro_batch_prompts`.
    """
    settings = context.settings
    head = value_head(model) if fit_value and batch.value_targets is not None else None
    batch_tokens = batch.completion_mask.sum().clamp(min=1.0)
    totals: dict[str, float] = {}
    fitted_values: list[Tensor] = []
    for micro in batch.micro_batches(settings.micro_batch_prompts):
        share = micro.size / batch.size
        token_share = micro.completion_mask.sum() / batch_tokens
        logits, hidden = completion_outputs(
            model, micro.prompt_ids, micro.prompt_mask, micro.completion_ids,
            micro.completion_mask, with_hidden=head is not None,
        )  # fmt: skip
        logprobs = gather_logprobs(logits, micro.completion_ids, settings.temperature)
        policy_loss, stats = loss_fn(logprobs, micro)
        loss = (policy_loss + kl_penalty(logprobs, micro, context)) * share
        weighted = {key: float(value) * float(token_share) for key, value in stats.items()}
        weighted["loss/policy"] = float(policy_loss.detach()) * share
        if head is not None:
            values = head(hidden)
            fitted = value_loss(values, micro.value_targets, micro.completion_mask)
            loss = loss + settings.value_coef * fitted * token_share
            weighted["loss/value"] = float(fitted.detach()) * float(token_share)
            fitted_values.append(values.detach())
        loss.backward()
        for key, value in weighted.items():
            totals[key] = totals.get(key, 0.0) + value
    if head is not None:
        values = torch.cat(fitted_values)
        variance = explained_variance(values, batch.value_targets, batch.completion_mask)
        totals["value/explained_variance"] = variance
    return totals
