"""`bench reward train` and `bench reward card`: the commands' options turned into a training
config and a folder, or into a model's card."""

import json
import os
from dataclasses import replace
from pathlib import Path

from harness.api.errors import BenchError
from harness.policies.cache import cache_root
from tasks.rewards.cards import read_card
from tasks.rewards.training import (
    CARD,
    KINDS,
    RECIPES,
    RewardTrainConfig,
    load_recipe,
    probe_card,
    recipe_folder,
    recipe_for_data,
    train_reward_model,
)


def train_from_cli(
    name: str,
    data: str | None,
    kind: str | None,
    out: Path | None,
    changes: dict[str, int | None],
) -> tuple[dict, Path]:
    """`bench reward train`: a recipe (name dialogue/sentiment, no --data) or a data file.

    changes: the config fields the options set (max_examples, train_examples, epochs, seed);
    None leaves the recipe's or the default value.
    """
    if data is None and name not in RECIPES:
        raise BenchError(f"'{name}' is not a recipe ({', '.join(RECIPES)}); pass --data and --kind")
    recipe = load_recipe(name) if data is None else recipe_for_data(data)
    if data is None:
        config = recipe.config
    elif recipe is not None:
        if kind is not None and kind != recipe.config.kind:
            raise BenchError(f"data '{data}' is {recipe.config.kind}, not {kind}")
        config = RewardTrainConfig(recipe.config.kind, data)
    elif kind is None:
        raise BenchError(f"--kind is needed for data '{data}' (kinds: {', '.join(KINDS)})")
    else:
        config = RewardTrainConfig(kind, data)
    if changes.get("epochs") is not None and config.encoder == "frozen":
        raise BenchError(
            f"--epochs does not apply to '{name}': its encoder is frozen and only a head is"
            " fitted (full-batch steps); epochs apply to encoder=finetune recipes and data"
        )
    config = replace(config, **{key: v for key, v in changes.items() if v is not None})
    if out is None and data is None and config == recipe.config:
        out = recipe_folder(recipe)  # exactly the model the tasks would train on first use
    folder = out or cache_root() / "reward-models" / name
    return train_reward_model(name, config, folder, recipe=recipe), folder


def card_from_cli(target: str) -> dict:
    """`bench reward card`: the card of a recipe's model (trained first if it is not cached) or
    of a saved folder. A recipe's cached model whose card predates probes gets them now, scored
    once and written into its card (the weights, and so the folder's name, are unchanged)."""
    from tasks.rewards.learned import load_model, resolve_model

    recipe = load_recipe(target) if target in RECIPES else None
    folder = resolve_model(target, recipe)
    card = read_card(folder)
    if recipe is not None and recipe.probes is not None and "probes" not in card:
        model, tokenizer, _ = load_model(folder)
        card |= probe_card(recipe, model, tokenizer, card)
        staging = folder / f".{CARD}.{os.getpid()}"
        staging.write_text(json.dumps(card, indent=2) + "\n")
        os.replace(staging, folder / CARD)  # atomic: a reader sees the old card or the new one
    return card
