"""What a task is: examples with references, a prompt format, a reward and metrics.

Users implement `Task` and `Reward` (Protocols); `TaskSpec` is the ready-made dataclass that
satisfies `Task`, so a plugin is usually one function returning a `TaskSpec`.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from harness.api.choices import SPLITS, Split
from harness.api.errors import BenchError


@dataclass(frozen=True)
class Example:
    """One prompt with its reference outputs; `id` is stable across runs (used to pair evals).

    `source` is the text the output is written from (an abstract, a sentence to translate, a
    chat); the evaluation measures copying against it. Empty: the prompt itself.
    """

    id: str
    prompt: str
    references: tuple[str, ...]
    source: str = ""

    @property
    def source_text(self) -> str:
        """What copying is measured against: `source`, or the prompt when there is none."""
        return self.source or self.prompt


@dataclass(frozen=True)
class Generation:
    """A task's generation defaults (the run's rollout config may override them)."""

    max_new_tokens: int = 32


class Reward(Protocol):
    """Scores whole completions; one float per completion, higher is better.

    A reward made of parts may also have `score(examples, completions) -> (totals, {name:
    values})`; the runner and the evaluation then log each part next to the total. A reward may
    declare `range = (low, high)` (the built-in ones do): training then counts the values outside
    it (`train/reward_out_of_range`) and the console reports the first such update once.
    """

    name: str

    def __call__(self, examples: Sequence[Example], completions: Sequence[str]) -> list[float]: ...


def score_with_parts(
    reward: Reward, examples: Sequence[Example], completions: Sequence[str]
) -> tuple[list[float], dict[str, list[float]]]:
    """A reward's values and its named parts when it reports them (else no parts)."""
    score = getattr(reward, "score", None)
    if callable(score):
        totals, parts = score(examples, completions)
        return list(totals), parts
    return list(reward(examples, completions)), {}


class Task(Protocol):
    """A versioned task: data splits, reward, metrics and generation defaults.

    A task may also set `extractive = True` (its outputs condense the source, as summaries do):
    its evaluations then add Grusky et al.'s coverage, density and compression, and the tool
    writes a `lead-n` anchor row (the first n source words). A chat task may set `echo = True`:
    the tool then writes an `echo` anchor row (the source's last turn as the reply).
    """

    name: str
    version: str
    description: str
    reward: Reward
    generation: Generation

    def examples(self, split: Split) -> list[Example]: ...

    def metrics(
        self, examples: Sequence[Example], completions: Sequence[str]
    ) -> dict[str, float]: ...


@dataclass(frozen=True)
class TaskSpec:
    """A Task built from plain parts: a split loader, a reward and a metrics function.

    `examples` checks the split name and keeps the first `train_size` training examples (0: all),
    so a split loader only reads data.
    """

    name: str
    version: str
    description: str
    load_split: Callable[[str], list[Example]]
    reward: Reward
    score_metrics: Callable[[Sequence[Example], Sequence[str]], dict[str, float]]
    generation: Generation = Generation()
    train_size: int = 0
    extractive: bool = False
    echo: bool = False

    def examples(self, split: Split) -> list[Example]:
        """The examples of one split (train, val or test)."""
        if split not in SPLITS:
            raise BenchError(f"unknown split '{split}' (splits: {', '.join(SPLITS)})")
        examples = self.load_split(split)
        return examples[: self.train_size] if split == "train" and self.train_size > 0 else examples

    def metrics(self, examples: Sequence[Example], completions: Sequence[str]) -> dict[str, float]:
        """Task metrics over a set of completions, keyed without the `eval/` prefix."""
        return self.score_metrics(examples, completions)


def out_of_range(reward: Reward, values: Sequence[float]) -> int:
    """How many values fall outside the reward's declared `range` (0 when it declares none)."""
    bounds = getattr(reward, "range", None)
    if bounds is None:
        return 0
    low, high = bounds
    return sum(1 for value in values if not low <= value <= high)
