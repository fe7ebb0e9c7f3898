"""What an algorithm is: a frozen Config type and the two functions the runner calls."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transformers import PreTrainedModel

from harness.api.batch import Batch


@dataclass(frozen=True)
class Algorithm:
    """An RL update rule. `init` builds its state (optimizer, ...); `update` takes one step.

    `update(model, batch, config, state)` returns a flat dict of namespaced statistics
    (e.g. `loss/policy`), written to metrics.jsonl next to the runner's own.
    """

    name: str
    Config: type
    init: Callable[[PreTrainedModel, Any], Any]
    update: Callable[[PreTrainedModel, Batch, Any, Any], dict[str, float]]
