"""The `bench` application: its options, its error line and its entry point."""

import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from harness.api.errors import BenchError

app = typer.Typer(
    help="rl-lm-bench: train and compare RL algorithms for language models under equal budgets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
errors = Console(stderr=True)
DEBUG = "BENCH_DEBUG"  # set by `bench --debug`: errors also print their traceback


@app.callback()
def options(
    debug: Annotated[
        bool, typer.Option("--debug", help="on an error, also print the Python traceback")
    ] = False,
) -> None:
    """rl-lm-bench: train and compare RL algorithms for language models under equal budgets."""
    if debug:
        os.environ[DEBUG] = "1"


def fail(error: BenchError) -> None:
    """Print one line and exit with code 2 (bad input); the traceback only with --debug."""
    if os.environ.get(DEBUG) == "1":
        errors.print_exception()
    errors.print(
        f"[red]error:[/] {escape(str(error))}", markup=True, highlight=False, soft_wrap=True
    )
    raise typer.Exit(code=2)


def main() -> None:
    """Entry point for `python -m harness.cli`."""
    sys.exit(app())
