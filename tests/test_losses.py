"""Shared loss reductions: every number and gradient is independent of memory chunking."""

import copy
from typing import get_args

import pytest
import torch

from baselines import ppo
from harness.api.algorithm import LossSettings, UpdateContext
from harness.api.batch import Batch
from harness.api.choices import LossAgg
from harness.rl.losses import accumulate_losses
from harness.rl.value import attach_value_head


def loss_batch(
    old_logprobs: torch.Tensor, advantages: torch.Tensor, completion_mask: torch.Tensor
) -> Batch:
    """A Batch with what the algorithms' losses read (B, T): one prompt per completion, no ids."""
    ids = torch.zeros(completion_mask.shape, dtype=torch.long)
    return Batch(
        prompt_ids=ids[:, :1], prompt_mask=torch.ones_like(ids[:, :1]), completion_ids=ids,
        completion_mask=completion_mask, old_logprobs=old_logprobs, ref_logprobs=old_logprobs,
        returns=torch.zeros(ids.shape[0]), advantages=advantages,
    )  # fmt: skip


@pytest.fixture
def gae_setup(tiny_policy):
    """A model with a random value head and a 4-prompt batch with unequal completion lengths."""
    from harness.loop.rollout import reference_scores, sample_rollout
    from tasks.summarization import summarization

    model = copy.deepcopy(tiny_policy.model).double()  # fp64: no summation-order noise
    torch.manual_seed(5)
    attach_value_head(model).linear.weight.data.normal_(0, 0.1)
    examples = summarization(max_source_words=30).examples("train")[:4]
    rollout = sample_rollout(tiny_policy, examples, 2, 8, 1.0, 256)
    old, ref, _ = reference_scores(tiny_policy, rollout, 1.0, 4)
    lengths = torch.tensor([8, 1, 3, 8, 2, 8, 5, 4])
    mask = (torch.arange(8)[None, :] < lengths[:, None]).float()
    batch = Batch(
        prompt_ids=rollout.prompt_ids, prompt_mask=rollout.prompt_mask,
        completion_ids=rollout.completion_ids, completion_mask=mask,
        old_logprobs=old + 0.3 * torch.randn_like(old), ref_logprobs=ref,
        returns=torch.randn(8), advantages=torch.randn(8), value_targets=torch.randn(8, 8) * mask,
    )  # fmt: skip
    return model, batch


def reduce(
    model, batch: Batch, micro_batch_prompts: int, loss_agg: str = "seq-mean-token-sum"
) -> tuple[dict, torch.Tensor]:
    """The stats and the flat gradient of PPO's loss + the shared value loss."""
    settings = LossSettings(
        temperature=1.0,
        micro_batch_prompts=micro_batch_prompts,
        value_coef=0.5,
        loss_agg=loss_agg,
        max_new_tokens=8,
    )
    model.zero_grad(set_to_none=True)
    stats = accumulate_losses(
        model,
        batch,
        UpdateContext(settings),
        lambda lp, mb: ppo.loss(lp, mb, ppo.Config(), settings),
    )
    grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    model.zero_grad(set_to_none=True)
    return stats, grads


@pytest.mark.parametrize("loss_agg", get_args(LossAgg))
def test_stats_and_gradients_do_not_depend_on_micro_batch_size(gae_setup, loss_agg):
    model, batch = gae_setup
    whole, whole_grad = reduce(model, batch, 4, loss_agg)
    assert {"loss/value", "value/explained_variance", "ppo/approx_kl", "ppo/clipfrac"} <= set(whole)
    assert whole["ppo/approx_kl"] > 0 and whole["loss/value"] > 0
    for size in (1, 2):
        stats, grad = reduce(model, batch, size, loss_agg)
        for key, value in whole.items():
            assert stats[key] == pytest.approx(value, abs=1e-6), (key, size)
        torch.testing.assert_close(grad, whole_grad, atol=1e-6, rtol=0)
