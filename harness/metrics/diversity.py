"""Diversity and length of a set of generations (Li et al. 2016 distinct-n; self-BLEU)."""

from collections.abc import Sequence

import sacrebleu


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct n-grams / all n-grams over the whole set (lower-cased whitespace tokens)."""
    grams = [
        tuple(words[i : i + n])
        for words in (text.lower().split() for text in texts)
        for i in range(len(words) - n + 1)
    ]
    return len(set(grams)) / len(grams) if grams else 0.0


def self_bleu(texts: Sequence[str]) -> float:
    """Mean sentence BLEU (0..1) of each text against all the others (Zhu et al. 2018)."""
    if len(texts) < 2:
        return 0.0
    bleu = sacrebleu.BLEU(effective_order=True)
    scores = [
        bleu.sentence_score(text, [t for j, t in enumerate(texts) if j != i]).score / 100.0
        for i, text in enumerate(texts)
    ]
    return sum(scores) / len(scores)


def mean_words(texts: Sequence[str]) -> float:
    """Mean length in whitespace words (tokenizer-independent, so comparable across policies)."""
    return sum(len(t.split()) for t in texts) / len(texts) if texts else 0.0


def diversity_metrics(texts: Sequence[str]) -> dict[str, float]:
    """distinct_1, distinct_2, self_bleu and length of a set of generations."""
    return {
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
        "self_bleu": self_bleu(texts),
        "length": mean_words(texts),
    }
