"""KL divergence between the policy π and the reference π_ref: exact and sampled estimators.

The sample estimators follow Schulman, "Approximating KL Divergence" (2020), with
r = π_ref(y) / π(y) for a token y sampled from π: k1 = −log r, k2 = ½(log r)², k3 = (r − 1) − log r.
"""

import torch
from torch import Tensor


def exact_kl(logits: Tensor, ref_logits: Tensor, temperature: float = 1.0) -> Tensor:
    """KL(π‖π_ref) per position (…,) summed over the whole vocabulary, from logits (…, V)."""
    logp = torch.log_softmax(logits.float() / temperature, dim=-1)
    logq = torch.log_softmax(ref_logits.float() / temperature, dim=-1)
    return (logp.exp() * (logp - logq)).sum(-1)


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
