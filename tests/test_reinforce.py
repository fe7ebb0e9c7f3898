"""REINFORCE: the loss and its gradient by hand; micro-batching leaves the gradient unchanged."""

import torch
from test_losses import loss_batch

from baselines import reinforce
from harness.api.algorithm import LossSettings, UpdateContext
from harness.api.batch import Batch
from harness.rl.losses import accumulate_losses

CONFIG, SETTINGS = reinforce.Config(), LossSettings(temperature=1.0, micro_batch_prompts=1)


def test_loss_value_and_gradient_by_hand():
    # B = 2, T = 3; the second sequence ended after 2 tokens.
    logprobs = torch.tensor([[-1.0, -2.0, -0.5], [-0.3, -0.7, -9.0]], requires_grad=True)
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    advantages = torch.tensor([0.5, -2.0])
    batch = loss_batch(torch.zeros(2, 3), advantages, mask)
    loss, stats = reinforce.loss(logprobs, batch, CONFIG, SETTINGS)
    assert stats == {}
    # −mean_i A_i Σ_t log π = −(0.5·(−3.5) + (−2)·(−1.0)) / 2 = −0.125
    assert abs(loss.item() - (-0.125)) < 1e-6
    loss.backward()
    expected = -torch.tensor([[0.5, 0.5, 0.5], [-2.0, -2.0, 0.0]]) / 2
    torch.testing.assert_close(logprobs.grad, expected, atol=1e-6, rtol=0)


def test_advantages_are_not_differentiated():
    logprobs = torch.zeros(1, 2, requires_grad=True)
    advantages = torch.ones(1, requires_grad=True)
    batch = loss_batch(torch.zeros(1, 2), advantages, torch.ones(1, 2))
    reinforce.loss(logprobs, batch, CONFIG, SETTINGS)[0].backward()
    assert advantages.grad is None


def make_batch(policy) -> Batch:
    from harness.loop.rollout import reference_scores, sample_rollout
    from tasks.summarization import summarization

    torch.manual_seed(3)
    task_examples = summarization(max_source_words=30).examples("train")[:4]
    rollout = sample_rollout(policy, task_examples, 2, 8, 1.0, 256)
    old, ref, _ = reference_scores(policy, rollout, 1.0, 4)
    returns = torch.arange(8, dtype=torch.float32)
    return Batch(
        prompt_ids=rollout.prompt_ids,
        prompt_mask=rollout.prompt_mask,
        completion_ids=rollout.completion_ids,
        completion_mask=rollout.completion_mask,
        old_logprobs=old,
        ref_logprobs=ref,
        returns=returns,
        advantages=returns - 3.5,
    )


def test_micro_batches_accumulate_the_full_batch_gradient(tiny_policy):
    model = tiny_policy.model

    def gradient(micro: int) -> tuple[float, torch.Tensor]:
        model.zero_grad(set_to_none=True)
        batch = make_batch(tiny_policy)
        context = UpdateContext(LossSettings(temperature=1.0, micro_batch_prompts=micro))
        stats = accumulate_losses(
            model, batch, context, lambda lp, mb: reinforce.loss(lp, mb, CONFIG, context.settings)
        )
        grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        return stats["loss/policy"], grads

    full_loss, full = gradient(4)
    split_loss, split = gradient(1)
    model.zero_grad(set_to_none=True)
    assert abs(full_loss - split_loss) < 1e-5
    torch.testing.assert_close(split, full, atol=1e-5, rtol=1e-4)
