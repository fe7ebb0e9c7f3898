"""`bench report`: read run directories, pool them honestly, write the four report files and
each figure as a PNG beside them (`TASK-NAME.png`, for papers)."""

import re
import shutil
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from harness.api.errors import BenchError
from reports.aggregate import build_tables
from reports.html import page
from reports.load import load_runs
from reports.plots import table_plots
from reports.publish import COPY_FOLDER, copy_results, overlapping
from reports.samples import sample_views
from reports.tables import csv_text, json_text, markdown
from reports.tuning import left_out_line, read_tuning

FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "index.html")
REBUILT = 3  # the first three FILES carry no samples: a copy of the results rebuilds them exactly


def build_report(
    paths: list[Path],
    out: Path,
    allow_mixed: bool,
    console: Console,
    copy: bool = False,
    ci: str = "t",
) -> None:
    """Write leaderboard.md/.csv/.json, a self-contained index.html and the figures as PNGs for
    the runs in `paths` (intervals by method `ci`); with `copy`, also the results they were
    built from (reports/publish.py) in `out/runs`."""
    if out.exists() and not out.is_dir():
        raise BenchError(f"--out '{out}' exists and is not a directory")
    copied = out / COPY_FOLDER
    if copy and overlapping(paths, copied):
        raise BenchError(f"--copy-results: '{copied}' overlaps the runs reported (another --out)")
    texts, figures, summary = report_texts(paths, allow_mixed, console, ci)
    out.mkdir(parents=True, exist_ok=True)
    if copy:
        replace_copy(paths, copied, texts[:REBUILT], allow_mixed, ci)
        summary += f" · results copied → {copied}"
    for name, text in zip(FILES, texts, strict=True):
        (out / name).write_text(text, encoding="utf-8")
    for name, png in figures.items():
        (out / name).write_bytes(png)
    shown = f"{out}/{{{','.join(FILES)}}} and {len(figures)} PNGs"
    console.print(f"{summary} → {shown}", highlight=False)


def replace_copy(
    paths: list[Path], copied: Path, texts: tuple[str, ...], allow_mixed: bool, ci: str
) -> None:
    """Copy the results into a staging folder; if they rebuild `texts`, make it `copied`."""
    staging = copied.with_name(f".{copied.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    copy_results(paths, staging)
    rebuilt, _, _ = report_texts([staging], allow_mixed, Console(quiet=True), ci)
    if rebuilt[: len(texts)] != texts:
        shutil.rmtree(staging)
        raise BenchError(f"the results copied from {', '.join(map(str, paths))} do not rebuild "
                         "this report; nothing was written")  # fmt: skip
    shutil.rmtree(copied, ignore_errors=True)
    staging.rename(copied)


def report_texts(
    paths: list[Path], allow_mixed: bool, console: Console, ci: str = "t"
) -> tuple[tuple[str, ...], dict[str, bytes], str]:
    """The texts of FILES, the figures by file name and a one-line summary for the runs in
    `paths`; warnings printed."""
    loaded, skipped = load_runs(paths)
    runs = [run for run in loaded if not run.tuning]  # a sweep's tuning trials are never rows
    tuning, unreadable = read_tuning(paths, left_out=len(loaded) - len(runs))
    skipped += unreadable
    for line in skipped:
        console.print(f"[yellow]warning:[/] {escape(line)}", highlight=False, markup=True)
    left_out = left_out_line(tuning)
    if left_out:
        console.print(f"tuning       {left_out}", highlight=False)
    if not runs:
        shown = ", ".join(map(str, paths))
        raise BenchError(f"no finished report or anchor run directories under {shown}")
    tables, warnings = build_tables(runs, allow_mixed, ci)
    for line in warnings:
        console.print(f"[yellow]warning:[/] {escape(line)}", highlight=False, markup=True)
    notes = [*warnings, *skipped]
    plots = {table.task: table_plots(table) for table in tables}
    views = {table.task: sample_views(table) for table in tables}
    texts = (
        markdown(tables, notes, tuning),
        csv_text(tables),
        json_text(tables, notes, tuning),
        page(tables, notes, plots, views, tuning),
    )
    rows = sum(len(table.rows) for table in tables)
    summary = (
        f"report       {len(runs)} runs · {len(tables)} task(s) · {rows} rows"
        f" · {len(skipped)} skipped"
    )
    figures = {
        f"{re.sub(r'[^A-Za-z0-9._-]+', '-', task).strip('-')}-{plot.name}.png": plot.png
        for task, task_plots in plots.items()
        for plot in task_plots
    }
    return texts, figures, summary
