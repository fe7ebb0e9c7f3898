"""Advantage estimators shared by every algorithm, selected by `rollout.advantage`.

Sequence-level estimators (rloo, group-norm, group-mean, batch-mean, ema, none, remax) take
sequence returns (B,) with the k completions of each prompt (its group) in consecutive rows and
return advantages (B,). Token-level ones work on per-token rewards (B, T): `gae` with values
(advantages and value targets), `batch-whiten` and `group-batch-whiten` with returns-to-go.
`Estimator` holds what persists between updates (the EMA baseline).
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from harness.api.choices import Advantage


def leave_one_out(returns: Tensor, samples_per_prompt: int) -> Tensor:
    """RLOO: A_i = R_i − mean_{j≠i} R_j over the k samples of the same prompt.

    Kool et al. 2019, "Buy 4 REINFORCE samples, get a baseline for free!"; Ahmadian et al.
    2024, eq. 6. Equivalent to k/(k−1) · (R_i − mean_j R_j).
    """
    k = samples_per_prompt
    if k < 2:
        raise ValueError(f"rloo needs samples_per_prompt >= 2, got {k}")
    grouped = returns.view(-1, k)
    baseline = (grouped.sum(-1, keepdim=True) - grouped) / (k - 1)
    return (grouped - baseline).reshape(-1)


def group_norm(returns: Tensor, samples_per_prompt: int) -> Tensor:
    """GRPO: A_i = (R_i − mean_g R) / (std_g R + ε) within each prompt's group of k.

    Shao et al. 2024, eq. 3 (outcome supervision). std is the sample standard deviation
    (k − 1 in the denominator, as torch and TRL compute it) and ε = 1e-4 (TRL's value), so a
    group whose rewards are all equal gets advantage 0.
    """
    grouped = returns.view(-1, samples_per_prompt)
    centred = grouped - grouped.mean(-1, keepdim=True)
    return (centred / (grouped.std(-1, keepdim=True) + GROUP_NORM_EPS)).reshape(-1)


def group_mean(returns: Tensor, samples_per_prompt: int) -> Tensor:
    """Dr. GRPO: A_i = R_i − mean_g R, without GRPO's division by the group's std.

    Liu et al. 2025, "Understanding R1-Zero-Like Training", eq. 3: the std division weights
    prompts by how uncertain their rewards are, a bias the authors remove.
    """
    grouped = returns.view(-1, samples_per_prompt)
    return (grouped - grouped.mean(-1, keepdim=True)).reshape(-1)


def greedy_baseline(returns: Tensor, baselines: Tensor) -> Tensor:
    """ReMax: A_i = R_i − R(greedy completion of the same prompt); baselines (P,), returns (B,).

    Li et al. 2023, eq. 5: the greedy completion's return is a baseline that depends on the
    prompt only, so the estimate stays unbiased. `greedy_return` shapes it as R_i is shaped.
    """
    k = returns.shape[0] // baselines.shape[0]
    return returns - baselines.repeat_interleave(k).to(returns.dtype)


def returns_to_go(rewards: Tensor, mask: Tensor) -> Tensor:
    """G_t = Σ_{s ≥ t} r_s per completion (γ = 1): (B, T) → (B, T), zero past the end."""
    masked = rewards * mask
    return masked.flip(-1).cumsum(-1).flip(-1) * mask


def whiten(values: Tensor, mask: Tensor) -> Tensor:
    """(x − mean) / (std + 1e-8) over every unmasked token of the batch: (B, T) → (B, T)."""
    tokens = mask.sum().clamp(min=1.0)
    mean = (values * mask).sum() / tokens
    variance = (((values - mean) * mask) ** 2).sum() / tokens
    return (values - mean) / (variance.sqrt() + 1e-8) * mask


def batch_whiten(rewards: Tensor, mask: Tensor) -> Tensor:
    """REINFORCE++: per-token returns-to-go (the future KL penalties included), whitened.

    Hu 2025, "REINFORCE++", eq. 4–5: A_t = Σ_{s ≥ t} r_s with r_s = −β kl_s plus the task reward
    at the last token, normalised by the mean and std over all tokens of the batch.
    rewards, mask: (B, T) → advantages (B, T).
    """
    return whiten(returns_to_go(rewards, mask), mask)


def group_batch_whiten(rewards: Tensor, mask: Tensor, samples_per_prompt: int) -> Tensor:
    """REINFORCE++-baseline: subtract the group's mean return at the last token, then whiten.

    Hu 2025, §3.2 ("REINFORCE++ w/ baseline"): the mean sequence return of the prompt's group is
    subtracted from each completion's final reward; returns-to-go of the result are whitened
    over the batch as in `batch_whiten`. rewards, mask: (B, T) → advantages (B, T).
    """
    returns = (rewards * mask).sum(-1)
    group = returns.view(-1, samples_per_prompt).mean(-1).repeat_interleave(samples_per_prompt)
    last = (mask.sum(-1).long() - 1).clamp(min=0)
    centred = rewards.scatter_add(1, last[:, None], -group[:, None].to(rewards.dtype))
    return whiten(returns_to_go(centred, mask), mask)


def batch_mean(returns: Tensor, samples_per_prompt: int) -> Tensor:
    """A_i = R_i − mean over the whole batch (a constant baseline)."""
    del samples_per_prompt
    return returns - returns.mean()


def no_baseline(returns: Tensor, samples_per_prompt: int) -> Tensor:
    """A_i = R_i: plain REINFORCE without a baseline."""
    del samples_per_prompt
    return returns.clone()


def running_mean(returns: Tensor, baseline: float | None, decay: float) -> tuple[Tensor, float]:
    """EMA baseline: A_i = R_i − b, then b ← decay·b + (1 − decay)·mean(R); returns (A, b).

    Williams 1992, §4 ("reinforcement comparison"). b comes from earlier updates only, so the
    estimate stays unbiased; the first update, with no history, uses its own batch mean.
    """
    mean = returns.mean().item()
    b = mean if baseline is None else baseline
    return returns - b, decay * b + (1.0 - decay) * mean


def token_rewards(rewards: Tensor, kl: Tensor, mask: Tensor, kl_coef: float) -> Tensor:
    """r_t = −β·kl_t, plus the sequence reward R at the last completion token: (B, T).

    Ziegler et al. 2019, eq. 2 spread over tokens; Σ_t r_t = R − β Σ_t kl_t is the sequence
    return the sequence-level estimators use. rewards (B,), kl and mask (B, T).
    """
    shaped = -kl_coef * kl * mask
    last = (mask.sum(-1).long() - 1).clamp(min=0)
    return shaped.scatter_add(1, last[:, None], rewards[:, None].to(shaped.dtype))


def greedy_return(reward: Tensor, kl: Tensor, mask: Tensor, kl_coef: float) -> Tensor:
    """ReMax's baseline: the greedy completion's return r − β Σ_t kl_t, as the samples' (P,).

    The same shaping as the samples' returns (`token_rewards` summed over the completion), with
    the run's KL estimator on the greedy tokens, so that A = R(sample) − R(greedy) compares like
    with like. reward (P,), kl and mask (P, T). kl_coef is the β in the reward: 0 when the
    penalty sits in the loss or β = 0, and then the baseline is the task reward alone.
    """
    return (token_rewards(reward, kl, mask, kl_coef) * mask).sum(-1)


def gae(
    rewards: Tensor, values: Tensor, mask: Tensor, gamma: float, lam: float
) -> tuple[Tensor, Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016, eq. 16); returns (A, A + V).

    δ_t = r_t + γ V_{t+1} − V_t with V = 0 after the last token, A_t = Σ_l (γλ)^l δ_{t+l}.
    rewards, values, mask: (B, T); both outputs (B, T), zero after the end of each completion.
    """
    values = values * mask
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(rewards.shape[1])):
        next_value = values[:, t + 1] if t + 1 < rewards.shape[1] else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = (delta + gamma * lam * running) * mask[:, t]
        advantages[:, t] = running
    return advantages, (advantages + values) * mask


SEQUENCE_ESTIMATORS: dict[str, Callable[[Tensor, int], Tensor]] = {
    "rloo": leave_one_out,
    "group-norm": group_norm,
    "group-mean": group_mean,
    "batch-mean": batch_mean,
    "none": no_baseline,
}
ESTIMATORS: dict[Advantage, str] = {
    "rloo": "leave-one-out over the k samples of a prompt (default)",
    "group-norm": "(R − group mean) / group std (GRPO)",
    "group-mean": "R − group mean (Dr. GRPO)",
    "batch-whiten": "per-token returns-to-go whitened over the batch (REINFORCE++)",
    "group-batch-whiten": "group mean subtracted, then batch-whitened (REINFORCE++-baseline)",
    "remax": "R − return of the prompt's greedy completion (ReMax)",
    "batch-mean": "the batch's mean return",
    "ema": "a running mean of past returns",
    "none": "no baseline",
    "gae": "a value head on the policy trunk + token-level GAE(γ, λ)",
}
GROUP_NORM_EPS = 1e-4


def estimate(name: str, returns: Tensor, samples_per_prompt: int) -> Tensor:
    """Apply the stateless sequence-level estimator called `name`."""
    return SEQUENCE_ESTIMATORS[name](returns, samples_per_prompt)


@dataclass
class Estimator:
    """The run's advantage estimator, with the state it keeps between updates."""

    name: Advantage
    samples_per_prompt: int
    gamma: float = 1.0
    lam: float = 0.95
    ema_decay: float = 0.9
    ema_baseline: float | None = None

    @property
    def needs_values(self) -> bool:
        """Whether this estimator needs a value head on the policy."""
        return self.name == "gae"

    @property
    def needs_greedy(self) -> bool:
        """Whether this estimator needs the return of each prompt's greedy completion (remax)."""
        return self.name == "remax"

    def __call__(
        self,
        rewards: Tensor,
        mask: Tensor,
        values: Tensor | None = None,
        greedy_rewards: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """(advantages (B,) or (B, T), value targets (B, T) or None) from per-token rewards.

        values (B, T): the value head's predictions (gae); greedy_rewards (P,): remax's baseline,
        the greedy completions' returns (`greedy_return`).
        """
        if self.name == "gae":
            assert values is not None, "gae needs the value head's predictions"
            return gae(rewards, values, mask, self.gamma, self.lam)
        if self.name == "batch-whiten":
            return batch_whiten(rewards, mask), None
        if self.name == "group-batch-whiten":
            return group_batch_whiten(rewards, mask, self.samples_per_prompt), None
        returns = (rewards * mask).sum(-1)
        if self.name == "remax":
            assert greedy_rewards is not None, "remax needs the greedy completions' rewards"
            return greedy_baseline(returns, greedy_rewards), None
        if self.name == "ema":
            advantages, self.ema_baseline = running_mean(returns, self.ema_baseline, self.ema_decay)
            return advantages, None
        return estimate(self.name, returns, self.samples_per_prompt), None
