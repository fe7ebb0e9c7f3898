"""The `bench` application: its options, its error line and its entry point."""

import functools
import os
import sys
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

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
Params = ParamSpec("Params")
Returned = TypeVar("Returned")


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


def one_line_errors(command: Callable[Params, Returned]) -> Callable[Params, Returned]:
    """Every command's error handling, in one place: a BenchError (bad input) and an OSError (a
    folder that cannot be read or written: missing, read-only, on a virtual filesystem such as
    /proc) print one line and exit 2; Ctrl-C prints `interrupted` and exits 130."""

    @functools.wraps(command)
    def guarded(*args: Params.args, **kwargs: Params.kwargs) -> Returned:
        try:
            return command(*args, **kwargs)
        except BenchError as error:
            fail(error)
        except OSError as error:
            where = f" '{error.filename}'" if error.filename else ""
            fail(BenchError(f"cannot use{where}: {error.strerror or error}"))
        except KeyboardInterrupt:
            errors.print("interrupted")
            raise typer.Exit(code=130) from None
        raise AssertionError("fail() always exits")  # pragma: no cover

    return guarded


def main() -> None:
    """Entry point for `python -m harness.cli`."""
    sys.exit(app())
