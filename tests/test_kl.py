"""KL: exact full-vocabulary KL against torch, and the k1/k2/k3 sample estimators by hand."""

import math
from typing import get_args

import torch

from harness.api.choices import KLEstimator
from harness.rl.kl import ESTIMATORS, KLControl, adapt_coef, estimate_kl, exact_kl, k1, k2, k3


def test_exact_kl_matches_torch_distributions():
    torch.manual_seed(0)
    logits, ref_logits = torch.randn(3, 5, 11), torch.randn(3, 5, 11)
    expected = torch.distributions.kl_divergence(
        torch.distributions.Categorical(logits=logits),
        torch.distributions.Categorical(logits=ref_logits),
    )
    torch.testing.assert_close(exact_kl(logits, ref_logits), expected, atol=1e-6, rtol=0)


def test_exact_kl_with_temperature_is_kl_of_tempered_distributions():
    torch.manual_seed(1)
    logits, ref_logits = torch.randn(4, 7), torch.randn(4, 7)
    expected = torch.distributions.kl_divergence(
        torch.distributions.Categorical(logits=logits / 0.7),
        torch.distributions.Categorical(logits=ref_logits / 0.7),
    )
    torch.testing.assert_close(exact_kl(logits, ref_logits, 0.7), expected, atol=1e-6, rtol=0)


def test_exact_kl_is_zero_for_identical_logits():
    logits = torch.randn(2, 9)
    assert torch.equal(exact_kl(logits, logits), torch.zeros(2))


def test_sample_estimators_by_hand():
    # π(y) = 0.5, π_ref(y) = 0.25: log r = log(0.25/0.5) = −log 2.
    logp, ref = torch.tensor([math.log(0.5)]), torch.tensor([math.log(0.25)])
    log2 = math.log(2.0)
    assert abs(k1(logp, ref).item() - log2) < 1e-6
    assert abs(k2(logp, ref).item() - 0.5 * log2**2) < 1e-6
    assert abs(k3(logp, ref).item() - ((0.5 - 1) + log2)) < 1e-6


def test_sample_estimators_are_unbiased_on_a_known_pair():
    # E_{y~π}[k1] = E_{y~π}[k3] = KL(π‖π_ref) exactly when summed with the true probabilities.
    p = torch.tensor([0.2, 0.3, 0.5])
    q = torch.tensor([0.4, 0.4, 0.2])
    kl = (p * (p / q).log()).sum()
    assert abs((p * k1(p.log(), q.log())).sum().item() - kl.item()) < 1e-6
    assert abs((p * k3(p.log(), q.log())).sum().item() - kl.item()) < 1e-6


def test_k2_and_k3_on_a_known_pair():
    # E_π[k3] is exactly KL; E_π[k2] = ½ E_π[(log π/π_ref)²] by hand for a two-point pair.
    p, q = torch.tensor([0.5, 0.5]), torch.tensor([0.25, 0.75])
    log_ratio = (p / q).log()
    assert (
        abs((p * k2(p.log(), q.log())).sum().item() - (0.5 * p * log_ratio**2).sum().item()) < 1e-6
    )
    assert abs((p * k3(p.log(), q.log())).sum().item() - (p * log_ratio).sum().item()) < 1e-6
    torch.testing.assert_close(estimate_kl("k2", p.log(), q.log()), k2(p.log(), q.log()))


def test_estimator_table_covers_the_declared_choices():
    assert set(ESTIMATORS) == set(get_args(KLEstimator))


def test_adaptive_coefficient_follows_ziegler():
    # e = clip(KL/target − 1, ±0.2); β ← β(1 + 0.1·e).
    assert abs(adapt_coef(0.1, 3.0, 6.0, 0.1) - 0.1 * (1 - 0.1 * 0.2)) < 1e-9
    assert abs(adapt_coef(0.1, 6.6, 6.0, 0.1) - 0.1 * (1 + 0.1 * 0.1)) < 1e-9
    assert abs(adapt_coef(0.1, 60.0, 6.0, 0.1) - 0.1 * 1.02) < 1e-9


def test_kl_control_places_the_penalty_and_adapts_only_with_a_target():
    fixed = KLControl(0.1)
    fixed.update(100.0)
    assert (fixed.coef, fixed.reward_coef, fixed.loss_coef) == (0.1, 0.1, 0.0)
    adaptive = KLControl(0.1, placement="loss", target=6.0)
    adaptive.update(60.0)
    assert abs(adaptive.coef - 0.102) < 1e-9
    assert adaptive.reward_coef == 0.0 and adaptive.loss_coef == adaptive.coef
