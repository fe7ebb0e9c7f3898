"""REINFORCE (Williams 1992) on sequence-level advantages from the shared estimator."""

from dataclasses import dataclass

import torch
from torch import Tensor
from transformers import PreTrainedModel

from harness.api.algorithm import Algorithm, LossSettings, UpdateContext
from harness.api.batch import Batch
from harness.api.checks import POSITIVE, check_fields
from harness.rl.losses import accumulate_losses, aggregate, token_advantages
from harness.rl.optim import adam, clipped_step


@dataclass(frozen=True)
class Config:
    """REINFORCE settings."""

    lr: float = 3e-5
    """Adam learning rate (tuned on smollm2-135m; see docs/getting-started.md "Why each default")"""
    max_grad_norm: float = 1.0
    """clip the global gradient norm to this (≤ 0 disables)"""

    def __post_init__(self) -> None:
        check_fields("algo", self, {"lr": POSITIVE})


def loss(
    logprobs: Tensor, batch: Batch, config: Config, settings: LossSettings
) -> tuple[Tensor, dict[str, Tensor]]:
    """−E[Σ_t A_t · log π(y_t)]: logprobs (B, T), batch.advantages (B,) or (B, T) (per token).

    Williams 1992, eq. 1 (the likelihood-ratio gradient); the advantage is a constant. The token
    terms are reduced by `settings.loss_agg` (harness.rl.losses.aggregate). No statistics.
    """
    del config
    advantages = token_advantages(batch.advantages)
    return -aggregate(advantages * logprobs, batch.completion_mask, settings), {}


def init(model: PreTrainedModel, config: Config) -> torch.optim.Optimizer:
    """Adam over the trainable parameters."""
    return adam(model, config.lr)


def update(
    model: PreTrainedModel,
    batch: Batch,
    config: Config,
    optimizer: torch.optim.Optimizer,
    context: UpdateContext,
) -> dict[str, float]:
    """One gradient step on the REINFORCE loss."""
    optimizer.zero_grad(set_to_none=True)
    stats = accumulate_losses(
        model, batch, context, lambda logprobs, mb: loss(logprobs, mb, config, context.settings)
    )
    return {**stats, "grad_norm": clipped_step(model, optimizer, config.max_grad_norm)}


#: REINFORCE (Williams 1992) with the shared advantage estimator
ALGORITHM = Algorithm(name="reinforce", Config=Config, init=init, update=update, loss=loss)
