"""A test task whose reward makes half of the prompts' groups all-equal (for dynamic sampling).

The prompts are real aclsum abstracts; the reward is 0.5 for every completion of a prompt whose
id has an even hash (an all-equal group, which dynamic sampling must drop) and the completion's
length in characters / 100 otherwise (almost always varied within a group).
"""

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from harness.api.task import Example, Generation, TaskSpec
from tasks.summarization import summarization


def constant_group(example: Example) -> bool:
    """True for the prompts whose completions all get the same reward."""
    return zlib.crc32(example.id.encode()) % 2 == 0


@dataclass(frozen=True)
class HalfConstant:
    """0.5 on 'constant' prompts, the completion's length / 100 on the others."""

    name: str = "half-constant"

    def __call__(self, examples: Sequence[Example], completions: Sequence[str]) -> list[float]:
        return [
            0.5 if constant_group(example) else len(text) / 100
            for example, text in zip(examples, completions, strict=True)
        ]


def equal_groups(max_source_words: int = 30, max_new_tokens: int = 8) -> TaskSpec:
    """The test task (see the module docstring)."""
    base = summarization(max_source_words=max_source_words)
    return TaskSpec(
        name="equal-groups",
        version="test-1",
        description="half of the prompts get one reward for every completion (test task)",
        load_split=base.load_split,
        reward=HalfConstant(),
        score_metrics=lambda examples, completions: {},
        generation=Generation(max_new_tokens=max_new_tokens),
    )
