"""Sentiment: IMDB prefixes, disjoint buckets for the reward model and the task, metrics."""

from dataclasses import replace
from pathlib import Path

import pytest

from harness.api.errors import BenchError
from harness.api.task import Example
from tasks.rewards.judges import vader_positivity
from tasks.rewards.learned import learned
from tasks.rewards.training import RewardTrainConfig, train_reward_model
from tasks.sentiment import (
    PROBE_FAMILIES,
    REWARD_RECIPE,
    bucket_of,
    clean,
    continuation_metrics,
    imdb_rows,
    review_example,
    review_probes,
    reward_records,
    sentiment,
)


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sentiment recipe's data, 40 reviews cut to 32 tokens: a small stand-in classifier."""
    config = RewardTrainConfig(kind="labels", data="imdb", max_examples=40, max_length=32)
    folder = tmp_path_factory.mktemp("sentiment-rm") / "rm"
    recipe = replace(REWARD_RECIPE, probes=None)
    train_reward_model("sentiment-small", config, folder, progress=False, recipe=recipe)
    return folder


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


def test_judge_vader_and_reference_reward(small_model):
    task = sentiment(reward_model=str(small_model))
    examples = task.examples("val")[:4]
    completions = [
        "a wonderful, moving film. I loved it!",
        "boring, awful and a terrible waste of time.",
        "the plot follows two brothers in Ohio.",
        "great acting, a superb script",
    ]
    metrics = task.metrics(examples * 2, completions * 2)  # 2 samples per prompt, as evaluated
    positivity = vader_positivity(completions)
    assert positivity[0] > 0.9 and positivity[1] < 0.1 and positivity[2] == 0.5
    assert metrics["judge_vader"] == pytest.approx(sum(positivity) / 4, abs=1e-6)
    ceiling = learned(str(small_model))(examples, [e.references[0] for e in examples])
    assert metrics["reference_reward"] == pytest.approx(sum(ceiling) / 4, abs=1e-6)
    assert {"distinct_1", "distinct_2", "length_words"} <= set(metrics)


def test_the_cards_probes_are_positive_val_reviews_against_four_families():
    probes = review_probes()
    assert len(probes) == 200 and all(p.context is None for p in probes)
    assert all(tuple(f for f, _ in p.probes) == PROBE_FAMILIES for p in probes)
    first = dict(probes[0].probes)
    assert first["empty"] == "" and len(first["repeated_word"].split()) == 8
    assert len(set(first["repeated_word"].split())) == 1
    positive = {key for key, _, label in imdb_rows() if label == 1 and bucket_of(key) == "val"}
    reviews = {
        review_example(key, text, 16).references[0]
        for key, text, _ in imdb_rows()
        if key in positive
    }
    assert all(p.real in reviews for p in probes)
