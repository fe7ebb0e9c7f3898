"""Composite rewards: weighted sum and length penalty by hand; components come back per name."""

from dataclasses import dataclass

import pytest

from harness.api.errors import BenchError
from harness.api.task import Example, score_with_parts
from tasks.rewards.composite import composite


@dataclass(frozen=True)
class Const:
    value: float
    name: str = "const"

    def __call__(self, examples, completions):
        return [self.value * len(c.split()) for c in completions]


def test_weighted_sum_and_length_penalty_by_hand():
    reward = composite({"a": (2.0, Const(0.5)), "b": (-1.0, Const(0.25))}, 0.1, 3)
    examples = [Example("x", "p", ("r",))] * 2
    totals, parts = reward.score(examples, ["one two", "one two three four five"])
    # 2·0.5·n − 0.25·n − 0.1·max(0, n − 3) for n = 2 and 5
    assert totals == pytest.approx([1.5, 3.75 - 0.2], abs=1e-12)
    assert parts == {
        "a": [1.0, 2.5],
        "b": [0.5, 1.25],
        "length_penalty": [0.0, pytest.approx(-0.2)],
    }
    assert reward(examples, ["one two", "one two three four five"]) == totals
    assert reward.name == "composite(2·a + -1·b + 0.1·overlength(3))"


def test_plain_reward_has_no_parts_and_bad_setups_fail():
    example = [Example("x", "p", ("r",))]
    assert score_with_parts(Const(1.0), example, ["a b"]) == ([2.0], {})
    mixed = composite({"a": (2.0, Const(1.0))})
    assert score_with_parts(mixed, example, ["a b"]) == ([4.0], {"a": [2.0]})
    with pytest.raises(BenchError, match="at least one component"):
        composite({})
    with pytest.raises(BenchError, match="must be ≥ 0"):
        composite({"a": (1.0, Const(1.0))}, -1.0, 3)
