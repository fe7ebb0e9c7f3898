"""The `learned` reward: a reward model saved by `bench reward train`, scored batched.

`path` is a folder (with `reward_card.json`) or a recipe name. Recipes (`dialogue`, `sentiment`,
and `dialogue-judge`, the second model behind dialogue's `judge_rm` metric) are trained on first
use into $BENCH_CACHE/reward-models/<recipe>-<hash> with a progress bar (on 2 CPU cores, about
1–2 minutes for each of dialogue's and 3.5 for sentiment's) and reused afterwards; `bench reward
train dialogue` does the same ahead of time.
The reward is P(real reply) = σ(score − center) for pair models and P(label 1) for label models
(`scoring.py`, also what a card's probe figures are computed with); the score comes from a
fine-tuned classifier or, for recipes with `encoder="frozen"`, from a head on a frozen encoder's
embeddings and copy features (`frozen_encoder.py`). `card()` is what a run records of the model.
"""

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harness.api.errors import BenchError
from harness.api.task import Example
from harness.policies.cache import build_once
from harness.policies.quiet import quiet_transformers
from tasks.rewards.cards import run_record
from tasks.rewards.embedding import same_weights
from tasks.rewards.frozen_encoder import load_head
from tasks.rewards.scoring import is_frozen, rewards
from tasks.rewards.training import (
    CARD,
    RECIPES,
    Recipe,
    load_recipe,
    recipe_folder,
    train_reward_model,
)

CONTEXTS = ("none", "prompt")


def resolve_model(path: str, recipe: Recipe | None) -> Path:
    """A model folder: a recipe's (trained now if missing) or a saved folder with a card."""
    if recipe is None and path in RECIPES:
        recipe = load_recipe(path)
    if recipe is not None and path == recipe.name:
        folder = recipe_folder(recipe)
        build_once(folder, lambda f: (f / CARD).exists(), lambda: train_recipe(recipe, folder))
        return folder
    folder = Path(path)
    if not (folder / CARD).exists():
        raise BenchError(
            f"'{path}' is not a reward model folder (no {CARD}); use a recipe "
            f"({', '.join(RECIPES)}) or a folder saved by `bench reward train NAME --out FOLDER`"
        )
    return folder


def train_recipe(recipe: Recipe, folder: Path) -> None:
    """Train a recipe's model into its cache folder, saying so on stderr (it takes minutes, once;
    stdout may be a script's: `bench reward card NAME --json` on an empty cache)."""
    note = f"training the '{recipe.name}' reward model once into {folder} (cached afterwards)"
    print(note, file=sys.stderr)
    train_reward_model(recipe.name, recipe.config, folder, recipe=recipe)


@cache
def load_model(folder: Path) -> tuple[Any, Any, dict[str, Any]]:
    """(model, tokenizer, card) of a saved reward model, in eval mode, loaded once per process.

    model is the classifier, or (encoder, head) for a head on a frozen encoder.
    """
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    quiet_transformers()
    card = json.loads((folder / CARD).read_text())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if is_frozen(card):
        encoder = AutoModel.from_pretrained(folder).eval().requires_grad_(False)
        return (same_weights(encoder), load_head(folder)), tokenizer, card
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    model.requires_grad_(False)
    return model, tokenizer, card


@dataclass(frozen=True)
class LearnedReward:
    """Scores completions with a saved reward model (no grad, batches of `batch_size`).

    The model is found (and for a recipe trained) at the first call, not when the task is built,
    so `bench validate` and option checks never wait for training.
    """

    path: str
    context: str | Callable[[Example], str] = "none"
    batch_size: int = 32
    recipe: Recipe | None = None
    range: tuple[float, float] = (0.0, 1.0)  # a probability (sigmoid or softmax)

    @property
    def name(self) -> str:
        return f"learned({Path(self.path).name})"

    def context_of(self, example: Example) -> str | None:
        """What the model sees before the completion: nothing, the prompt, or the task's choice."""
        if callable(self.context):
            return self.context(example)
        return None if self.context == "none" else example.prompt

    def __call__(self, examples: Sequence[Example], completions: Sequence[str]) -> list[float]:
        model, tokenizer, card = load_model(resolve_model(self.path, self.recipe))
        contexts = [self.context_of(e) for e in examples]
        paired = card.get("input") == "pair"  # trained on (context, text)
        if paired == any(c is None for c in contexts):
            read = "a context and a text" if paired else "a text alone"
            setting = self.context if isinstance(self.context, str) else "task"
            raise BenchError(
                f"reward model '{self.path}' reads {read}; its context setting '{setting}' does"
                " not match"
            )
        return rewards(model, tokenizer, card, (contexts, completions), self.batch_size)

    def card(self) -> dict[str, Any]:
        """What a run records of this model: name, weights' fingerprint, accuracy, probes."""
        folder = resolve_model(self.path, self.recipe)
        return run_record(folder, load_model(folder)[2])


#: a reward model saved by `bench reward train` (path=FOLDER or a recipe name)
def learned(
    path: str = "sentiment",
    context: str | Callable[[Example], str] = "none",
    batch_size: int = 32,
    recipe: Recipe | None = None,
) -> LearnedReward:
    """The learned reward.

    path: a saved folder or a recipe name. context: none (the completion alone), prompt, or a
    function of the example (a task's own, e.g. dialogue's chat lines). recipe: the task's own
    recipe, trained on first use when path is its name.
    """
    if isinstance(context, str) and context not in CONTEXTS:
        raise BenchError(f"unknown reward context '{context}' (contexts: {', '.join(CONTEXTS)})")
    if path not in RECIPES and (recipe is None or path != recipe.name):
        resolve_model(path, recipe)  # a bad folder fails now, in one line, not at the first rollout
    return LearnedReward(path, context, batch_size, recipe)
