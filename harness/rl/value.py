"""A value head on the policy trunk, for the `gae` advantage estimator.

The head is a linear map from the trunk's last hidden state (after the final norm) at each
completion position to V(s_t), the value of the state before token t. It is registered as the
submodule `value_head` of the policy model, so optimizers built over `model.parameters()` train
it, and `policy_parameters` leaves it out (TRPO's trust region is over the policy alone).
"""

import torch
from torch import Tensor, nn
from transformers import PreTrainedModel

from harness.api.batch import prompt_chunks
from harness.rl.logprobs import completion_outputs

HEAD_NAME = "value_head"


class ValueHead(nn.Module):
    """V(s_t) = w·h_t + b from hidden states (…, H) → (…,)."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden_size, 1)
        # Zero init: V ≡ 0 at the start, so GAE starts as plain discounted returns-to-go.
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: Tensor) -> Tensor:
        """Values (…,) from hidden states (…, H), in fp32."""
        return self.linear(hidden.float()).squeeze(-1)


def attach_value_head(model: PreTrainedModel) -> ValueHead:
    """Register a fresh value head on `model` (once) and return it."""
    if value_head(model) is None:
        head = ValueHead(model.config.hidden_size).to(model.device)
        model.add_module(HEAD_NAME, head)
    return value_head(model)


def value_head(model: PreTrainedModel) -> ValueHead | None:
    """The model's value head, or None when the run does not use one."""
    head = getattr(model, HEAD_NAME, None)
    return head if isinstance(head, ValueHead) else None


def policy_parameters(model: PreTrainedModel) -> list[nn.Parameter]:
    """Trainable parameters that shape π (the value head excluded)."""
    return [
        p
        for name, p in model.named_parameters()
        if p.requires_grad and not name.startswith(HEAD_NAME + ".")
    ]


@torch.no_grad()
def predict_values(
    model: PreTrainedModel,
    prompt_ids: Tensor,
    prompt_mask: Tensor,
    completion_ids: Tensor,
    completion_mask: Tensor,
    micro_batch_prompts: int,
) -> Tensor | None:
    """V(s_t) (B, T) at the completion positions, or None without a value head.

    prompts (P, L), completions (B, T) with B = P·k; computed in chunks of prompts.
    """
    head = value_head(model)
    if head is None:
        return None
    k = completion_ids.shape[0] // prompt_ids.shape[0]
    parts = []
    for prompts, rows in prompt_chunks(prompt_ids.shape[0], k, micro_batch_prompts):
        _, hidden = completion_outputs(
            model,
            prompt_ids[prompts],
            prompt_mask[prompts],
            completion_ids[rows],
            completion_mask[rows],
            with_hidden=True,
        )
        parts.append(head(hidden))
    return torch.cat(parts) * completion_mask


def value_loss(values: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """½ mean over completion tokens of (V(s_t) − V_t^target)²: values, targets, mask (B, T)."""
    return 0.5 * (((values - targets.detach()) ** 2) * mask).sum() / mask.sum().clamp(min=1.0)


def explained_variance(values: Tensor, targets: Tensor, mask: Tensor) -> float:
    """1 − Var[target − V] / Var[target] over completion tokens (1: perfect, ≤ 0: useless)."""
    picked = mask.bool()
    target = targets[picked]
    variance = target.var(unbiased=False)
    if variance.item() == 0.0:
        return 0.0
    return 1.0 - ((target - values[picked]).var(unbiased=False) / variance).item()


@torch.no_grad()
def regress(head: ValueHead, hidden: Tensor, targets: Tensor, ridge: float) -> None:
    """Least-squares fit of the head on fixed features: hidden (N, H), targets (N,).

    Solves (XᵀX + ridge·N·I) w = Xᵀy with X = [hidden, 1]; the bias is not regularised.
    """
    features = torch.cat([hidden.float(), torch.ones_like(hidden[:, :1]).float()], dim=1)
    penalty = ridge * features.shape[0] * torch.eye(features.shape[1], dtype=features.dtype)
    penalty[-1, -1] = 0.0
    gram = features.T @ features + penalty.to(features.device)
    solution = torch.linalg.solve(gram, features.T @ targets.float())
    head.linear.weight.copy_(solution[:-1][None, :])
    head.linear.bias.copy_(solution[-1:])
