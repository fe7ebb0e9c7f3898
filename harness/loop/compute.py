"""Compute spent, counted as token passes: a FLOP proxy that is the same for every algorithm.

Algorithms at one sample budget differ in compute: PPO takes `epochs` gradient passes per
rollout, TRPO runs forward passes per line-search trial and a backward per Fisher-vector
product. Counting happens on the networks themselves (a hook on the input embeddings), so no
algorithm reports its own cost: every token position that enters a network is one forward
token pass; every time a gradient reaches those positions' embeddings is one backward pass.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from torch import Tensor, nn

from harness.loop.budget import Spent


@contextmanager
def counting_passes(models: Sequence[nn.Module], spent: Spent) -> Iterator[None]:
    """Add the token passes of `models` inside the block to spent.forward/backward_tokens."""

    def on_forward(module: nn.Module, inputs: object, output: Tensor) -> None:
        del module, inputs
        positions = output.shape[:-1].numel()
        spent.forward_tokens += positions
        if output.requires_grad:
            output.register_hook(lambda grad: count_backward(positions))

    def count_backward(positions: int) -> None:
        spent.backward_tokens += positions

    handles = [model.get_input_embeddings().register_forward_hook(on_forward) for model in models]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
