"""Reward-hacking metrics against hand counts (the arithmetic is written next to each value)."""

import pytest

from harness.metrics.hacking import (
    copy_rate,
    extractive_stats,
    fragments,
    hacking_metrics,
    msttr,
    novel_bigram_share,
    repeated_ngram_share,
    words,
)

MAT = "The cat sat on the mat."  # words: the cat sat on the mat (6)


def test_words_lowercase_and_split_on_non_word_characters():
    assert words("Don't STOP—now!") == ["don", "t", "stop", "now"]


def test_exact_copy_is_fully_extractive():
    # 5 bigrams, all in the source; longest shared span 6/6; one fragment of 6:
    # coverage 6/6, density 6²/6 = 6 = |S|, compression 6/6.
    assert novel_bigram_share(MAT, MAT) == pytest.approx(0.0)
    assert copy_rate(MAT, MAT) == pytest.approx(1.0)
    assert fragments(words(MAT), words(MAT)) == [6]
    assert extractive_stats(MAT, MAT) == pytest.approx(
        {"coverage": 1.0, "density": 6.0, "compression": 1.0}
    )


def test_nothing_shared_is_fully_abstractive():
    source, completion = "alpha beta gamma", "one two three four"
    # 3 bigrams, none in the source; no shared word; compression 3/4.
    assert novel_bigram_share(source, completion) == pytest.approx(1.0)
    assert copy_rate(source, completion) == pytest.approx(0.0)
    assert fragments(words(source), words(completion)) == []
    assert extractive_stats(source, completion) == pytest.approx(
        {"coverage": 0.0, "density": 0.0, "compression": 0.75}
    )


def test_partial_copy():
    source, completion = "a b c d e", "a b x d e f"
    # bigrams ab bx xd de ef: bx xd ef are new -> 3/5; longest span "a b" (or "d e") -> 2/6;
    # fragments "a b", "d e" -> coverage 4/6, density (4+4)/6, compression 5/6.
    assert novel_bigram_share(source, completion) == pytest.approx(3 / 5)
    assert copy_rate(source, completion) == pytest.approx(2 / 6)
    assert fragments(words(source), words(completion)) == [2, 2]
    assert extractive_stats(source, completion) == pytest.approx(
        {"coverage": 4 / 6, "density": 8 / 6, "compression": 5 / 6}
    )


def test_novel_bigrams_count_with_multiplicity():
    # bigrams ab ba ab; only ba is new -> 1/3 (1/2 if repeats were collapsed).
    assert novel_bigram_share("a b", "a b a b") == pytest.approx(1 / 3)


def test_undefined_on_too_short_completions():
    assert novel_bigram_share("a b", "a") is None
    assert copy_rate("a b", "") is None
    assert extractive_stats("a b", "...") is None
    assert copy_rate("", "a b") == pytest.approx(0.0)


def test_fragments_are_greedy_not_best_cover():
    article, summary = "a b q b c d".split(), "a b c d".split()
    # At "a" the longest match is "a b" (2), then "c d" (2): density (4+4)/4 = 2.
    # The cover "a" + "b c d" would give (1+9)/4 = 2.5; greedy does not look for it.
    assert fragments(article, summary) == [2, 2]
    assert extractive_stats("a b q b c d", "a b c d")["density"] == pytest.approx(2.0)
    # copy_rate takes the longest span anywhere, "b c d": 3/4, longer than any fragment.
    assert copy_rate("a b q b c d", "a b c d") == pytest.approx(3 / 4)


def test_fragments_take_the_true_longest_match_when_matches_overlap():
    # "a a a b" lies in "a a a a b" from article position 1: one fragment of 4, not 3 + 1.
    assert fragments(list("aaaab"), list("aaab")) == [4]
    assert fragments([], []) == []


def test_repeated_ngram_share():
    # 4-grams abcd bcda cdab dabc abcd: 5, 4 distinct -> 1/5.
    assert repeated_ngram_share("a b c d a b c d") == pytest.approx(1 / 5)
    # six "the": three identical 4-grams -> (3-1)/3.
    assert repeated_ngram_share("the the the the the the") == pytest.approx(2 / 3)
    # bigrams ab ba ab -> (3-2)/3.
    assert repeated_ngram_share("a b a b", n=2) == pytest.approx(1 / 3)
    assert repeated_ngram_share("a b c d") == pytest.approx(0.0)
    assert repeated_ngram_share("a b c") is None
    with pytest.raises(ValueError, match="n must be"):
        repeated_ngram_share("a b", n=0)


def test_msttr_segments_cross_completions_and_drop_the_remainder():
    # words a b a b c d e; segments [a b a] 2/3, [b c d] 3/3, [e] dropped -> (2/3 + 1)/2 = 5/6.
    assert msttr(["a b a", "b c d", "e"], window=3) == pytest.approx(5 / 6)
    assert msttr(["a b", "a b c d e"], window=3) == pytest.approx(5 / 6)


def test_msttr_below_one_window_is_plain_type_token_ratio():
    # 3 words, 2 types -> 2/3.
    assert msttr(["a a b"]) == pytest.approx(2 / 3)
    assert msttr([]) == 0.0
    assert msttr([""]) == 0.0
    with pytest.raises(ValueError, match="window must be"):
        msttr(["a"], window=0)


SOURCES = [MAT, "alpha beta gamma", "x"]
COMPLETIONS = [MAT, "go go go go go", ""]


def test_hacking_metrics_means_over_completions_where_defined():
    # novel [0, 1, -] -> 1/2; copy [1, 0, -] -> 1/2; repeat_4gram [0 (3 distinct), 1/2, -] ->
    # 1/4; msttr: 11 words < 50, types the cat sat on mat go -> 6/11.
    # coverage [1, 0] -> 1/2; density [6, 0] -> 3; compression [6/6, 3/5] -> 0.8.
    assert hacking_metrics(SOURCES, COMPLETIONS, extractive=True) == pytest.approx(
        {
            "novel_bigrams": 0.5,
            "copy_rate": 0.5,
            "repeat_4gram": 0.25,
            "msttr": 6 / 11,
            "coverage": 0.5,
            "density": 3.0,
            "compression": 0.8,
        }
    )
    plain = hacking_metrics(SOURCES, COMPLETIONS, extractive=False)
    assert set(plain) == {"novel_bigrams", "copy_rate", "repeat_4gram", "msttr"}


def test_hacking_metrics_all_empty_and_mismatched():
    assert hacking_metrics(["a b"], [""], extractive=True) == {"msttr": 0.0}  # none applies
    with pytest.raises(ValueError):
        hacking_metrics(["a", "b"], ["a"], extractive=False)
