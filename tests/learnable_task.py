"""A small task the tiny policy learns in seconds: write words taken from the source.

Prompts are real aclsum abstracts and the references their summaries (so the tiny
policy's warm start writes summary-like text), but the reward is ROUGE-1 precision of the
completion against the prompt's own source: how much of what the policy writes is supported by
the abstract, a crude extractiveness/faithfulness score. The warm-started tiny model invents
many words the abstract does not contain, so there is room to improve, and improving only
needs the policy to prefer tokens it can see, which a policy gradient finds within dozens of
updates. Used by the learning tests of every algorithm.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from rouge_score import rouge_scorer

from harness.api.task import Example, Generation, TaskSpec
from tasks.summarization import summarization


@dataclass(frozen=True)
class SourcePrecision:
    """ROUGE-1 precision of each completion against its prompt's source text."""

    name: str = "source-precision"

    def __call__(self, examples: Sequence[Example], completions: Sequence[str]) -> list[float]:
        scorer = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
        return [
            scorer.score(source(ex.prompt), text)["rouge1"].precision if text.strip() else 0.0
            for ex, text in zip(examples, completions, strict=True)
        ]


def source(prompt: str) -> str:
    """The abstract inside a summarization prompt."""
    return prompt.split("Abstract: ", 1)[1].rsplit("\n\n", 1)[0]


def extractive(max_source_words: int = 40, max_new_tokens: int = 12) -> TaskSpec:
    """The learnable test task (see the module docstring)."""
    base = summarization(max_source_words=max_source_words)
    reward = SourcePrecision()
    return TaskSpec(
        name="extractive",
        version="test-1",
        description="aclsum abstract → words supported by it (test task)",
        load_split=base.load_split,
        reward=reward,
        score_metrics=lambda examples, completions: {},
        generation=Generation(max_new_tokens=max_new_tokens),
    )
