"""Advantage estimators against hand computations."""

import pytest
import torch

from harness.advantages import estimate, leave_one_out
from harness.errors import BenchError


def test_rloo_by_hand():
    # Two prompts, k = 3. Prompt 1: rewards 1, 2, 6 → baselines (2+6)/2, (1+6)/2, (1+2)/2.
    returns = torch.tensor([1.0, 2.0, 6.0, 0.0, 0.0, 3.0])
    expected = torch.tensor([1 - 4.0, 2 - 3.5, 6 - 1.5, 0 - 1.5, 0 - 1.5, 3 - 0.0])
    torch.testing.assert_close(leave_one_out(returns, 3), expected, atol=1e-6, rtol=0)


def test_rloo_equals_scaled_mean_centering():
    torch.manual_seed(0)
    returns, k = torch.randn(12), 4
    grouped = returns.view(-1, k)
    scaled = (k / (k - 1)) * (grouped - grouped.mean(-1, keepdim=True))
    torch.testing.assert_close(leave_one_out(returns, k), scaled.reshape(-1), atol=1e-6, rtol=0)


def test_batch_mean_and_none_by_hand():
    returns = torch.tensor([1.0, 3.0, 5.0, 7.0])
    torch.testing.assert_close(estimate("batch-mean", returns, 2), torch.tensor([-3.0, -1, 1, 3]))
    torch.testing.assert_close(estimate("none", returns, 2), returns)


def test_rloo_needs_two_samples():
    with pytest.raises(ValueError, match="samples_per_prompt >= 2"):
        leave_one_out(torch.zeros(4), 1)


def test_unknown_estimator_names_choices():
    with pytest.raises(BenchError, match="did you mean 'rloo'.*batch-mean, none, rloo"):
        estimate("rlo", torch.zeros(2), 2)
