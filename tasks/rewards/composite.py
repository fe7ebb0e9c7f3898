"""Composite rewards: a weighted sum of named rewards, minus an optional length penalty.

`score` returns the total and every component, so the runner and the evaluation log each
component (`train/reward_<name>`, `eval/reward_<name>`) next to the total.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.api.errors import BenchError
from harness.api.task import Example, Reward


@dataclass(frozen=True)
class CompositeReward:
    """Σ weight·reward − length_penalty · max(0, words − max_words), per completion."""

    components: tuple[tuple[str, float, Reward], ...]
    length_penalty: float = 0.0
    max_words: int = 0

    @property
    def name(self) -> str:
        terms = [f"{weight:g}·{name}" for name, weight, _ in self.components]
        if self.length_penalty:
            terms.append(f"{self.length_penalty:g}·overlength({self.max_words})")
        return "composite(" + " + ".join(terms) + ")"

    def score(
        self, examples: Sequence[Example], completions: Sequence[str]
    ) -> tuple[list[float], dict[str, list[float]]]:
        """(total per completion, {component name: values}); the penalty is a component too."""
        parts = {name: list(reward(examples, completions)) for name, _, reward in self.components}
        totals = [0.0] * len(completions)
        for name, weight, _ in self.components:
            totals = [t + weight * v for t, v in zip(totals, parts[name], strict=True)]
        if self.length_penalty:
            over = [max(0, len(text.split()) - self.max_words) for text in completions]
            parts["length_penalty"] = [-self.length_penalty * o for o in over]
            totals = [t + p for t, p in zip(totals, parts["length_penalty"], strict=True)]
        return totals, parts

    def __call__(self, examples: Sequence[Example], completions: Sequence[str]) -> list[float]:
        return self.score(examples, completions)[0]


#: a weighted sum of named rewards, minus an optional length penalty
def composite(
    components: Mapping[str, tuple[float, Reward]], length_penalty: float = 0.0, max_words: int = 0
) -> CompositeReward:
    """A composite reward from {name: (weight, reward)}; fails on an empty or negative setup."""
    if not components:
        raise BenchError("a composite reward needs at least one component")
    if length_penalty < 0 or max_words < 0:
        raise BenchError(
            f"length_penalty and max_words must be ≥ 0 (got {length_penalty}, {max_words})"
        )
    parts = tuple((name, float(weight), reward) for name, (weight, reward) in components.items())
    return CompositeReward(parts, length_penalty, max_words)
