"""`bench report`: read run directories, pool them honestly, write the four report files."""

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from harness.api.errors import BenchError
from reports.aggregate import build_tables
from reports.html import page
from reports.load import load_runs
from reports.plots import table_plots
from reports.samples import sample_views
from reports.tables import csv_text, json_text, markdown
from reports.tuning import left_out_line, read_tuning

FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "index.html")


def build_report(paths: list[Path], out: Path, allow_mixed: bool, console: Console) -> None:
    """Write leaderboard.md/.csv/.json and a self-contained index.html for the runs in `paths`."""
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
        raise BenchError(f"no finished report or baseline run directories under {shown}")
    tables, warnings = build_tables(runs, allow_mixed)
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
    if out.exists() and not out.is_dir():
        raise BenchError(f"--out '{out}' exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    for name, text in zip(FILES, texts, strict=True):
        (out / name).write_text(text, encoding="utf-8")
    rows = sum(len(table.rows) for table in tables)
    console.print(
        f"report       {len(runs)} runs · {len(tables)} task(s) · {rows} rows"
        f" · {len(skipped)} skipped → {out}/{{{','.join(FILES)}}}",
        highlight=False,
    )
