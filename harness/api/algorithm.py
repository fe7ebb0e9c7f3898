"""What an algorithm is: a frozen Config type, its loss, and the two functions the runner calls.

The runner builds `LossSettings` once per run from the shared rollout config and hands every
update an `UpdateContext` with them and this update's KL coefficient (adaptive β changes it).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from torch import Tensor
from transformers import PreTrainedModel

from harness.api.batch import Batch
from harness.api.choices import KLEstimator, LossAgg


@dataclass(frozen=True)
class LossSettings:
    """Run settings every algorithm's loss shares; the same for all algorithms of a comparison.

    temperature: the sampling temperature (log-probs use the same tempered distribution).
    micro_batch_prompts: prompts per forward/backward chunk (memory only, same gradient).
    kl_estimator: the sample estimator of the KL term when the penalty sits in the loss.
    value_coef: weight of the value loss added to gradient-based losses with gae.
    loss_agg: how per-token terms reduce to the loss (harness.rl.losses.aggregate).
    max_new_tokens: the generation limit (seq-mean-token-sum-norm divides by it).
    """

    temperature: float
    micro_batch_prompts: int
    kl_estimator: KLEstimator = "k1"
    value_coef: float = 0.0
    loss_agg: LossAgg = "seq-mean-token-sum"
    max_new_tokens: int = 1


@dataclass(frozen=True)
class UpdateContext:
    """What one update needs beyond its batch: the run's settings and this update's KL weight.

    kl_loss_coef is β of the KL term in the loss (0 when the penalty sits in the reward).
    """

    settings: LossSettings
    kl_loss_coef: float = 0.0


def no_precision_note(config: Any, precision: str) -> str | None:
    """An algorithm that no precision defeats: no warning."""
    return None


@dataclass(frozen=True)
class Algorithm:
    """An RL update rule.

    `Config(**options)` builds its frozen settings (raising BenchError on a bad value);
    `init(model, config)` builds its state (optimizer, ...); `update(model, batch, config, state,
    context)` takes one step and returns a flat dict of namespaced statistics (e.g.
    `loss/policy`), written to metrics.jsonl next to the runner's own. `loss(logprobs, batch,
    config, settings)` is the algorithm's one pure loss, the one `update` follows: it returns
    the scalar and a dict of statistics that are means over the batch's tokens (`{}` when none).
    The cross-algorithm tests compare its gradients on a whole batch at θ = θ_old (all equal
    REINFORCE's there, for every `settings.loss_agg`). The state `init` returns is None or has
    `state_dict()` and `load_state_dict()` (an optimizer does), so checkpoints can save it.
    """

    name: str
    Config: type
    init: Callable[[PreTrainedModel, Any], Any]
    update: Callable[[PreTrainedModel, Batch, Any, Any, UpdateContext], dict[str, float]]
    loss: Callable[[Tensor, Batch, Any, LossSettings], tuple[Tensor, dict[str, Tensor]]]
    preset: Mapping[str, Any] = field(default_factory=dict)
    """a preset's parts: `rollout.*` and `algo.*` values set before the user's `-o` (which win)"""
    paper: str = ""
    """where a preset's parts come from"""
    precision_note: Callable[[Any, str], str | None] = no_precision_note
    """a console warning for settings that `precision` (fp32 | bf16) defeats, or None: PPO's clip
    narrower than bf16's rounding of log-probs (`baselines/ppo.py`)"""
    trains_on: Literal["samples", "references"] = "samples"
    """what `update` learns from: sampled completions with their advantages (every RL
    algorithm), or the train references as completions, no sampling (`supervised`; its batch
    carries zero advantages and returns, and the gradient identity at θ_old does not apply)"""
