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

FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "index.html")


def build_report(paths: list[Path], out: Path, allow_mixed: bool, console: Console) -> None:
    """Write leaderboard.md/.csv/.json and a self-contained index.html for the runs in `paths`."""
    runs, skipped = load_runs(paths)
    for line in skipped:
        console.print(f"[yellow]warning:[/] {escape(line)}", highlight=False, markup=True)
    if not runs:
        raise BenchError(f"no finished run directories under {', '.join(map(str, paths))}")
    tables, warnings = build_tables(runs, allow_mixed)
    for line in warnings:
        console.print(f"[yellow]warning:[/] {escape(line)}", highlight=False, markup=True)
    notes = [*warnings, *skipped]
    plots = {table.task: table_plots(table) for table in tables}
    views = {table.task: sample_views(table) for table in tables}
    texts = (
        markdown(tables, notes),
        csv_text(tables),
        json_text(tables, notes),
        page(tables, notes, plots, views),
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
