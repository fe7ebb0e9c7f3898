"""Rewards and diversity: equal to rouge-score and sacrebleu, and to hand counts."""

import pytest
import sacrebleu
from rouge_score import rouge_scorer

from harness.api.errors import BenchError
from harness.api.task import Example
from harness.metrics.diversity import distinct_n, self_bleu
from tasks.rewards.lexical import bleu, chrf, rouge, rouge_metrics

PAIRS = [
    ("the cat sat on the mat", ("a cat was sitting on the mat",)),
    (
        "models outperform baselines",
        ("our model outperforms the baselines", "models beat baselines"),
    ),
    ("", ("empty output scores zero",)),
]


def examples():
    return [Example(str(i), "p", refs) for i, (_, refs) in enumerate(PAIRS)]


@pytest.mark.parametrize("variant", ["rouge1", "rouge2", "rougeL"])
def test_rouge_reward_equals_rouge_score(variant):
    scorer = rouge_scorer.RougeScorer([variant], use_stemmer=True)
    expected = [scorer.score_multi(list(refs), text)[variant].fmeasure for text, refs in PAIRS]
    assert rouge(variant)(examples(), [text for text, _ in PAIRS]) == pytest.approx(
        expected, abs=1e-9
    )


def test_rouge_l_by_hand():
    # LCS("the cat sat on the mat", "a cat was sitting on the mat") = cat on the mat = 4 words.
    p, r = 4 / 6, 4 / 7
    got = rouge("rougeL")(examples()[:1], [PAIRS[0][0]])[0]
    assert got == pytest.approx(2 * p * r / (p + r), abs=1e-9)


def test_bleu_and_chrf_equal_sacrebleu_scaled():
    texts = [text for text, _ in PAIRS]
    scorer = sacrebleu.BLEU(effective_order=True)
    expected = [scorer.sentence_score(t, list(r)).score / 100 for t, r in PAIRS]
    assert bleu()(examples(), texts) == pytest.approx(expected, abs=1e-9)
    expected = [sacrebleu.CHRF().sentence_score(t, list(r)).score / 100 for t, r in PAIRS]
    assert chrf()(examples(), texts) == pytest.approx(expected, abs=1e-9)


def test_rouge_metrics_are_means():
    texts = [text for text, _ in PAIRS]
    per_item = rouge("rouge2")(examples(), texts)
    assert rouge_metrics(examples(), texts)["rouge2"] == pytest.approx(sum(per_item) / 3, abs=1e-9)


def test_unknown_rouge_variant():
    with pytest.raises(BenchError, match="rougeLsum"):
        rouge("rougeX")


def test_distinct_n_by_hand():
    texts = ["a b a b", "a b c"]
    # unigrams: a b a b a b c → 3 distinct / 7; bigrams: ab ba ab ab bc → 3 distinct / 5
    assert distinct_n(texts, 1) == pytest.approx(3 / 7)
    assert distinct_n(texts, 2) == pytest.approx(3 / 5)
    assert distinct_n(["one"], 2) == 0.0


def test_self_bleu_equals_sacrebleu_against_the_others():
    texts = ["the model works well", "the model works", "a different sentence entirely"]
    scorer = sacrebleu.BLEU(effective_order=True)
    expected = (
        sum(
            scorer.sentence_score(t, [o for j, o in enumerate(texts) if j != i]).score / 100
            for i, t in enumerate(texts)
        )
        / 3
    )
    assert self_bleu(texts) == pytest.approx(expected, abs=1e-9)
