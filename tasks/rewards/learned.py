"""The `learned` reward: an HF sequence classifier saved by `bench reward train`, scored batched.

`path` is a folder (with `reward_card.json`) or a recipe name. Recipes (`dialogue`, `sentiment`,
and `dialogue-judge`, the second model behind dialogue's `judge_rm` metric) are trained on first
use into $BENCH_CACHE/reward-models/<recipe>-<hash> with a progress bar (minutes on CPU) and
reused afterwards; `bench reward train dialogue` does the same ahead of time.
The reward is P(real reply) = σ(score) for pair models and P(label 1) for label models.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harness.api.errors import BenchError
from harness.api.task import Example
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
        if not (folder / CARD).exists():
            print(f"training the '{path}' reward model once into {folder} (cached afterwards)")
            train_reward_model(path, recipe.config, folder, source=recipe.records)
        return folder
    folder = Path(path)
    if not (folder / CARD).exists():
        raise BenchError(
            f"'{path}' is not a reward model folder (no {CARD}); use a recipe "
            f"({', '.join(RECIPES)}) or a folder saved by `bench reward train NAME --out FOLDER`"
        )
    return folder


@cache
def load_model(folder: Path) -> tuple[Any, Any, dict[str, Any]]:
    """(model, tokenizer, card) of a saved reward model, in eval mode, loaded once per process."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()
    card = json.loads((folder / CARD).read_text())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    model.requires_grad_(False)
    return model, tokenizer, card


@dataclass(frozen=True)
class LearnedReward:
    """Scores completions with a saved classifier (no grad, batches of `batch_size`).

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
        import torch

        model, tokenizer, card = load_model(resolve_model(self.path, self.recipe))
        scores: list[float] = []
        with torch.no_grad():
            for start in range(0, len(completions), self.batch_size):
                chunk = slice(start, start + self.batch_size)
                batch = encode(tokenizer, examples[chunk], completions[chunk], self, card)
                logits = model(**batch.to(model.device)).logits.float()
                if card["kind"] == "pairs":
                    scores += torch.sigmoid(logits[:, 0]).tolist()
                else:
                    scores += torch.softmax(logits, -1)[:, 1].tolist()
        return scores


def encode(
    tokenizer: Any,
    examples: Sequence[Example],
    completions: Sequence[str],
    reward: LearnedReward,
    card: dict[str, Any],
) -> Any:
    """Token batch of (context, completion) pairs, or of completions alone."""
    length = card["config"]["max_length"]
    texts = list(completions)
    contexts = [reward.context_of(e) for e in examples]
    if contexts and contexts[0] is not None:
        return tokenizer(
            contexts,
            texts,
            truncation="only_first",
            max_length=length,
            padding=True,
            return_tensors="pt",
        )
    return tokenizer(texts, truncation=True, max_length=length, padding=True, return_tensors="pt")


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
