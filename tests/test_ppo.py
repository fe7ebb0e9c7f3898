"""PPO: the clipped loss and its gradient by hand, inside and outside the clip range."""

import math

import torch
from test_losses import loss_batch

from baselines import ppo
from harness.api.algorithm import LossSettings

CONFIG, SETTINGS = ppo.Config(), LossSettings(temperature=1.0, micro_batch_prompts=1)


def test_loss_and_gradient_inside_the_clip_range():
    # One token, ratio e^0.1 ≈ 1.105 < 1.2: unclipped, loss = −r·A, d/dlogπ = −r·A.
    logprobs = torch.tensor([[0.1]], requires_grad=True)
    old, mask = torch.zeros(1, 1), torch.ones(1, 1)
    batch = loss_batch(old, torch.tensor([2.0]), mask)
    loss, stats = ppo.loss(logprobs, batch, CONFIG, SETTINGS)
    ratio = math.exp(0.1)
    assert abs(loss.item() + 2.0 * ratio) < 1e-6
    loss.backward()
    assert abs(logprobs.grad.item() + 2.0 * ratio) < 1e-6
    assert stats["ppo/clipfrac"].item() == 0.0
    assert abs(stats["ppo/approx_kl"].item() - ((ratio - 1) - 0.1)) < 1e-6


def test_loss_and_gradient_outside_the_clip_range():
    # Token 1: r = e^0.5 > 1.2 with A > 0 → clipped: value 1.2·A, zero gradient.
    # Token 2: r = e^-0.5 < 0.8 with A > 0 → min picks r·A (unclipped, pessimistic): grad −r·A/1.
    # Sequence 2 (A < 0), r = e^0.5 > 1.2 → min(r·A, 1.2·A) = r·A: unclipped gradient.
    logprobs = torch.tensor([[0.5, -0.5], [0.5, 0.0]], requires_grad=True)
    old = torch.zeros(2, 2)
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    adv = torch.tensor([1.0, -3.0])
    loss, stats = ppo.loss(logprobs, loss_batch(old, adv, mask), CONFIG, SETTINGS)
    up, down = math.exp(0.5), math.exp(-0.5)
    expected = -((1.2 * 1.0 + down * 1.0) + up * -3.0) / 2
    assert abs(loss.item() - expected) < 1e-6
    loss.backward()
    grad = torch.tensor([[0.0, -down * 1.0], [-up * -3.0, 0.0]]) / 2
    torch.testing.assert_close(logprobs.grad, grad, atol=1e-6, rtol=0)
    assert abs(stats["ppo/clipfrac"].item() - 1.0) < 1e-6  # all 3 real tokens outside [0.8, 1.2]


def test_negative_advantage_clips_below():
    # r = e^-0.5 < 0.8 with A < 0 → min(r·A, 0.8·A) = 0.8·A: clipped, zero gradient.
    logprobs = torch.tensor([[-0.5]], requires_grad=True)
    batch = loss_batch(torch.zeros(1, 1), torch.tensor([-1.0]), torch.ones(1, 1))
    loss, _ = ppo.loss(logprobs, batch, CONFIG, SETTINGS)
    assert abs(loss.item() - 0.8) < 1e-6
    loss.backward()
    assert logprobs.grad.item() == 0.0


def test_token_level_advantages_and_masked_tail():
    # (B, T) advantages; a huge log-ratio after the end must not turn into inf·0 = nan.
    logprobs = torch.tensor([[0.0, 80.0]], requires_grad=True)
    adv = torch.tensor([[0.5, 7.0]])
    batch = loss_batch(torch.zeros(1, 2), adv, torch.tensor([[1.0, 0.0]]))
    loss, _ = ppo.loss(logprobs, batch, CONFIG, SETTINGS)
    assert abs(loss.item() + 0.5) < 1e-6
    loss.backward()
    torch.testing.assert_close(logprobs.grad, torch.tensor([[-0.5, 0.0]]), atol=1e-6, rtol=0)
