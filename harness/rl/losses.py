"""Loss reductions every algorithm shares: the aggregation of token terms, KL and value terms."""

from collections.abc import Callable

import torch
from torch import Tensor
from transformers import PreTrainedModel

from harness.api.algorithm import LossSettings, UpdateContext
from harness.api.batch import Batch
from harness.rl.kl import estimate_kl
from harness.rl.logprobs import completion_logits, completion_outputs, gather_logprobs
from harness.rl.value import explained_variance, value_head, value_loss


def aggregate(values: Tensor, mask: Tensor, settings: LossSettings) -> Tensor:
    """Reduce per-token terms (B, T) to a scalar the way `settings.loss_agg` says.

    seq-mean-token-sum (default): Σ_t per sequence, mean over sequences; at θ = θ_old every
      algorithm's gradient is then the REINFORCE gradient E[A ∇ log π(y)].
    seq-mean-token-mean (GRPO, Shao et al. 2024, eq. 3): each sequence's token mean, then the
      mean over sequences (a long completion's tokens weigh less).
    token-mean (DAPO, Yu et al. 2025, eq. 8): Σ over every token of the batch / their number.
    seq-mean-token-sum-norm (Dr. GRPO, Liu et al. 2025, eq. 3): Σ_t per sequence divided by the
      constant generation limit, then the mean over sequences.
    Micro-batches are weighted by `batch_share`, so the result is that of the whole batch.
    """
    masked = values * mask
    agg = settings.loss_agg
    if agg == "seq-mean-token-sum":
        return masked.sum(-1).mean()
    if agg == "seq-mean-token-mean":
        return (masked.sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    if agg == "token-mean":
        return masked.sum() / mask.sum().clamp(min=1.0)
    assert agg == "seq-mean-token-sum-norm", agg
    return (masked.sum(-1) / settings.max_new_tokens).mean()


def batch_share(micro: Batch, batch: Batch, settings: LossSettings) -> float:
    """The weight of a micro-batch's aggregated loss in the whole batch's (tokens or sequences)."""
    if settings.loss_agg == "token-mean":
        return float(micro.completion_mask.sum() / batch.completion_mask.sum().clamp(min=1.0))
    return micro.size / batch.size


def token_advantages(advantages: Tensor) -> Tensor:
    """Advantages that broadcast against (B, T): (B,) → (B, 1); (B, T) unchanged; detached."""
    return advantages.detach()[:, None] if advantages.dim() == 1 else advantages.detach()


def kl_penalty(logprobs: Tensor, batch: Batch, context: UpdateContext) -> Tensor:
    """β · kl_t aggregated like the policy loss (placement `loss`), with the run's estimator."""
    if context.kl_loss_coef == 0.0:
        return logprobs.new_zeros(())
    kl = estimate_kl(context.settings.kl_estimator, logprobs, batch.ref_logprobs)
    return context.kl_loss_coef * aggregate(kl, batch.completion_mask, context.settings)


def policy_logprobs(model: PreTrainedModel, batch: Batch, temperature: float) -> Tensor:
    """log π_θ of the batch's completion tokens (B, T) under the tempered policy, differentiable."""
    logits = completion_logits(
        model, batch.prompt_ids, batch.prompt_mask, batch.completion_ids, batch.completion_mask
    )
    return gather_logprobs(logits, batch.completion_ids, temperature)


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
    Losses are weighted by `batch_share` and token-mean statistics by each micro-batch's share
    of the tokens, so every number and gradient is that of the whole batch, the same for any
    `micro_batch_prompts`.
    """
    settings = context.settings
    head = value_head(model) if fit_value and batch.value_targets is not None else None
    batch_tokens = batch.completion_mask.sum().clamp(min=1.0)
    totals: dict[str, float] = {}
    fitted_values: list[Tensor] = []
    for micro in batch.micro_batches(settings.micro_batch_prompts):
        share = batch_share(micro, batch, settings)
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
