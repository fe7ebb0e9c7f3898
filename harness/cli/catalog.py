"""`bench list` and `bench validate`: what there is to run, and whether a task is sound."""

from typing import Annotated

import typer

from harness.api import registry
from harness.cli.app import app, console, one_line_errors
from harness.data.task_files import task_entries


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
