"""The shared-prompt forward equals a plain full forward and `generate`'s own logits."""

import torch

from harness.loop.rollout import completion_mask, reference_scores, sample_rollout
from harness.rl.logprobs import completion_logits, gather_logprobs


def shared_prompt_logprobs(model, rollout):
    logits = completion_logits(
        model,
        rollout.prompt_ids,
        rollout.prompt_mask,
        rollout.completion_ids,
        rollout.completion_mask,
    )
    return gather_logprobs(logits, rollout.completion_ids)


def full_forward_logprobs(model, rollout):
    k = rollout.samples_per_prompt
    ids = torch.cat([rollout.prompt_ids.repeat_interleave(k, 0), rollout.completion_ids], 1)
    mask = torch.cat(
        [rollout.prompt_mask.repeat_interleave(k, 0), rollout.completion_mask.long()], 1
    )
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
    start = rollout.prompt_ids.shape[1]
    return gather_logprobs(logits[:, start - 1 : -1], rollout.completion_ids)


def test_completion_mask_by_hand():
    ids = torch.tensor([[5, 7, 2, 2, 2], [5, 2, 9, 2, 4], [1, 1, 1, 1, 1]])
    expected = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 1, 1]]).float()
    assert torch.equal(completion_mask(ids, eos_token_id=2), expected)


def test_shared_prompt_logprobs_equal_full_forward_and_generate(tiny_policy, summarization_task):
    torch.manual_seed(0)
    examples = summarization_task.examples("train")[:3]  # prompts of different lengths
    rollout = sample_rollout(tiny_policy, examples, 3, 10, 1.0, 256)
    assert rollout.completion_ids.shape[0] == 9
    model = tiny_policy.model
    with torch.no_grad():
        shared = shared_prompt_logprobs(model, rollout)
        full = full_forward_logprobs(model, rollout)
    generated, ref, kl = reference_scores(tiny_policy, rollout, 1.0, 2)
    mask = rollout.completion_mask
    assert ((shared - full).abs() * mask).max() < 1e-4
    assert ((generated - full).abs() * mask).max() < 1e-4
    assert ((ref - full).abs() * mask).max() < 1e-4  # same weights → same log-probs
    assert (kl * mask).abs().max() < 1e-5


def test_shared_prompt_gradient_equals_full_forward_gradient(tiny_policy, summarization_task):
    torch.manual_seed(1)
    rollout = sample_rollout(tiny_policy, summarization_task.examples("train")[:2], 2, 8, 1.0, 256)
    model = tiny_policy.model
    weights = torch.randn(rollout.completion_ids.shape) * rollout.completion_mask

    def gradient(logprobs_fn):
        model.zero_grad(set_to_none=True)
        (logprobs_fn() * weights).sum().backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()])

    shared = gradient(lambda: shared_prompt_logprobs(model, rollout))
    full = gradient(lambda: full_forward_logprobs(model, rollout))
    model.zero_grad(set_to_none=True)
    torch.testing.assert_close(shared, full, atol=1e-5, rtol=1e-4)
