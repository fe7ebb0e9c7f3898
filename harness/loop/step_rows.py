"""The metrics row of one update: budget counters, reward, KL, dynamic sampling, reward range.

Every update writes one such row to metrics.jsonl, with the same keys for every algorithm
(an algorithm's own statistics follow them, namespaced, e.g. `ppo/clipfrac`).
"""

from typing import Any

from torch import Tensor

from harness.api.task import Reward, out_of_range
from harness.loop.budget import Spent


def counters(spent: Spent) -> dict[str, Any]:
    """The budget counters every train row starts with."""
    return {
        "kind": "train",
        "update": spent.updates,
        "samples_seen": spent.samples,
        "tokens_generated": spent.tokens,
        "baseline_samples": spent.baseline_samples,
        "forward_tokens": spent.forward_tokens,
        "backward_tokens": spent.backward_tokens,
        "seconds": round(spent.seconds, 3),
    }


def reward_stats(
    rewards: Tensor, parts: dict[str, list[float]], returns: Tensor
) -> dict[str, float]:
    """The task rewards (B,): mean, spread, each named part; and the KL-shaped returns (B,)."""
    return {
        "train/reward": rewards.mean().item(),
        "train/reward_std": rewards.std().item() if len(rewards) > 1 else 0.0,
        **{f"train/reward_{name}": sum(v) / len(v) for name, v in parts.items()},
        "train/return": returns.mean().item(),
    }


def kl_stats(
    kl_tokens: Tensor, kl_exact: Tensor, mask: Tensor, kl_coef: float | None, kl_step: float
) -> dict[str, float]:
    """The KL to the reference (the run's estimator, exact per token and per sequence), β, and
    the update's own step; kl_coef None on the reference path (no KL control). kl_tokens,
    kl_exact, mask: (B, T)."""
    masked = kl_exact * mask  # zero past each completion's end
    estimated = {} if kl_coef is None else {"train/kl": kl_tokens.sum(-1).mean().item()}
    return {
        **estimated,
        "train/kl_exact": (masked.sum() / mask.sum()).item(),
        "train/kl_exact_seq": masked.sum(-1).mean().item(),
        **({} if kl_coef is None else {"train/kl_coef": kl_coef}),
        "train/kl_step": kl_step,
    }


def dynamic_stats(enabled: bool, kept: int, drawn: int) -> dict[str, float]:
    """With dynamic sampling: the share of drawn prompts kept and the prompts drawn."""
    if not enabled:
        return {}
    return {"train/dynamic_kept_share": kept / drawn, "train/dynamic_prompts_drawn": float(drawn)}


def range_stats(reward: Reward, values: list[float]) -> dict[str, float]:
    """How many training rewards fell outside the reward's declared range (only when some did)."""
    outside = out_of_range(reward, values)
    return {"train/reward_out_of_range": float(outside)} if outside else {}
