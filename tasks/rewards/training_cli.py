"""`bench reward train`: the options of the command turned into a training config and a folder."""

from dataclasses import replace
from pathlib import Path

from harness.api.errors import BenchError
from harness.policies.cache import cache_root
from tasks.rewards.training import (
    KINDS,
    RECIPES,
    RewardTrainConfig,
    load_recipe,
    recipe_folder,
    recipe_for_data,
    train_reward_model,
)


def train_from_cli(
    name: str,
    data: str | None,
    kind: str | None,
    out: Path | None,
    max_examples: int | None,
    epochs: int | None,
    seed: int | None,
) -> tuple[dict, Path]:
    """`bench reward train`: a recipe (name dialogue/sentiment, no --data) or a data file."""
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
    if epochs is not None and config.encoder == "frozen":
        raise BenchError(
            f"--epochs does not apply to '{name}': its encoder is frozen and only a linear head"
            " is fitted (full-batch steps); epochs apply to encoder=finetune recipes and data"
        )
    changes = {"max_examples": max_examples, "epochs": epochs, "seed": seed}
    config = replace(config, **{key: v for key, v in changes.items() if v is not None})
    if out is None and data is None and config == recipe.config:
        out = recipe_folder(recipe)  # exactly the model the tasks would train on first use
    folder = out or cache_root() / "reward-models" / name
    source = recipe.records if recipe is not None else None
    return train_reward_model(name, config, folder, source=source), folder
