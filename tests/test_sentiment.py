"""Sentiment: IMDB prefixes, disjoint buckets for the reward model and the task, metrics."""

import pytest

from harness.api.errors import BenchError
from harness.api.task import Example
from tasks.sentiment import (
    bucket_of,
    clean,
    continuation_metrics,
    imdb_rows,
    review_example,
    reward_records,
    sentiment,
)


def test_review_prefix_and_cleaning():
    example = review_example("k", "one two three four five", prefix_words=2)
    assert example.prompt == "one two" and example.references == ("three four five",)
    assert clean("Great film.<br /><br />Loved  it.") == "Great film. Loved it."


def test_reward_model_reviews_never_appear_as_prompts():
    rows = imdb_rows()
    assert len(rows) == 25_000
    reward_texts = {record.text for record in reward_records(0)}
    task = sentiment(train_size=0, prefix_words=8)
    prompts = {e.id for s in ("train", "val", "test") for e in task.examples(s)}
    assert len(reward_texts) > 10_000 and len(prompts) > 10_000
    assert all(bucket_of(key) != "reward" for key in prompts)
    assert sum(record.label for record in reward_records(0)) / len(reward_texts) == pytest.approx(
        0.5, abs=0.03
    )
    with pytest.raises(BenchError, match="prefix_words"):
        sentiment(prefix_words=0)


def test_metrics():
    metrics = continuation_metrics([Example("a", "p", ("r",))] * 2, ["a b", "a c"])
    assert metrics == {"distinct_1": 0.75, "distinct_2": 1.0, "length_words": 2.0}
