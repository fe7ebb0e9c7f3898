"""Judges the policy never trained on, and the reward model's own score of the references.

A task that trains and evaluates with one reward model cannot show reward hacking: the policy
may learn that model's blind spots and the score still rises. So the learned-reward tasks also
report, as task metrics, the mean score of a second judge (a lexicon scorer, or a reward model
trained on other data with another seed) and `reference_reward`, the task's reward model's mean
score of the references (human text scored by the same model; not a ceiling: dialogue's
version-4 model scored an echo of the prompt above it). Each judge's mean joins the run's
eval_curve and gets a held-out gain, as the reward does (harness/loop/heldout.py).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from harness.api.errors import BenchError
from harness.api.task import Example, Reward

Judge = Callable[[Sequence[Example], Sequence[str]], list[float]]
Metrics = Callable[[Sequence[Example], Sequence[str]], dict[str, float]]


@cache
def vader_analyzer() -> Any:
    """VADER's analyzer (its lexicon ships inside the package), built once per process."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError as error:
        raise BenchError(
            "the VADER judge needs vaderSentiment; install it: pip install vaderSentiment"
        ) from error
    return SentimentIntensityAnalyzer()


def vader_positivity(texts: Sequence[str]) -> list[float]:
    """(compound + 1) / 2 of each text under VADER (Hutto & Gilbert 2014), in [0, 1].

    VADER's compound is the summed valence x squashed as x / √(x² + 15) into [−1, 1], so
    (compound + 1) / 2 is a sigmoid-shaped function of x in [0, 1] with 0.5 for a neutral text:
    the same reading as the learned reward's P(positive) (0.5 = undecided, 1 = surely positive).
    """
    analyzer = vader_analyzer()
    return [(analyzer.polarity_scores(text)["compound"] + 1.0) / 2.0 for text in texts]


def vader_judge(examples: Sequence[Example], completions: Sequence[str]) -> list[float]:
    """The VADER positivity of each completion (the examples are not read)."""
    del examples  # a lexicon scores the text alone
    return vader_positivity(completions)


def reference_scorer(reward: Reward) -> Callable[[Sequence[Example]], float]:
    """The mean score `reward` gives the references of examples, each example scored once.

    An example's score is the mean over its references. The cache is keyed by the whole
    example, not its id alone: a hub source numbers its rows per split, so ids can repeat.
    """
    seen: dict[Example, float] = {}

    def mean_score(examples: Sequence[Example]) -> float:
        new = [e for e in dict.fromkeys(examples) if e not in seen]
        empty = [e.id for e in new if not e.references]
        if empty:
            raise BenchError(f"example '{empty[0]}' has no reference for reference_reward")
        pairs = [(e, reference) for e in new for reference in e.references]
        scores = reward([e for e, _ in pairs], [r for _, r in pairs]) if pairs else []
        start = 0
        for example in new:  # pairs list each example's references together, in order
            count = len(example.references)
            seen[example] = sum(scores[start : start + count]) / count
            start += count
        return sum(seen[e] for e in examples) / max(len(examples), 1)

    return mean_score


@dataclass(frozen=True)
class Judged:
    """A task's metrics plus each judge's mean score of the completions and `reference_reward`.

    reward: the task's learned reward model itself (not a composite around it), so
    `reference_reward` is on the scale of `eval/reward` (`eval/reward_learned` with a penalty).
    `scores` also returns each judge's score of every completion, from the same single call,
    which the evaluation pairs per prompt for a judge's held-out gain.
    """

    metrics: Metrics
    reward: Reward
    judges: dict[str, Judge]
    reference: Callable[[Sequence[Example]], float]  # reference_scorer(reward)

    def scores(
        self, examples: Sequence[Example], completions: Sequence[str]
    ) -> tuple[dict[str, float], dict[str, list[float]]]:
        """(the metrics, judge name → its score of each completion)."""
        values = {name: list(judge(examples, completions)) for name, judge in self.judges.items()}
        means = {name: sum(v) / max(len(v), 1) for name, v in values.items()}
        found = {**self.metrics(examples, completions), **means}
        return found | {"reference_reward": self.reference(examples)}, values

    def __call__(self, examples: Sequence[Example], completions: Sequence[str]) -> dict[str, float]:
        return self.scores(examples, completions)[0]

    def cards(self) -> dict[str, dict[str, Any]]:
        """The card records (`cards.run_record`) of the reward and of each judge that is a
        learned model, by role: "reward", then the judge's metric name."""
        models = {"reward": self.reward, **self.judges}
        return {
            role: model.card()
            for role, model in models.items()
            if callable(getattr(model, "card", None))
        }


def judged(metrics: Metrics, reward: Reward, judges: dict[str, Judge]) -> Judged:
    """`metrics` plus each judge's mean score and `reference_reward` (see `Judged`)."""
    return Judged(metrics, reward, judges, reference_scorer(reward))
