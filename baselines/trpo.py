"""TRPO (Schulman et al. 2015): maximise the surrogate subject to mean KL(π_old‖π_θ) ≤ δ.

One update: the surrogate's gradient g at θ_old, the natural direction x ≈ F⁻¹g by conjugate
gradient on Fisher-vector products (harness/rl/natural_gradient.py: the Hessian of the mean KL
in Gauss–Newton form plus damping), the step scaled to the KL bound, then a backtracking line
search that accepts only a step that improves the surrogate AND measures exact mean KL ≤ δ,
else keeps θ_old. Parameters are handled as one flat vector (parameters_to_vector /
vector_to_parameters).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn.utils import parameters_to_vector, vector_to_parameters
from transformers import PreTrainedModel

from baselines.kept_log_softmax import KeptLogSoftmax, keep_log_softmax
from harness.api.algorithm import Algorithm, LossSettings, UpdateContext
from harness.api.batch import Batch
from harness.api.checks import (
    AT_LEAST_ONE,
    FRACTION,
    NON_NEGATIVE,
    OPEN_UNIT,
    POSITIVE,
    check_fields,
)
from harness.policies.memory import mapped_large_blocks, release_free_heap
from harness.rl.guards import check_finite
from harness.rl.logprobs import completion_outputs, gather_tokens, tempered_log_softmax
from harness.rl.losses import aggregate, batch_share, kl_penalty, token_advantages
from harness.rl.natural_gradient import (
    conjugate_gradient,
    fisher_product,
    flat_parameters,
    module_weights,
)
from harness.rl.value import explained_variance, policy_parameters, regress, value_head, value_loss


@dataclass(frozen=True)
class Config:
    """TRPO settings."""

    max_kl: float = 0.1
    """trust region δ on the mean per-token KL(π_old‖π_θ). Schulman et al. 2015's 0.01 (§8,
    MuJoCo) moved smollm2-135m by 0.004 nats/token per update against REINFORCE's 0.097; at
    0.1 the measured train/kl_step is 0.079 (see docs/fairness.md on comparable step sizes)"""
    cg_iters: int = 10
    """conjugate gradient iterations; 10 as in Schulman et al. 2015, App. C"""
    cg_damping: float = 0.1
    """λ of the damped Fisher F + λI; 0.1 as in OpenAI baselines' TRPO"""
    backtrack_steps: int = 10
    """line search trials (step × ratio^i, i = 0..n−1); 10 as in OpenAI baselines' TRPO"""
    backtrack_ratio: float = 0.5
    """step shrink factor per line search trial; 0.5 as in OpenAI baselines' TRPO"""
    fisher_fraction: float = 0.2
    """share of prompts for the FVPs (App. C subsamples; baselines' TRPO uses every 5th sample)"""
    value_ridge: float = 1e-3
    """ridge penalty of the value head's least-squares regression (gae only)"""

    def __post_init__(self) -> None:
        check_fields(
            "algo",
            self,
            {
                "max_kl": POSITIVE,
                "cg_iters": AT_LEAST_ONE,
                "cg_damping": NON_NEGATIVE,
                "backtrack_steps": AT_LEAST_ONE,
                "backtrack_ratio": OPEN_UNIT,
                "fisher_fraction": FRACTION,
                "value_ridge": NON_NEGATIVE,
            },
        )


def loss(
    logprobs: Tensor, batch: Batch, config: Config, settings: LossSettings
) -> tuple[Tensor, dict[str, Tensor]]:
    """−L_θold(θ), L = E[Σ_t π_θ(y_t)/π_old(y_t) · A_t] (Schulman et al. 2015, eq. 14): (B, T) → ().

    The negated surrogate: `update` maximises `objective`, −loss less the KL penalty when it
    sits in the loss. The token terms are reduced by `settings.loss_agg`
    (harness.rl.losses.aggregate). No statistics.
    """
    del config
    mask = batch.completion_mask
    ratio = torch.exp((logprobs - batch.old_logprobs.detach()) * mask)
    return -aggregate(ratio * token_advantages(batch.advantages), mask, settings), {}


def objective(logprobs: Tensor, batch: Batch, config: Config, context: UpdateContext) -> Tensor:
    """The maximised objective: the surrogate (−loss) − the KL penalty when it sits in the loss."""
    surrogate = -loss(logprobs, batch, config, context.settings)[0]
    return surrogate - kl_penalty(logprobs, batch, context)


def mean_kl(old_logp: Tensor, logp: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """(Σ over tokens of exact KL(π_old‖π_θ), token count) from log-softmaxes (B, T, V)."""
    kl = (old_logp.exp() * (old_logp - logp)).sum(-1)
    return (kl * mask).sum(), mask.sum()


def log_softmax(model: PreTrainedModel, batch: Batch, temperature: float, with_hidden=False):
    """Tempered log π_θ over the vocabulary (B, T, V) and, optionally, hidden states (B, T, H)."""
    logits, hidden = completion_outputs(
        model, batch.prompt_ids, batch.prompt_mask, batch.completion_ids, batch.completion_mask,
        with_hidden=with_hidden,
    )  # fmt: skip
    return tempered_log_softmax(logits, temperature), hidden


def flat_grad(params: list[torch.nn.Parameter]) -> Tensor:
    """The parameters' .grad as one vector (zeros where a parameter got no gradient)."""
    return parameters_to_vector([torch.zeros_like(p) if p.grad is None else p.grad for p in params])


@dataclass(frozen=True)
class Search:
    """Outcome of the line search: the accepted parameters (None: keep θ_old) and measures."""

    theta: Tensor | None
    trials: int
    gain: float
    kl: float


def line_search(
    evaluate: Callable[[Tensor], tuple[float, float]],
    theta: Tensor,
    step: Tensor,
    baseline: float,
    config: Config,
) -> Search:
    """Try θ + ratio^i·step; accept the first with surrogate > baseline AND KL ≤ δ."""
    for trial in range(config.backtrack_steps):
        candidate = torch.add(theta, step, alpha=config.backtrack_ratio**trial)
        value, kl = evaluate(candidate)
        if kl <= config.max_kl and value > baseline:
            return Search(candidate, trial + 1, value - baseline, kl)
    return Search(None, config.backtrack_steps, 0.0, 0.0)


def evaluator(
    model: PreTrainedModel,
    params: list,
    batch: Batch,
    old_logps: list[KeptLogSoftmax],
    theta_old: Tensor,
    config: Config,
    context: UpdateContext,
) -> Callable[[Tensor], tuple[float, float]]:
    """θ ↦ (objective, exact mean KL(π_old‖π_θ)) over the whole batch; loads θ into the model.

    π_old's log-softmaxes are restored per micro-batch with θ_old's head weights.
    """
    head = model.get_output_embeddings()
    old_head = {} if head is None else module_weights(head, params, theta_old)

    def evaluate(theta: Tensor) -> tuple[float, float]:
        vector_to_parameters(theta, params)
        value, kl_sum, tokens = 0.0, 0.0, 0.0
        settings = context.settings
        micros = batch.micro_batches(settings.micro_batch_prompts)
        for micro, kept in zip(micros, old_logps, strict=True):
            logp, _ = log_softmax(model, micro, settings.temperature)
            logprobs = gather_tokens(logp, micro.completion_ids)
            value += objective(logprobs, micro, config, context).item() * batch_share(
                micro, batch, settings
            )
            kl, count = mean_kl(kept.restore(model, old_head), logp, micro.completion_mask)
            kl_sum, tokens = kl_sum + kl.item(), tokens + count.item()
        return value, kl_sum / max(tokens, 1.0)

    return torch.no_grad()(evaluate)


def surrogate_gradient(
    model: PreTrainedModel,
    params: list,
    batch: Batch,
    fit_value: bool,
    config: Config,
    context: UpdateContext,
):
    """Backward of the objective at θ_old: (value, g, kept old log-softmaxes, hidden, targets)."""
    model.zero_grad(set_to_none=True)
    settings = context.settings
    value, old_logps, hidden, targets = 0.0, [], [], []
    for micro in batch.micro_batches(settings.micro_batch_prompts):
        logp, h = log_softmax(model, micro, settings.temperature, with_hidden=True)
        logprobs = gather_tokens(logp, micro.completion_ids)
        part = objective(logprobs, micro, config, context) * batch_share(micro, batch, settings)
        (-part).backward()
        value += part.item()
        old_logps.append(keep_log_softmax(model, logp, h, settings.temperature))
        if fit_value:
            picked = micro.completion_mask.bool()
            hidden.append(h.detach()[picked])
            targets.append(micro.value_targets[picked])
    return value, -flat_grad(params), old_logps, hidden, targets


def fit_value_head(model: PreTrainedModel, hidden: list, targets: list, ridge: float):
    """Regress the value head on the θ_old trunk features (the trunk is TRPO's, not touched)."""
    head = value_head(model)
    features, goal = torch.cat(hidden), torch.cat(targets)
    with torch.no_grad():
        before = head(features)
    ones = torch.ones_like(goal)
    stats = {"loss/value": value_loss(before, goal, ones).item()}
    regress(head, features, goal, ridge)
    with torch.no_grad():
        stats["value/explained_variance"] = explained_variance(head(features), goal, ones)
    return stats


def fisher_batch(batch: Batch, fraction: float) -> Batch:
    """The prompts whose FVPs CG uses: all, or a random `fraction` of them (at least one)."""
    prompts = batch.prompt_ids.shape[0]
    count = max(1, math.ceil(fraction * prompts))
    if count >= prompts:
        return batch
    return batch.select_prompts(torch.randperm(prompts, device=batch.prompt_ids.device)[:count])


def init(model: PreTrainedModel, config: Config) -> None:
    """TRPO keeps no state between updates (no optimizer)."""
    return None


def update(
    model: PreTrainedModel, batch: Batch, config: Config, state: None, context: UpdateContext
) -> dict[str, float]:
    """One trust-region step (Schulman et al. 2015, §6 and App. C)."""
    params = policy_parameters(model)
    release_free_heap()  # what the rollout's phases left in the heap: not under TRPO's peak
    # glibc's own allocation here: TRPO's peak is its few 0.5 GB vectors, and heap reuse
    # (harness/policies/memory.py) left freed gaps between them resident (+0.35 GB) for no speed
    with mapped_large_blocks(), flat_parameters(params):  # tangents then need no copies
        return trust_region_step(model, params, batch, config, context)


def trust_region_step(
    model: PreTrainedModel, params: list, batch: Batch, config: Config, context: UpdateContext
) -> dict[str, float]:
    """The natural-gradient step scaled to the KL bound, line search, and its statistics."""
    fit_value = batch.value_targets is not None and value_head(model) is not None
    baseline, g, old_logps, hidden, targets = surrogate_gradient(
        model, params, batch, fit_value, config, context
    )
    model.zero_grad(set_to_none=True)
    check_finite("surrogate gradient", g)  # before θ moves: a NaN step would corrupt it
    release_free_heap()  # the backward's activations: not resident under CG's vectors
    fisher = fisher_batch(batch, config.fisher_fraction)
    product = fisher_product(model, params, fisher, config.cg_damping, context.settings)
    solution = conjugate_gradient(product, g, config.cg_iters)  # g is used up (0.5 GB saved)
    del product, g  # frees the kept forward graph before the line search
    release_free_heap()
    # The step scaled so ½ sᵀFs = δ reaches the bound.
    shs = max(solution.curvature, 1e-12)
    scale = math.sqrt(2.0 * config.max_kl / shs)
    step = solution.x.mul_(scale)  # in place: each vector is 0.5 GB on smollm2-135m
    check_finite("natural-gradient step", step)
    theta = parameters_to_vector(params).detach()
    evaluate = evaluator(model, params, batch, old_logps, theta, config, context)
    search = line_search(evaluate, theta, step, baseline, config)
    vector_to_parameters(theta if search.theta is None else search.theta, params)
    stats = {
        "loss/policy": -baseline,
        "trpo/kl": search.kl,
        "trpo/surrogate_gain": search.gain,
        "trpo/expected_gain": scale * solution.b_dot_x,  # gᵀs
        "trpo/line_search_steps": float(search.trials),
        "trpo/cg_residual": solution.residual_norm,
        "trpo/step_norm": 0.0 if search.theta is None else float((search.theta - theta).norm()),
        "trpo/accepted": float(search.theta is not None),
    }
    if fit_value:
        stats.update(fit_value_head(model, hidden, targets, config.value_ridge))
    return stats


#: TRPO (Schulman et al. 2015): natural gradient by CG, KL ≤ δ line search
ALGORITHM = Algorithm(name="trpo", Config=Config, init=init, update=update, loss=loss)
