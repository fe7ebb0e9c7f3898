"""Advantage estimators shared by every algorithm, selected by `rollout.advantage`.

Sequence-level estimators (rloo, batch-mean, ema, none) take sequence returns (B,) with the k
completions of each prompt in consecutive rows and return advantages (B,). `gae` works per
token: it takes per-token rewards and values (B, T) and returns advantages and value targets
(B, T). `Estimator` holds what persists between updates (the EMA baseline).
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
    "batch-mean": batch_mean,
    "none": no_baseline,
}
ESTIMATORS: dict[Advantage, str] = {
    "rloo": "leave-one-out over the k samples of a prompt (default)",
    "batch-mean": "the batch's mean return",
    "ema": "a running mean of past returns",
    "none": "no baseline",
    "gae": "a value head on the policy trunk + token-level GAE(γ, λ)",
}


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

    def __call__(
        self, rewards: Tensor, mask: Tensor, values: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        """(advantages (B,) or (B, T), value targets (B, T) or None) from per-token rewards."""
        if self.name == "gae":
            assert values is not None, "gae needs the value head's predictions"
            return gae(rewards, values, mask, self.gamma, self.lam)
        returns = (rewards * mask).sum(-1)
        if self.name == "ema":
            advantages, self.ema_baseline = running_mean(returns, self.ema_baseline, self.ema_decay)
            return advantages, None
        return estimate(self.name, returns, self.samples_per_prompt), None
