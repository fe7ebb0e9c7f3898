"""Supervised fine-tuning: the start policy trained by cross-entropy on the train references.

GRUE's supervised row (Ramamurthy et al. 2023, RL4LMs): the same start policy, data, budget and
evaluation as the RL rows, but the update maximises the likelihood of the references instead of
a reward. One training example is one (prompt, reference) pair and counts as one sample in the
budget, so `--samples N` trains on exactly N examples: each update takes
`rollout.prompts_per_update × rollout.samples_per_prompt` distinct prompts of the same training
prompt stream the RL runs draw from, each with its first reference tokenized as the completion
(harness.loop.rollout.reference_rollout). Nothing is sampled; the shared evaluation is unchanged.

Temperature: the cross-entropy is taken at T = 1, not at the sampling temperature. This is the
usual maximum-likelihood fine-tuning GRUE reports (the start policy was itself trained at T = 1:
pre-training, the tiny policy's warm start), so the fitted weights do not depend on a decoding
setting; evaluation then samples softmax(z / T) from them like every other row. Fitting
softmax(z / T) instead would give the weights a T-dependent scale, and the T = 1 model would be
flatter than the data by the factor T. The KL and step-size measurements of the update
(`train/kl_exact`, `train/kl_step`) use the shared sampling temperature like every row.
"""

from dataclasses import dataclass, replace

import torch
from torch import Tensor
from transformers import PreTrainedModel

from baselines import reinforce
from harness.api.algorithm import Algorithm, LossSettings, UpdateContext
from harness.api.batch import Batch
from harness.api.checks import POSITIVE, check_fields
from harness.rl.losses import accumulate_losses, aggregate
from harness.rl.optim import clipped_step

LOSS_TEMPERATURE = 1.0  # maximum likelihood of the model's own distribution (module docstring)


@dataclass(frozen=True)
class Config:
    """Supervised fine-tuning settings."""

    lr: float = 3e-5
    """Adam learning rate (REINFORCE's default; tune it like the RL rows' rates)"""
    max_grad_norm: float = 1.0
    """clip the global gradient norm to this (≤ 0 disables)"""

    def __post_init__(self) -> None:
        check_fields("algo", self, {"lr": POSITIVE})


def token_nll(logprobs: Tensor, completion_mask: Tensor) -> Tensor:
    """Mean −log π over the reference tokens (B, T) → (): the `train/nll` statistic."""
    return -(logprobs.detach() * completion_mask).sum() / completion_mask.sum().clamp(min=1.0)


def loss(
    logprobs: Tensor, batch: Batch, config: Config, settings: LossSettings
) -> tuple[Tensor, dict[str, Tensor]]:
    """Cross-entropy −log π(y_t | x, y_<t) of the reference tokens: logprobs, mask (B, T).

    The negative log-likelihood of maximum-likelihood training (logprobs at T = 1); the token
    terms are reduced by `settings.loss_agg` (harness.rl.losses.aggregate), as every RL loss is.
    Stats: `train/nll`, the mean −log π over the reference tokens.
    """
    del config
    mask = batch.completion_mask
    return aggregate(-logprobs, mask, settings), {"train/nll": token_nll(logprobs, mask)}


def update(
    model: PreTrainedModel,
    batch: Batch,
    config: Config,
    optimizer: torch.optim.Optimizer,
    context: UpdateContext,
) -> dict[str, float]:
    """One clipped Adam step on the cross-entropy of the batch's references.

    Log-probs go through the shared micro-batched path (accumulate_losses) at T = 1; there is
    no KL term in the loss (kl_loss_coef 0) and no value head to fit.
    """
    settings = replace(context.settings, temperature=LOSS_TEMPERATURE)
    optimizer.zero_grad(set_to_none=True)
    stats = accumulate_losses(
        model,
        batch,
        UpdateContext(settings),
        lambda logprobs, mb: loss(logprobs, mb, config, settings),
        fit_value=False,
    )
    return {**stats, "grad_norm": clipped_step(model, optimizer, config.max_grad_norm)}


#: cross-entropy on the train references, one per sample of the budget (GRUE's row)
ALGORITHM = Algorithm(
    name="supervised",
    Config=Config,
    init=reinforce.init,  # the same Adam over the trainable parameters
    update=update,
    loss=loss,
    trains_on="references",
    # No reward, so no advantages and no KL penalty: config.json and the report's parts column
    # say so instead of the RL defaults (the shared evaluation still measures the KL).
    preset={"rollout.advantage": "none", "rollout.kl_coef": 0.0},
)
