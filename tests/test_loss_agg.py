"""Loss aggregations against hand computations, and the sequence-level ratio (GSPO)."""

import math

import pytest
import torch
from test_losses import loss_batch

from baselines import ppo
from harness.api.algorithm import LossSettings
from harness.rl.losses import aggregate

# Two completions: 3 tokens and 1 token (then padding), generation limit 4.
VALUES = torch.tensor([[1.0, 2.0, 3.0], [4.0, 9.0, 9.0]])
MASK = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])


def settings(agg: str) -> LossSettings:
    return LossSettings(temperature=1.0, micro_batch_prompts=1, loss_agg=agg, max_new_tokens=4)


@pytest.mark.parametrize(
    ("agg", "expected"),
    [
        ("seq-mean-token-sum", (6.0 + 4.0) / 2),  # Σ_t per sequence, mean over sequences
        ("seq-mean-token-mean", (6.0 / 3 + 4.0 / 1) / 2),  # GRPO: token mean, then sequence mean
        ("token-mean", (6.0 + 4.0) / 4),  # DAPO: every token of the batch weighs the same
        ("seq-mean-token-sum-norm", (6.0 / 4 + 4.0 / 4) / 2),  # Dr. GRPO: ÷ the constant limit
    ],
)
def test_aggregations_by_hand(agg, expected):
    assert aggregate(VALUES, MASK, settings(agg)).item() == pytest.approx(expected, abs=1e-6)


def test_sequence_ratio_by_hand_with_asymmetric_clip():
    # Sequence 1: log-ratios 0.3, 0.0, −0.1 → s = exp(0.2/3); sequence 2: 0.5 → s = e^0.5 > 1.28.
    logprobs = torch.tensor([[0.3, 0.0, -0.1], [0.5, 0.0, 0.0]], requires_grad=True)
    adv = torch.tensor([1.0, 2.0])
    config = ppo.Config(ratio_level="sequence", clip_low=0.2, clip_high=0.28)
    batch = loss_batch(torch.zeros(2, 3), adv, MASK)
    loss, stats = ppo.loss(logprobs, batch, config, settings("seq-mean-token-mean"))
    s1 = math.exp(0.2 / 3)
    # GSPO's objective: mean over sequences of min(s A, clip(s) A); sequence 2 is clipped at 1.28.
    assert loss.item() == pytest.approx(-(s1 * 1.0 + 1.28 * 2.0) / 2, abs=1e-6)
    loss.backward()
    # d/dlogπ_t of −s1·A/2 = −s1·A/(2·3) at each token of sequence 1; sequence 2 has no gradient.
    expected = torch.tensor([[-s1 / 6] * 3, [0.0, 0.0, 0.0]])
    torch.testing.assert_close(logprobs.grad, expected, atol=1e-6, rtol=0)
    assert stats["ppo/clipfrac"].item() == pytest.approx(1 / 4, abs=1e-6)  # 1 of 4 tokens


def test_sequence_ratio_equals_token_ratio_when_all_token_ratios_agree():
    logprobs = torch.full((2, 3), 0.05) * MASK
    batch = loss_batch(torch.zeros(2, 3), torch.tensor([1.5, -0.5]), MASK)
    for agg in ("seq-mean-token-sum", "seq-mean-token-mean", "token-mean"):
        token = ppo.loss(logprobs, batch, ppo.Config(), settings(agg))[0]
        config = ppo.Config(ratio_level="sequence")
        sequence = ppo.loss(logprobs, batch, config, settings(agg))[0]
        assert sequence.item() == pytest.approx(token.item(), abs=1e-7)
