"""Budget accounting: what a run has spent, and whether it may take another update."""

from dataclasses import dataclass

from harness.config.run_config import BudgetConfig


@dataclass
class Spent:
    """Counters of one run; all are always recorded, whichever limits are set."""

    samples: int = 0
    tokens: int = 0
    updates: int = 0
    seconds: float = 0.0
    forward_tokens: int = 0
    """token positions run forward through a network while training (policy and reference)"""
    backward_tokens: int = 0
    """token positions back-propagated through the policy while training"""
    baseline_samples: int = 0
    """completions generated only as a baseline (remax's greedy ones), never trained on"""


def prompts_for_update(
    budget: BudgetConfig, spent: Spent, prompts_per_update: int, samples_per_prompt: int
) -> int:
    """Prompts the next update may draw without overshooting the sample budget (0: none)."""
    if budget.samples is None:
        return prompts_per_update
    remaining = budget.samples - spent.samples
    return max(0, min(prompts_per_update, remaining // samples_per_prompt))


def stop_reason(
    budget: BudgetConfig, spent: Spent, prompts_per_update: int, samples_per_prompt: int
) -> str | None:
    """The limit that is spent, or None while another update fits in every limit."""
    if budget.updates is not None and spent.updates >= budget.updates:
        return "updates"
    if prompts_for_update(budget, spent, prompts_per_update, samples_per_prompt) == 0:
        return "samples"
    if budget.tokens is not None and spent.tokens >= budget.tokens:
        return "tokens"
    if budget.seconds is not None and spent.seconds >= budget.seconds:
        return "seconds"
    return None
