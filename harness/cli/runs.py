"""`bench list`, `run`, `export`, `validate` and `reward train|card`: one run and what it is
made of."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.api import registry
from harness.cli.app import app, console, one_line_errors
from harness.data.task_files import task_entries
from harness.launch import build_config


@app.command("list")
@one_line_errors
def list_command() -> None:
    """List tasks, rewards, algorithms and policies."""
    for kind in registry.KINDS:
        console.print(f"[bold]{kind.capitalize()}[/]")
        found = task_entries() if kind == "tasks" else registry.entries(kind)
        for entry in found.values():
            console.print(f"  {entry.name:<14} {entry.description}", highlight=False)
            parts = preset_parts(entry.name) if kind == "algorithms" else None
            if parts:
                console.print(f"  {'':<14} = {parts}", highlight=False)
        if kind == "policies":
            console.print(
                f"  {'<hub id|path>':<14} any causal LM transformers can load", highlight=False
            )


def preset_parts(name: str) -> str | None:
    """A built-in preset's decomposition (its update and the parts it pins); else None."""
    from baselines.preset_table import PRESETS, parts_line  # torch-free

    return parts_line(name) if name in PRESETS else None


@app.command("run")
@one_line_errors
def run_command(
    task: Annotated[str | None, typer.Argument(help="task name (see `bench list`)")] = None,
    algo: Annotated[str | None, typer.Option("--algo", help="algorithm name")] = None,
    policy: Annotated[
        str | None, typer.Option("--policy", help="smollm2-135m | tiny | hub id | local folder")
    ] = None,
    samples: Annotated[
        int | None, typer.Option("--samples", help="budget: completions sampled")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="random seed")] = None,
    out: Annotated[str | None, typer.Option("--out", help="root of run directories")] = None,
    device: Annotated[str | None, typer.Option("--device", help="cpu | cuda | cuda:N")] = None,
    precision: Annotated[
        str | None,
        typer.Option("--precision", help="fp32 | bf16 (autocast; faster, never pooled with fp32)"),
    ] = None,
    override: Annotated[
        list[str] | None,
        typer.Option("-o", "--override", help="key=value, e.g. -o rollout.kl_coef=0.1 -o lr=3e-5"),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="a config.json to replay (flags override it)")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="continue this config's run from its checkpoint (a finished one is left as is)",
        ),
    ] = False,
    keep_checkpoints: Annotated[
        bool, typer.Option("--keep-checkpoints", help="keep the last checkpoint when done")
    ] = False,
    save_policy: Annotated[
        bool,
        typer.Option("--save-policy", help="write the trained policy to RUN_DIR/policy (HF)"),
    ] = False,
    log: Annotated[
        list[str] | None,
        typer.Option("--log", help="also log to tensorboard | wandb (repeat or comma-separate)"),
    ] = None,
) -> None:
    """Train one algorithm on one task under a budget, evaluate before and after."""
    run_config = build_config(
        task,
        algo,
        policy=policy,
        samples=samples,
        seed=seed,
        out=out,
        device=device,
        overrides=[
            *([f"precision={precision}"] if precision else []),
            *(override or []),
            *(["checkpoint.keep=true"] if keep_checkpoints else []),
            *([f"log={','.join(log)}"] if log else []),
        ],
        config_file=config,
    )
    from harness.run.runner import execute

    execute(run_config, console, resume, save_policy)  # build_config resolved and checked it


@app.command("export")
@one_line_errors
def export_command(
    run_dir: Annotated[Path, typer.Argument(help="a run directory with a kept checkpoint")],
    out: Annotated[
        Path | None, typer.Option("--out", help="folder to write (default RUN_DIR/policy)")
    ] = None,
) -> None:
    """Write a run's checkpoint as a Hugging Face policy folder (`--policy PATH` loads it)."""
    from harness.run.export import export_checkpoint

    console.print(f"policy       {export_checkpoint(run_dir, out)}", highlight=False)


@app.command("validate")
@one_line_errors
def validate_command(
    target: Annotated[str, typer.Argument(help="a task file (.yaml) or a task name")],
    count: Annotated[int, typer.Option("--count", help="examples to render")] = 3,
) -> None:
    """Check a task and render a few prompts and references, each scored against itself."""
    from harness.data.task_files import validate

    for line in validate(target, count):
        console.print(line, highlight=False, markup=False)


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
    epochs: Annotated[int | None, typer.Option("--epochs", help="default 1")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="default 0")] = None,
) -> None:
    """Train a reward model, a recipe or from a file (Bradley–Terry on pairs, CE on labels)."""
    from tasks.rewards.training_cli import train_from_cli

    card, folder = train_from_cli(name, data, kind, out, max_examples, epochs, seed)
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
    from tasks.rewards.cards import summary
    from tasks.rewards.training_cli import card_from_cli

    card = card_from_cli(target)
    found = summary(card)
    if as_json:
        print(json.dumps(found, indent=2))
        return
    table = Table(title=f"{card['name']}: held-out accuracy {found['accuracy']:.3f}")
    for column in ("probe family", "real beats probe", "prompts", "in training"):
        table.add_column(column)
    for family, row in found["families"].items():
        seen = "no (held out)" if row["held_out"] else "yes"
        table.add_row(family, f"{row['real_beats_probe']:.1%}", str(row["n"]), seen)
    console.print(table)
