"""The optimizer and the clipped gradient step every gradient-based algorithm shares.

One code path, so two algorithms compared under the same learning rate and clipping differ
only in their losses, never in how the step is taken.
"""

import torch
from transformers import PreTrainedModel

from harness.rl.guards import check_finite


def adam(model: PreTrainedModel, lr: float) -> torch.optim.Optimizer:
    """Adam over the trainable parameters (with gae, the value head's too)."""
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)


def clipped_step(
    model: PreTrainedModel, optimizer: torch.optim.Optimizer, max_grad_norm: float
) -> float:
    """Clip the global gradient norm to `max_grad_norm` (≤ 0: no clipping), step; the norm.

    A NaN or infinite gradient norm (from a non-finite loss or gradient) raises NonFinite before
    the step, so the weights and the optimizer's moments stay as they were.
    """
    params = [p for p in model.parameters() if p.grad is not None]
    limit = max_grad_norm if max_grad_norm > 0 else float("inf")
    norm = torch.nn.utils.clip_grad_norm_(params, limit)
    check_finite("grad_norm", float(norm))
    optimizer.step()
    return float(norm)
