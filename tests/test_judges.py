"""Second judges: VADER's positivity by hand, the reference ceiling cached per example."""

from collections.abc import Sequence

import pytest

from harness.api.errors import BenchError
from harness.api.task import Example
from tasks.rewards.judges import judged, reference_scorer, vader_judge, vader_positivity


class WordCount:
    """A stand-in reward: the number of words, and a log of every text it was asked to score."""

    name = "words"

    def __init__(self) -> None:
        self.scored: list[str] = []

    def __call__(self, examples: Sequence[Example], completions: Sequence[str]) -> list[float]:
        assert len(examples) == len(completions)
        self.scored += completions
        return [float(len(text.split())) for text in completions]


def test_vader_positivity_is_compound_mapped_to_0_1():
    # compound = x / √(x² + 15) rounded to 4 places; lexicon valence good 1.9, bad −2.5:
    # 1.9 / √18.61 = 0.4404, −2.5 / √21.25 = −0.5423; no lexicon word → 0 → 0.5
    expected = [(1 + 0.4404) / 2, (1 - 0.5423) / 2, 0.5]
    assert vader_positivity(["good", "bad", "the cat sat"]) == pytest.approx(expected, abs=1e-6)
    positive, negative = vader_judge(
        [Example("a", "p", ("r",))] * 2,
        ["I loved this wonderful, brilliant film!", "A boring, awful, terrible waste of time."],
    )
    assert positive == pytest.approx((1 + 0.9241) / 2, abs=1e-6) and positive > 0.9
    assert negative == pytest.approx((1 - 0.8807) / 2, abs=1e-6) and negative < 0.1


def test_reference_reward_is_the_mean_over_examples_and_scores_each_example_once():
    reward = WordCount()
    reference = reference_scorer(reward)
    a = Example("a", "p", ("one two", "one two three four"))  # mean of its references: 3
    b = Example("b", "p", ("one",))
    assert reference([a, a, b]) == pytest.approx((3 + 3 + 1) / 3, abs=1e-12)
    assert reward.scored == ["one two", "one two three four", "one"]
    assert reference([b, a]) == pytest.approx(2.0, abs=1e-12) and len(reward.scored) == 3
    # the same id with other references (hub rows are numbered per split) is another example
    b_other_split = Example("b", "q", ("one two three four five",))
    assert reference([b_other_split]) == pytest.approx(5.0, abs=1e-12)
    assert reward.scored[3:] == ["one two three four five"]
    with pytest.raises(BenchError, match="'c' has no reference"):
        reference([Example("c", "p", ())])


def test_judged_adds_judge_means_and_the_reference_ceiling():
    def lengths(examples: Sequence[Example], completions: Sequence[str]) -> dict[str, float]:
        return {"length_chars": sum(map(len, completions)) / len(completions)}

    reward = WordCount()
    metrics = judged(lengths, reward, {"judge_words": reward})
    examples = [Example("a", "p", ("x y z",)), Example("b", "p", ("x",))]
    assert metrics(examples, ["a b", "c"]) == pytest.approx(
        {"length_chars": 2.0, "judge_words": 1.5, "reference_reward": 2.0}, abs=1e-12
    )
