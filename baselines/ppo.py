"""PPO (Schulman et al. 2017): the clipped surrogate, epochs × minibatches over one rollout."""

from dataclasses import dataclass

import torch
from torch import Tensor
from transformers import PreTrainedModel

from harness.api.algorithm import Algorithm, LossSettings, UpdateContext
from harness.api.batch import Batch
from harness.api.checks import AT_LEAST_ONE, POSITIVE, check_fields
from harness.api.choices import RatioLevel
from harness.rl.losses import accumulate_losses, aggregate, token_advantages
from harness.rl.optim import adam, clipped_step


@dataclass(frozen=True)
class Config:
    """PPO settings."""

    lr: float = 2e-5
    """Adam learning rate. 2e-5 so that one update (4 epochs) moves smollm2-135m by the same order
    of exact KL(π_old‖π_new) per token as one REINFORCE step at 3e-5: measured train/kl_step
    0.036 vs 0.097 (1e-5 gave 0.016); see docs/fairness.md on comparable step sizes"""
    clip_eps: float = 0.2
    """clip range ε of the probability ratio; 0.2, best in Schulman et al. 2017, Table 1"""
    clip_low: float | None = None
    """lower clip bound: ratios below 1 − clip_low are clipped; None takes clip_eps"""
    clip_high: float | None = None
    """upper clip bound: ratios above 1 + clip_high; None takes clip_eps (DAPO: 0.28)"""
    ratio_level: RatioLevel = "token"
    """token (PPO) | sequence: one ratio per completion, exp(mean_t log π/π_old) (GSPO)"""
    epochs: int = 4
    """passes over each rollout; 4 as in Ziegler et al. 2019 (lm-human-preferences noptepochs)"""
    minibatches: int = 1
    """minibatches per epoch (split by prompts); 1 as in Ziegler et al. 2019 (nminibatches)"""
    target_kl: float | None = None
    """stop the epochs early once approx KL > 1.5 × this (OpenAI Spinning Up); None: never"""
    max_grad_norm: float = 1.0
    """clip the global gradient norm to this (≤ 0 disables); REINFORCE's value, for fairness"""

    def __post_init__(self) -> None:
        check_fields(
            "algo",
            self,
            {
                "lr": POSITIVE,
                "clip_eps": POSITIVE,
                "clip_low": POSITIVE,
                "clip_high": POSITIVE,
                "epochs": AT_LEAST_ONE,
                "minibatches": AT_LEAST_ONE,
                "target_kl": POSITIVE,
            },
        )


def clip_bounds(config: Config) -> tuple[float, float]:
    """(ε_low, ε_high): clip_low and clip_high, each clip_eps where unset."""
    low = config.clip_eps if config.clip_low is None else config.clip_low
    high = config.clip_eps if config.clip_high is None else config.clip_high
    return low, high


def loss(
    logprobs: Tensor, batch: Batch, config: Config, settings: LossSettings
) -> tuple[Tensor, dict[str, Tensor]]:
    """−L^CLIP (Schulman et al. 2017, eq. 7) per token, reduced by `settings.loss_agg`.

    r_t = π_θ(y_t) / π_old(y_t); L^CLIP = min(r_t A_t, clip(r_t, 1 − ε_low, 1 + ε_high) A_t)
    (asymmetric bounds: DAPO, Yu et al. 2025, eq. 10). With ratio_level=sequence the ratio is
    GSPO's s_i = exp(mean_t log r_t) (Zheng et al. 2025, eq. 7) and the clipped term of each
    completion is placed on each of its tokens, so seq-mean-token-mean gives GSPO's objective
    (the mean over completions) and the other aggregations weigh a completion by its length.
    logprobs, batch.old_logprobs, batch.completion_mask (B, T); batch.advantages (B,) or (B, T).
    Stats: the fraction of tokens whose ratio is outside the clip range and approx KL(π_old‖π_θ)
    (k3 estimator).
    """
    mask = batch.completion_mask
    log_ratio = (logprobs - batch.old_logprobs.detach()) * mask  # masked: no inf·0 past the end
    if config.ratio_level == "sequence":
        mean_log_ratio = log_ratio.sum(-1) / mask.sum(-1).clamp(min=1.0)
        ratio = torch.exp(mean_log_ratio)[:, None].expand_as(log_ratio)
    else:
        ratio = torch.exp(log_ratio)
    low, high = clip_bounds(config)
    adv = token_advantages(batch.advantages)
    clipped = torch.clamp(ratio, 1.0 - low, 1.0 + high)
    policy_loss = -aggregate(torch.minimum(ratio * adv, clipped * adv), mask, settings)
    with torch.no_grad():
        tokens = mask.sum().clamp(min=1.0)
        outside = ((ratio < 1.0 - low) | (ratio > 1.0 + high)).float()
        clipfrac = (outside * mask).sum() / tokens
        approx_kl = (((torch.exp(log_ratio) - 1.0) - log_ratio) * mask).sum() / tokens
    return policy_loss, {"ppo/clipfrac": clipfrac, "ppo/approx_kl": approx_kl}


BF16_ROUNDING = 0.033
"""mean |log π_sampling − log π_update| a token at θ = θ_old under bf16 autocast: what rounding
alone moves log r_t by (smollm2-135m, `benchmarks/precision_mismatch.py`, docs/performance.md)"""


def precision_note(config: Config, precision: str) -> str | None:
    """A warning when a clip bound is narrower than bf16's mean rounding of a token's log-prob:
    the clip then binds on rounding, not on the update (GSPO's 3e-4/4e-4: every completion,
    measured). A rule of thumb, not a measurement of this run: a wider token clip still binds on
    some tokens (0.55 % at PPO's 0.2), and a sequence ratio averages rounding over a completion.
    """
    low, high = clip_bounds(config)
    if precision != "bf16" or min(low, high) >= BF16_ROUNDING:
        return None
    return (
        f"precision    bf16 with the ratio clipped at {low:g}/{high:g}: bf16 rounding alone moves "
        f"log-probs by ≈ {BF16_ROUNDING} a token at θ = θ_old (benchmarks/precision_mismatch.py), "
        "so the clip binds on rounding; run this algorithm in fp32"
    )


def init(model: PreTrainedModel, config: Config) -> torch.optim.Optimizer:
    """Adam over the trainable parameters (with gae, the value head's too)."""
    return adam(model, config.lr)


def minibatch_step(
    model: PreTrainedModel,
    minibatch: Batch,
    config: Config,
    optimizer: torch.optim.Optimizer,
    context: UpdateContext,
) -> dict[str, float] | None:
    """One clipped-surrogate step; None (no step) when approx KL exceeds 1.5 × target_kl."""
    optimizer.zero_grad(set_to_none=True)
    stats = accumulate_losses(
        model, minibatch, context, lambda lp, mb: loss(lp, mb, config, context.settings)
    )
    if config.target_kl is not None and stats["ppo/approx_kl"] > 1.5 * config.target_kl:
        optimizer.zero_grad(set_to_none=True)
        return None
    stats["grad_norm"] = clipped_step(model, optimizer, config.max_grad_norm)
    return stats


def update(
    model: PreTrainedModel,
    batch: Batch,
    config: Config,
    optimizer: torch.optim.Optimizer,
    context: UpdateContext,
) -> dict[str, float]:
    """`epochs` passes over the rollout in shuffled prompt minibatches; mean stats per step."""
    prompts = batch.prompt_ids.shape[0]
    totals: dict[str, float] = {}
    steps = 0
    for _ in range(config.epochs):
        order = torch.randperm(prompts, device=batch.prompt_ids.device)
        for chunk in order.chunk(min(config.minibatches, prompts)):
            stats = minibatch_step(model, batch.select_prompts(chunk), config, optimizer, context)
            if stats is None:
                return summarize(totals, steps, stopped=True)
            for key, value in stats.items():
                totals[key] = totals.get(key, 0.0) + value
            steps += 1
    return summarize(totals, steps, stopped=False)


def summarize(totals: dict[str, float], steps: int, stopped: bool) -> dict[str, float]:
    """Mean of each statistic over the steps taken, plus how many and whether PPO stopped early."""
    stats = {key: value / max(steps, 1) for key, value in totals.items()}
    if "value/explained_variance" in stats:
        stats["ppo/explained_variance"] = stats["value/explained_variance"]
    return {**stats, "ppo/steps": float(steps), "ppo/early_stop": float(stopped)}


#: PPO (Schulman et al. 2017): clipped surrogate, epochs × minibatches per rollout
ALGORITHM = Algorithm(
    name="ppo", Config=Config, init=init, update=update, loss=loss, precision_note=precision_note
)
