"""Metrics that expose reward hacking: copying the source, repeating itself, degenerate text.

A reward such as ROUGE can be raised by pasting the article or looping a phrase; these numbers
make that visible next to the reward. Pure Python (standard library only), never torch.
"""

import re
from collections.abc import Sequence
from statistics import fmean


def words(text: str) -> list[str]:
    """Lower-cased word tokens, so that every metric here counts the same units."""
    return re.findall(r"\w+", text.lower())


def _ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """All n-grams of a token list, in order and with multiplicity."""
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def novel_bigram_share(source: str, completion: str) -> float | None:
    """Share of the completion's bigrams (with multiplicity) absent from the source's bigrams."""
    grams = _ngrams(words(completion), 2)
    if not grams:
        return None
    seen = set(_ngrams(words(source), 2))
    return sum(gram not in seen for gram in grams) / len(grams)


def _longest_matches(article: Sequence[str], summary: Sequence[str]) -> list[int]:
    """For each summary position i, the longest k with summary[i:i+k] found in the article.

    One backward pass over the summary: the run starting at (i, j) is one more than the run at
    (i+1, j+1) when summary[i] == article[j]. Only matching j are visited, so a degenerate
    completion against a long article costs O(|S|·|A|) dict steps, not the cubic naive scan.
    """
    positions: dict[str, list[int]] = {}
    for j, token in enumerate(article):
        positions.setdefault(token, []).append(j)
    longest = [0] * len(summary)
    following: dict[int, int] = {}  # run lengths at (i+1, j) for the j where they are > 0
    for i in range(len(summary) - 1, -1, -1):
        current = {j: following.get(j + 1, 0) + 1 for j in positions.get(summary[i], ())}
        longest[i] = max(current.values(), default=0)
        following = current
    return longest


def copy_rate(source: str, completion: str) -> float | None:
    """Longest contiguous word span shared with the source, over the completion's length."""
    summary = words(completion)
    if not summary:
        return None
    return max(_longest_matches(words(source), summary)) / len(summary)


def fragments(source_words: Sequence[str], summary_words: Sequence[str]) -> list[int]:
    """Lengths of the extractive fragments of Grusky et al. 2018 (Newsroom), Algorithm 1.

    Greedy: at each summary position take the longest token sequence starting there that occurs
    anywhere in the article, record it and jump past it; with no match advance by one. The true
    longest match is used: the paper's pseudocode resumes its article scan after a match, which
    can miss a longer match that overlaps it (summary "a a a b" in article "a a a a b").
    """
    longest = _longest_matches(source_words, summary_words)
    found: list[int] = []
    i = 0
    while i < len(summary_words):
        if longest[i]:
            found.append(longest[i])
            i += longest[i]
        else:
            i += 1
    return found


def extractive_stats(source: str, completion: str) -> dict[str, float] | None:
    """Grusky et al. 2018 coverage (1/|S|)Σ|f|, density (1/|S|)Σ|f|² and compression |A|/|S|."""
    article, summary = words(source), words(completion)
    if not summary:
        return None
    lengths = fragments(article, summary)
    return {
        "coverage": sum(lengths) / len(summary),
        "density": sum(k * k for k in lengths) / len(summary),
        "compression": len(article) / len(summary),
    }


def repeated_ngram_share(completion: str, n: int = 4) -> float | None:
    """Share of the completion's n-grams that repeat an earlier one: (count − distinct)/count."""
    if n < 1:
        raise ValueError(f"n must be a positive integer, got {n}")
    grams = _ngrams(words(completion), n)
    if not grams:
        return None
    return (len(grams) - len(set(grams))) / len(grams)


def msttr(completions: Sequence[str], window: int = 50) -> float:
    """Mean segmental type-token ratio (Johnson 1944) over all completions' words in order.

    Full segments of `window` words only (the remainder is dropped, as TTR rises on short
    segments); with fewer words than one window, the plain type-token ratio of what there is.
    """
    # GEM reports MSTTR-100; 50 lets a small eval set of short completions fill many segments.
    if window < 1:
        raise ValueError(f"window must be a positive integer, got {window}")
    tokens = [token for completion in completions for token in words(completion)]
    if len(tokens) < window:
        return len(set(tokens)) / len(tokens) if tokens else 0.0
    segments = [tokens[i : i + window] for i in range(0, len(tokens) - window + 1, window)]
    return fmean(len(set(segment)) / window for segment in segments)


def _mean_present(values: Sequence[float | None]) -> float | None:
    """Mean of the values that apply; None when none does (e.g. every completion is empty)."""
    present = [value for value in values if value is not None]
    return fmean(present) if present else None


def hacking_metrics(
    sources: Sequence[str], completions: Sequence[str], extractive: bool
) -> dict[str, float]:
    """Copying, repetition and lexical-diversity metrics of completions paired with sources.

    `extractive` adds Grusky's coverage, density and compression, which only mean something
    when the source is a document the completion summarises. A metric that applies to no
    completion (e.g. all are empty) is left out rather than given a placeholder value.
    """
    pairs = list(zip(sources, completions, strict=True))
    metrics: dict[str, float | None] = {
        "novel_bigrams": _mean_present([novel_bigram_share(s, c) for s, c in pairs]),
        "copy_rate": _mean_present([copy_rate(s, c) for s, c in pairs]),
        "repeat_4gram": _mean_present([repeated_ngram_share(c, 4) for _, c in pairs]),
        "msttr": msttr(completions),
    }
    if extractive:
        stats = [extractive_stats(s, c) for s, c in pairs]
        for key in ("coverage", "density", "compression"):
            metrics[key] = _mean_present([None if st is None else st[key] for st in stats])
    return {key: value for key, value in metrics.items() if value is not None}
