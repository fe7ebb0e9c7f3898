"""`bench report`, `bench ls` and `bench show`: leaderboards from run directories, and browsing
them; none of them imports torch."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from harness.api.errors import BenchError
from harness.cli.app import app, console, one_line_errors


@app.command("report")
@one_line_errors
def report_command(
    paths: Annotated[list[Path], typer.Argument(help="run directories or roots holding them")],
    out: Annotated[Path, typer.Option("--out", help="folder for the report files")] = Path(
        "report"
    ),
    allow_mixed: Annotated[
        bool,
        typer.Option(
            "--allow-mixed",
            help="report runs whose shared settings differ as separate rows (with a warning)",
        ),
    ] = False,
    copy_results: Annotated[
        bool,
        typer.Option(
            "--copy-results",
            help="also copy each run's config.json and result.json and each selection.json"
            " (no checkpoints, samples or weights) to OUT/runs, from which `bench report"
            " OUT/runs` rebuilds the md, csv and json byte for byte (checked before writing)",
        ),
    ] = False,
    ci: Annotated[
        str,
        typer.Option(
            "--ci",
            help="interval over seeds: t (Student-t, the default: holds at 3-10 seeds) or"
            " bootstrap (percentile; too narrow at a handful of seeds)",
        ),
    ] = "t",
) -> None:
    """Build leaderboards (Markdown, CSV, JSON, HTML, PNGs) from run directories; no torch."""
    from harness.metrics.stats import CI_METHODS
    from reports.build import build_report

    if ci not in CI_METHODS:
        raise BenchError(f"unknown --ci {ci!r}; choose one of {', '.join(CI_METHODS)}")
    build_report(paths, out, allow_mixed, console, copy=copy_results, ci=ci)


@app.command("ls")
@one_line_errors
def ls_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="run directories or roots (default: runs)")
    ] = None,
    sort: Annotated[
        str, typer.Option("--sort", help="task | algo | seed | reward | gain | kl | time")
    ] = "task",
    task: Annotated[str | None, typer.Option("--task", help="only this task's runs")] = None,
    algo: Annotated[str | None, typer.Option("--algo", help="only this algorithm's runs")] = None,
) -> None:
    """List run directories: status, samples, test reward change with its CI, KL, time; no torch."""
    from reports.browse import scan
    from reports.listing import check_sort, ls_table, select, sort_entries, summary_line

    check_sort(sort)
    entries, warnings = scan(paths or [Path("runs")])
    shown = sort_entries(select(entries, task, algo), sort)
    if shown:
        console.print(ls_table(shown, console.width))
    for line in warnings:
        console.print(f"[yellow]warning:[/] {escape(line)}", highlight=False)
    console.print(summary_line(shown, warnings), highlight=False)


@app.command("show")
@one_line_errors
def show_command(
    run_dir: Annotated[Path, typer.Argument(help="one run directory")],
    examples: Annotated[
        int, typer.Option("--examples", help="best and worst held-out samples to show", min=0)
    ] = 2,
) -> None:
    """Show one run: settings that differ from the defaults, reward curve, test change, samples."""
    from reports.show import show_lines

    for line in show_lines(run_dir, examples):
        console.print(line, highlight=False, markup=False)
