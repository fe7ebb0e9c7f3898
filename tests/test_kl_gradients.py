"""What each KL estimator × placement differentiates, by exact enumeration on a two-step policy.

π(y1) = softmax(a), π(y2 | y1) = softmax(b[y1]) over V = 3 tokens; every one of the 9 sequences
is enumerated, so expectations are exact and tolerances are 1e-9, not statistical.
"""

import pytest
import torch

from harness.api.choices import KL_GRADIENTS, KL_REFUSED
from harness.rl.kl import ESTIMATORS

V = 3


def toy() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """θ = (a, b) flat with grad, and the reference's (a_ref, b_ref)."""
    generator = torch.Generator().manual_seed(0)
    theta = torch.randn(V + V * V, dtype=torch.float64, generator=generator).requires_grad_()
    ref_a = torch.randn(V, dtype=torch.float64, generator=generator)
    ref_b = torch.randn(V, V, dtype=torch.float64, generator=generator)
    return theta, ref_a, ref_b


def step_logprobs(theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log π(y1) (V,) and log π(y2 | y1) (V, V)."""
    return torch.log_softmax(theta[:V], -1), torch.log_softmax(theta[V:].view(V, V), -1)


def sequences(theta, ref_a, ref_b):
    """(probability, per-token log π (2,), per-token log π_ref (2,)) of every sequence."""
    first, second = step_logprobs(theta)
    ref_first, ref_second = torch.log_softmax(ref_a, -1), torch.log_softmax(ref_b, -1)
    for y1 in range(V):
        for y2 in range(V):
            logprobs = torch.stack([first[y1], second[y1, y2]])
            ref = torch.stack([ref_first[y1], ref_second[y1, y2]])
            yield logprobs.sum().exp(), logprobs, ref


def gradient(theta: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    return torch.autograd.grad(value, theta, retain_graph=True)[0]


def in_reward(theta, ref_a, ref_b, name: str) -> torch.Tensor:
    """E[Σ_t k_t · ∇ log π(y)]: the estimator summed into the return, REINFORCE'd."""
    total = sum(
        p.detach() * ESTIMATORS[name](lp, ref).sum().detach() * lp.sum()
        for p, lp, ref in sequences(theta, ref_a, ref_b)
    )
    return gradient(theta, total)


def in_loss(theta, ref_a, ref_b, name: str) -> torch.Tensor:
    """E[∇ Σ_t k_t]: the estimator added to the loss, differentiated through log π only."""
    total = sum(
        p.detach() * ESTIMATORS[name](lp, ref).sum()
        for p, lp, ref in sequences(theta, ref_a, ref_b)
    )
    return gradient(theta, total)


def sequence_kl_gradient(theta, ref_a, ref_b) -> torch.Tensor:
    """∇ KL(π‖π_ref) over whole sequences."""
    total = sum(p * (lp.sum() - ref.sum()) for p, lp, ref in sequences(theta, ref_a, ref_b))
    return gradient(theta, total)


def per_token_kl_gradient(theta, ref_a, ref_b, reverse: bool) -> torch.Tensor:
    """Σ_t E_prefix[∇ KL_t(prefix)], the prefix distribution held fixed (visited prefixes)."""
    first, second = step_logprobs(theta)
    ref_first, ref_second = torch.log_softmax(ref_a, -1), torch.log_softmax(ref_b, -1)

    def kl(logp: torch.Tensor, logq: torch.Tensor) -> torch.Tensor:
        if reverse:  # KL(π_ref‖π)
            return (logq.exp() * (logq - logp)).sum(-1)
        return (logp.exp() * (logp - logq)).sum(-1)

    total = kl(first, ref_first) + (first.exp().detach() * kl(second, ref_second)).sum()
    return gradient(theta, total)


def test_the_allowed_and_refused_pairs_cover_every_pair_once():
    pairs = {(p, e) for p in ("reward", "loss") for e in ESTIMATORS}
    assert set(KL_GRADIENTS) | set(KL_REFUSED) == pairs
    assert not set(KL_GRADIENTS) & set(KL_REFUSED)


def test_k1_in_the_reward_is_the_sequence_kl_gradient():
    theta, ref_a, ref_b = toy()
    exact = sequence_kl_gradient(theta, ref_a, ref_b)
    assert exact.abs().max() > 1e-2
    torch.testing.assert_close(in_reward(theta, ref_a, ref_b, "k1"), exact, atol=1e-9, rtol=0)


@pytest.mark.parametrize("name", ["k2", "k3"])
def test_k2_and_k3_in_the_reward_are_biased(name):
    theta, ref_a, ref_b = toy()
    exact = sequence_kl_gradient(theta, ref_a, ref_b)
    assert (in_reward(theta, ref_a, ref_b, name) - exact).abs().max() > 1e-2


def test_k1_in_the_loss_has_zero_expected_gradient():
    theta, ref_a, ref_b = toy()
    zero = torch.zeros_like(theta)
    torch.testing.assert_close(in_loss(theta, ref_a, ref_b, "k1"), zero, atol=1e-9, rtol=0)


def test_k2_in_the_loss_is_the_per_token_kl_gradient_not_the_sequence_one():
    theta, ref_a, ref_b = toy()
    per_token = per_token_kl_gradient(theta, ref_a, ref_b, reverse=False)
    k2 = in_loss(theta, ref_a, ref_b, "k2")
    torch.testing.assert_close(k2, per_token, atol=1e-9, rtol=0)
    assert (k2 - sequence_kl_gradient(theta, ref_a, ref_b)).abs().max() > 1e-2


def test_k3_in_the_loss_is_the_per_token_reverse_kl_gradient():
    theta, ref_a, ref_b = toy()
    reverse = per_token_kl_gradient(theta, ref_a, ref_b, reverse=True)
    torch.testing.assert_close(in_loss(theta, ref_a, ref_b, "k3"), reverse, atol=1e-9, rtol=0)
