"""Lexical-overlap rewards computed with rouge-score and sacrebleu, never re-implemented."""

from collections.abc import Sequence
from dataclasses import dataclass

import sacrebleu
from rouge_score import rouge_scorer

from harness.api.errors import BenchError
from harness.api.task import Example

ROUGE_VARIANTS = ("rouge1", "rouge2", "rougeL", "rougeLsum")


@dataclass(frozen=True)
class RougeReward:
    """ROUGE F-measure against the best-matching reference (rouge-score, Porter stemmer)."""

    variant: str = "rougeL"
    range: tuple[float, float] = (0.0, 1.0)

    @property
    def name(self) -> str:
        return f"rouge({self.variant})"

    def __call__(self, examples: Sequence[Example], completions: Sequence[str]) -> list[float]:
        return rouge_f(examples, completions, (self.variant,))[self.variant]


@dataclass(frozen=True)
class BleuReward:
    """Sentence BLEU with effective order (sacrebleu), scaled from 0..100 to 0..1."""

    name: str = "bleu"
    range: tuple[float, float] = (0.0, 1.0)

    def __call__(self, examples: Sequence[Example], completions: Sequence[str]) -> list[float]:
        bleu = sacrebleu.BLEU(effective_order=True)
        return [
            bleu.sentence_score(text, list(ex.references)).score / 100.0
            for ex, text in zip(examples, completions, strict=True)
        ]


@dataclass(frozen=True)
class ChrfReward:
    """Sentence chrF (sacrebleu), scaled from 0..100 to 0..1."""

    name: str = "chrf"
    range: tuple[float, float] = (0.0, 1.0)

    def __call__(self, examples: Sequence[Example], completions: Sequence[str]) -> list[float]:
        chrf = sacrebleu.CHRF()
        return [
            chrf.sentence_score(text, list(ex.references)).score / 100.0
            for ex, text in zip(examples, completions, strict=True)
        ]


#: ROUGE F-measure via rouge-score
def rouge(variant: str = "rougeL") -> RougeReward:
    """The ROUGE reward; `variant` is one of rouge1, rouge2, rougeL, rougeLsum."""
    if variant not in ROUGE_VARIANTS:
        raise BenchError(
            f"unknown rouge variant '{variant}' (variants: {', '.join(ROUGE_VARIANTS)})"
        )
    return RougeReward(variant)


#: sentence BLEU via sacrebleu, scaled to 0..1
def bleu() -> BleuReward:
    """The sentence-BLEU reward."""
    return BleuReward()


#: sentence chrF via sacrebleu, scaled to 0..1
def chrf() -> ChrfReward:
    """The sentence-chrF reward."""
    return ChrfReward()


def rouge_f(
    examples: Sequence[Example], completions: Sequence[str], variants: Sequence[str]
) -> dict[str, list[float]]:
    """Per-completion ROUGE F-measures, max over each example's references."""
    scorer = rouge_scorer.RougeScorer(list(variants), use_stemmer=True)
    scores: dict[str, list[float]] = {v: [] for v in variants}
    for ex, text in zip(examples, completions, strict=True):
        best = scorer.score_multi(list(ex.references), text)
        for v in variants:
            scores[v].append(best[v].fmeasure)
    return scores


def rouge_metrics(examples: Sequence[Example], completions: Sequence[str]) -> dict[str, float]:
    """Mean ROUGE-1/2/L F-measure over a set of completions."""
    per_item = rouge_f(examples, completions, ("rouge1", "rouge2", "rougeL"))
    return {name: sum(values) / max(len(values), 1) for name, values in per_item.items()}
