"""KL divergence between the policy π and the reference π_ref: exact and sampled estimators.

The sample estimators follow Schulman, "Approximating KL Divergence" (2020), with
r = π_ref(y) / π(y) for a token y sampled from π: k1 = −log r, k2 = ½(log r)², k3 = (r − 1) − log r.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from harness.api.choices import KLEstimator, KLPlacement
from harness.rl.logprobs import tempered_log_softmax


def exact_kl(logits: Tensor, ref_logits: Tensor, temperature: float = 1.0) -> Tensor:
    """KL(π‖π_ref) per position (…,) summed over the whole vocabulary, from logits (…, V)."""
    logp = tempered_log_softmax(logits, temperature)
    logq = tempered_log_softmax(ref_logits, temperature)
    # KL ≥ 0; the clamp only removes float round-off of order 1e-10 around zero.
    return (logp.exp() * (logp - logq)).sum(-1).clamp(min=0.0)


def k1(logprobs: Tensor, ref_logprobs: Tensor) -> Tensor:
    """Unbiased, high-variance estimator log π(y) − log π_ref(y), elementwise."""
    return logprobs - ref_logprobs


def k2(logprobs: Tensor, ref_logprobs: Tensor) -> Tensor:
    """Low-variance, biased estimator ½ (log π(y) − log π_ref(y))², elementwise."""
    return 0.5 * (logprobs - ref_logprobs) ** 2


def k3(logprobs: Tensor, ref_logprobs: Tensor) -> Tensor:
    """Unbiased, low-variance, non-negative estimator (r − 1) − log r, elementwise."""
    log_ratio = ref_logprobs - logprobs
    return torch.expm1(log_ratio) - log_ratio


ESTIMATORS: dict[KLEstimator, Callable[[Tensor, Tensor], Tensor]] = {"k1": k1, "k2": k2, "k3": k3}


def estimate_kl(name: KLEstimator, logprobs: Tensor, ref_logprobs: Tensor) -> Tensor:
    """Per-token KL estimate (B, T) with the sample estimator called `name` (k1, k2, k3)."""
    return ESTIMATORS[name](logprobs, ref_logprobs)


def adapt_coef(coef: float, kl: float, target: float, rate: float) -> float:
    """Ziegler et al. 2019, §2.2: β ← β (1 + K_β e), e = clip(KL / KL_target − 1, −0.2, 0.2)."""
    error = min(max(kl / target - 1.0, -0.2), 0.2)
    return coef * (1.0 + rate * error)


@dataclass
class KLControl:
    """The KL penalty β across updates: fixed, or adapted toward `target` after every update."""

    coef: float
    placement: KLPlacement = "reward"
    target: float | None = None
    rate: float = 0.1

    @property
    def reward_coef(self) -> float:
        """β applied per token in the reward (0 when the penalty sits in the loss)."""
        return self.coef if self.placement == "reward" else 0.0

    @property
    def loss_coef(self) -> float:
        """β applied to the KL term of the loss (0 when the penalty sits in the reward)."""
        return self.coef if self.placement == "loss" else 0.0

    def update(self, kl: float) -> None:
        """Adapt β to the KL measured at this update (no-op when β is fixed)."""
        if self.target is not None:
            self.coef = adapt_coef(self.coef, kl, self.target, self.rate)
