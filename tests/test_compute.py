"""Token passes are counted on the networks, forward and backward, whoever calls them."""

import torch

from harness.loop.budget import Spent
from harness.loop.compute import counting_passes


def test_forward_and_backward_token_passes_are_counted(tiny_policy):
    model, spent = tiny_policy.model, Spent()
    ids = torch.randint(0, 50, (2, 5))
    with counting_passes([model], spent):
        with torch.no_grad():
            model(input_ids=ids)
        assert (spent.forward_tokens, spent.backward_tokens) == (10, 0)  # 2 × 5 positions
        loss = model(input_ids=ids).logits.sum()
        loss.backward(retain_graph=True)
        assert (spent.forward_tokens, spent.backward_tokens) == (20, 10)
        loss.backward()  # a second backward through the same forward is counted again
        assert spent.backward_tokens == 20
    model(input_ids=ids)  # outside the block: not counted
    assert spent.forward_tokens == 20
    model.zero_grad(set_to_none=True)
