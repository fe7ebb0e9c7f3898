"""Advantage estimators against hand computations."""

from typing import get_args

import pytest
import torch

from harness.api.choices import Advantage
from harness.rl.advantages import (
    ESTIMATORS,
    SEQUENCE_ESTIMATORS,
    Estimator,
    estimate,
    gae,
    leave_one_out,
    running_mean,
    token_rewards,
)


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


def test_estimator_table_covers_the_declared_choices():
    assert set(ESTIMATORS) == set(get_args(Advantage))
    assert set(SEQUENCE_ESTIMATORS) < set(ESTIMATORS)


def test_ema_baseline_by_hand():
    # First update: no history → b = own mean 2; then b ← 0.5·2 + 0.5·2 = 2.
    first, b = running_mean(torch.tensor([1.0, 3.0]), None, 0.5)
    torch.testing.assert_close(first, torch.tensor([-1.0, 1.0]))
    assert b == 2.0
    # Second update uses b = 2 from the past, then b ← 0.5·2 + 0.5·6 = 4.
    second, b = running_mean(torch.tensor([5.0, 7.0]), b, 0.5)
    torch.testing.assert_close(second, torch.tensor([3.0, 5.0]))
    assert b == 4.0


def test_estimator_keeps_the_ema_state_between_updates():
    estimator = Estimator("ema", 2, ema_decay=0.5)
    mask = torch.ones(2, 1)
    estimator(torch.tensor([[1.0], [3.0]]), mask, None)
    advantages, targets = estimator(torch.tensor([[5.0], [7.0]]), mask, None)
    torch.testing.assert_close(advantages, torch.tensor([3.0, 5.0]))
    assert targets is None and estimator.ema_baseline == 4.0


def test_token_rewards_put_the_reward_on_the_last_token():
    kl = torch.tensor([[0.2, 0.4, 9.0], [1.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    shaped = token_rewards(torch.tensor([1.0, 2.0]), kl, mask, 0.5)
    expected = torch.tensor([[-0.1, -0.2 + 1.0, 0.0], [-0.5, 0.0, 2.0]])
    torch.testing.assert_close(shaped, expected, atol=1e-6, rtol=0)


def test_gae_by_hand():
    # One sequence of 3 tokens (then padding): r = (0, 0, 1), V = (0.5, 0.2, 0.4), γ = 0.9, λ = 0.8.
    rewards = torch.tensor([[0.0, 0.0, 1.0, 0.0]])
    values = torch.tensor([[0.5, 0.2, 0.4, 7.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    d2 = 1.0 + 0.9 * 0.0 - 0.4  # V after the last token is 0
    d1 = 0.0 + 0.9 * 0.4 - 0.2
    d0 = 0.0 + 0.9 * 0.2 - 0.5
    a2 = d2
    a1 = d1 + 0.72 * a2
    a0 = d0 + 0.72 * a1
    advantages, targets = gae(rewards, values, mask, 0.9, 0.8)
    torch.testing.assert_close(advantages, torch.tensor([[a0, a1, a2, 0.0]]), atol=1e-6, rtol=0)
    expected_targets = torch.tensor([[a0 + 0.5, a1 + 0.2, a2 + 0.4, 0.0]])
    torch.testing.assert_close(targets, expected_targets, atol=1e-6, rtol=0)


def test_gae_with_lambda_one_and_zero_values_is_the_return_to_go():
    rewards = torch.tensor([[-0.1, -0.2, 1.0]])
    advantages, _ = gae(rewards, torch.zeros(1, 3), torch.ones(1, 3), 1.0, 1.0)
    torch.testing.assert_close(advantages, torch.tensor([[0.7, 0.8, 1.0]]), atol=1e-6, rtol=0)


def test_sequence_estimators_see_the_summed_token_rewards():
    rewards = torch.tensor([[1.0, 2.0], [3.0, 0.0], [0.0, 0.0], [5.0, 1.0]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    advantages, targets = Estimator("rloo", 2)(rewards, mask, None)
    torch.testing.assert_close(advantages, torch.tensor([0.0, 0.0, -6.0, 6.0]))
    assert targets is None


def test_group_norm_and_group_mean_by_hand():
    # Two prompts, k = 3. Group 1: rewards 1, 2, 6 → mean 3, sample std √((4 + 1 + 9) / 2) = √7.
    # Group 2: 0, 0, 3 → mean 1, sample std √((1 + 1 + 4) / 2) = √3.
    returns = torch.tensor([1.0, 2.0, 6.0, 0.0, 0.0, 3.0])
    centred = torch.tensor([-2.0, -1.0, 3.0, -1.0, -1.0, 2.0])
    std = torch.tensor([7.0**0.5] * 3 + [3.0**0.5] * 3)
    torch.testing.assert_close(estimate("group-mean", returns, 3), centred, atol=1e-6, rtol=0)
    expected = centred / (std + 1e-4)
    torch.testing.assert_close(estimate("group-norm", returns, 3), expected, atol=1e-6, rtol=0)


def test_group_norm_of_an_all_equal_group_is_zero():
    advantages = estimate("group-norm", torch.tensor([0.5, 0.5, 1.0, 3.0]), 2)
    assert advantages[:2].tolist() == [0.0, 0.0] and advantages[2] < 0 < advantages[3]


def test_remax_subtracts_the_greedy_reward_of_the_same_prompt():
    rewards = torch.tensor([[1.0], [2.0], [6.0], [0.0], [0.0], [3.0]])
    estimator = Estimator("remax", 3)
    advantages, _ = estimator(rewards, torch.ones(6, 1), None, torch.tensor([2.0, 1.0]))
    torch.testing.assert_close(advantages, torch.tensor([-1.0, 0.0, 4.0, -1.0, -1.0, 2.0]))
    assert estimator.needs_greedy and not Estimator("rloo", 3).needs_greedy


# Two completions of one prompt: −β·kl per token and the task reward on the last token.
SHAPED = torch.tensor([[-0.1, -0.2, 1.0], [-0.3, 2.0, 0.0]])
MASK = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])


def whitened_by_hand(values: list[float]) -> list[float]:
    """(x − mean) / (population std + 1e-8) over the listed (unmasked) token values."""
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    return [(v - mean) / (std + 1e-8) for v in values]


def test_batch_whiten_by_hand():
    # Returns-to-go: (0.7, 0.8, 1.0) and (1.7, 2.0); whitened over the 5 real tokens.
    a = whitened_by_hand([0.7, 0.8, 1.0, 1.7, 2.0])
    expected = torch.tensor([[a[0], a[1], a[2]], [a[3], a[4], 0.0]])
    advantages, targets = Estimator("batch-whiten", 2)(SHAPED, MASK)
    torch.testing.assert_close(advantages, expected, atol=1e-6, rtol=0)
    assert targets is None


def test_group_batch_whiten_by_hand():
    # Sequence returns 0.7 and 1.7, group mean 1.2, subtracted at each last token:
    # rewards (−0.1, −0.2, −0.2) and (−0.3, 0.8) → returns-to-go (−0.5, −0.4, −0.2), (0.5, 0.8).
    a = whitened_by_hand([-0.5, -0.4, -0.2, 0.5, 0.8])
    expected = torch.tensor([[a[0], a[1], a[2]], [a[3], a[4], 0.0]])
    advantages, _ = Estimator("group-batch-whiten", 2)(SHAPED, MASK)
    torch.testing.assert_close(advantages, expected, atol=1e-6, rtol=0)
