"""KL: exact full-vocabulary KL against torch, and the k1/k2/k3 sample estimators by hand."""

import math

import torch

from harness.kl import exact_kl, k1, k2, k3


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
