"""`bench reward train` and `bench reward card`: learned reward models and their cards."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.cli.app import app, console, one_line_errors

reward_app = typer.Typer(help="Learned reward models.", no_args_is_help=True)
app.add_typer(reward_app, name="reward")


@reward_app.command("train")
@one_line_errors
def reward_train_command(
    name: Annotated[str, typer.Argument(help="model name; 'dialogue'/'sentiment' = the recipes")],
    data: Annotated[
        str | None, typer.Option("--data", help="chitchat | imdb | a .jsonl/.csv file")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="pairs | labels")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="folder (default $BENCH_CACHE/reward-models/NAME)")
    ] = None,
    max_examples: Annotated[
        int | None, typer.Option("--max-examples", help="subsample size (default 2000)")
    ] = None,
    train_examples: Annotated[
        int | None,
        typer.Option(
            "--train-examples",
            help="train on the first N of the 80 % not held out (default: all, or the recipe's)",
        ),
    ] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", help="default 1")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="default 0")] = None,
) -> None:
    """Train a reward model, a recipe or from a file (Bradley–Terry on pairs, CE on labels)."""
    from tasks.rewards.training_cli import train_from_cli

    changes = {
        "max_examples": max_examples,
        "train_examples": train_examples,
        "epochs": epochs,
        "seed": seed,
    }
    card, folder = train_from_cli(name, data, kind, out, changes)
    console.print(
        f"held-out accuracy {card['heldout_accuracy']:.3f} "
        f"({card['examples']['heldout']} held out) · saved {folder}",
        highlight=False,
    )


@reward_app.command("card")
@one_line_errors
def reward_card_command(
    target: Annotated[
        str, typer.Argument(help="a recipe (dialogue, dialogue-judge, sentiment) or a folder")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help='print {"accuracy", "families"} as JSON')
    ] = False,
) -> None:
    """A reward model's card: held-out accuracy and, per probe family, how often the real text
    outscores the probe (trains a recipe's model first if it is not cached)."""
    from harness.metrics.stats import share_interval
    from tasks.rewards.cards import summary
    from tasks.rewards.training_cli import card_from_cli

    card = card_from_cli(target)
    found = summary(card)
    if as_json:
        print(json.dumps(found, indent=2))
        return
    held = card["examples"]["heldout"]
    noun = "pairs" if card["kind"] == "pairs" else "examples"
    accuracy = share_interval(round(found["accuracy"] * held), held)
    table = Table(
        title=f"{card['name']}: held-out accuracy {accuracy.mean:.3f} [95% CI {accuracy.low:.3f},"
        f" {accuracy.high:.3f}] on {held} {noun}",
        caption=f"95% CI: Wilson score interval, over the held-out {noun} (accuracy) and over a"
        " family's prompts (its share)",
    )
    for column in ("probe family", "real beats probe", "95% CI", "prompts", "in training"):
        table.add_column(column)
    for family, row in found["families"].items():
        seen = "no (held out)" if row["held_out"] else "yes"
        wins = share_interval(round(row["real_beats_probe"] * row["n"]), row["n"])
        ci = f"{wins.low:.1%} – {wins.high:.1%}"
        table.add_row(family, f"{wins.mean:.1%}", ci, str(row["n"]), seen)
    console.print(table)
