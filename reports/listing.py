"""`bench ls`: filter, sort and tabulate the entries that reports/browse.py reads."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from harness.api.errors import unknown_choice
from harness.api.schema import ANCHOR, BUDGET_REASONS
from reports.browse import Entry, shown_name, shown_path

# Column → (sort value, descending). Rewards and gains sort best first, KL and time least first;
# runs without the value come last, ties go by task, algo, seed and path.
SORTS: dict[str, tuple[Callable[[Entry], Any], bool]] = {
    "task": (lambda e: e.task, False),
    "algo": (lambda e: e.algo, False),
    "seed": (lambda e: e.seed, False),
    "reward": (lambda e: e.after, True),
    "gain": (lambda e: e.gain.mean if e.gain else None, True),
    "kl": (lambda e: e.kl, False),
    "time": (lambda e: e.wall_seconds, False),
}
SORT_KEYS = tuple(SORTS)
STATUS_STYLES = {"running": "cyan", "unfinished": "yellow", "corrupt": "red", "unreadable": "red"}
NONE = "—"
# Column → its header when its cells are split over two lines to fit a narrow terminal (a path
# is never split: it is copied into `bench show`).
WRAPPED = {
    "status": "status",
    "Δ test [95% CI]": "Δ test\n[95% CI]",
    "time (train)": "time\n(train)",
    "algo (role)": "algo\n(role)",
    "test reward": "test\nreward",
}
COLUMNS = ("task", "algo (role)", "seed", "status", "samples", "test reward", "Δ test [95% CI]")
COLUMNS += ("KL", "time (train)", "path")
RIGHT = ("seed", "samples", "KL", "time (train)")


def select(entries: list[Entry], task: str | None, algo: str | None) -> list[Entry]:
    """The entries of `task` and `algo` (when given); an unknown name is a did-you-mean error."""
    if task is not None:
        entries = matching(entries, "task", task, lambda e: e.task)
    if algo is not None:
        entries = matching(entries, "algorithm", algo, lambda e: e.algo)
    return entries


def matching(
    entries: list[Entry], kind: str, wanted: str, name: Callable[[Entry], str]
) -> list[Entry]:
    """The entries whose `name` is `wanted`; BenchError with a did-you-mean when there is none."""
    names = {name(e) for e in entries} - {"?"}
    if entries and wanted not in names:
        raise unknown_choice(kind, wanted, names)
    return [e for e in entries if name(e) == wanted]


def check_sort(column: str) -> None:
    """Refuse a --sort column that is not one of SORT_KEYS (before any directory is read)."""
    if column not in SORTS:
        raise unknown_choice("sort column", column, SORT_KEYS)


def sort_entries(entries: list[Entry], column: str) -> list[Entry]:
    """Entries sorted by a column of SORT_KEYS; BenchError naming the choices otherwise."""
    check_sort(column)
    value, descending = SORTS[column]
    ordered = sorted(entries, key=lambda e: (e.task, e.algo, e.seed is None, e.seed or 0, e.path))
    present = [e for e in ordered if value(e) is not None]
    present.sort(key=value, reverse=descending)  # stable: ties keep the order above
    return present + [e for e in ordered if value(e) is None]


def ls_table(entries: list[Entry], width: int = 200) -> Table | Group:
    """The `bench ls` table, one row per run, in the first layout that fits `width`: one line
    per run, then (one task) the task as the title, then two-part cells over two lines; failing
    all, one short block of lines per run."""
    rows = [row_cells(entry) for entry in entries]
    tasks = {entry.task for entry in entries}
    title = tasks.pop() if len(tasks) == 1 else None
    layouts = [(False, None), (False, title), (True, None), (True, title)]
    measure = Console(width=10_000).measure
    for wrapped, task in dict.fromkeys(layouts):
        table = build_table(rows, wrapped, task)
        if measure(table).maximum <= width:
            return table
    return Group(*(line for row in rows for line in run_block(row)))


def run_block(row: list[Text]) -> list[Text]:
    """A run on three lines: its path, then what it is, then its results."""
    task, algo, seed, status, samples, reward, gain, kl, time, path = row
    parts = [(task, ""), (algo, ""), (seed, "seed "), (status, ""), (samples, "samples ")]
    results = [(reward, "test reward "), (gain, "Δ "), (kl, "KL "), (time, "time ")]
    return [
        Text(path.plain, style="bold"),
        Text("  ").append(Text(" · ").join(Text(label).append(cell) for cell, label in parts)),
        Text("  ").append(Text(" · ").join(Text(label).append(cell) for cell, label in results)),
    ]


def row_cells(e: Entry) -> list[Text]:
    """The cells of one entry, in COLUMNS order."""
    return [
        Text(e.task),
        Text(e.algo).append(f" ({shown_name(e.role)})", style="dim"),
        Text(NONE if e.seed is None else str(e.seed)),
        status_text(e),
        Text(samples_text(e)),
        Text(reward_text(e)),
        gain_text(e),
        Text(NONE if e.kl is None else f"{e.kl:.4f}"),
        Text(time_text(e)),
        Text(shown_path(Path(e.path))),
    ]


def build_table(rows: list[list[Text]], wrapped: bool, task: str | None) -> Table:
    """A table of `rows`; `wrapped`: the WRAPPED columns split at their first space; `task`:
    named in the title instead of a task column."""
    title = None if task is None else f"task {task}"
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, title=title, title_justify="left")
    shown = [i for i, name in enumerate(COLUMNS) if task is None or name != "task"]
    for name in (COLUMNS[i] for i in shown):
        header = WRAPPED[name] if wrapped and name in WRAPPED else name
        table.add_column(header, no_wrap=True, justify="right" if name in RIGHT else "left")
    for row in rows:
        cells = [(COLUMNS[i], row[i]) for i in shown]
        table.add_row(*(split(c) if wrapped and n in WRAPPED else c for n, c in cells))
    return table


def split(text: Text) -> Text:
    """'finished (samples)' → 'finished' over '(samples)', styles kept."""
    cut = text.plain.find(" ")
    return text if cut < 0 else Text("\n").join([text[:cut], text[cut + 1 :]])


def status_text(entry: Entry) -> Text:
    """'finished (samples)' green, '(interrupted)' yellow, 'running' cyan, 'corrupt' red."""
    if entry.status != "finished":
        where = f" on {entry.host}" if entry.host else ""
        return Text(entry.status + where, style=STATUS_STYLES[entry.status])
    normal = entry.stop_reason in (*BUDGET_REASONS, ANCHOR)
    reason = shown_name(entry.stop_reason)
    return Text(f"finished ({reason})", style="green" if normal else "yellow")


def samples_text(entry: Entry) -> str:
    """'64', or '32/64' while unfinished; an anchor row spends none."""
    if entry.samples is None or entry.role == ANCHOR:
        return NONE
    if entry.status == "finished" or entry.budget is None:
        return f"{entry.samples:.0f}"
    return f"{entry.samples:.0f}/{entry.budget:.0f}"


def reward_text(entry: Entry) -> str:
    """'0.100 → 0.200'; an anchor row's one value; '0.100 → …' while no after evaluation exists."""
    before = NONE if entry.before is None else f"{entry.before:.3f}"
    if entry.role == ANCHOR and entry.after is not None:
        return f"{entry.after:.3f}"
    if entry.after is None:
        return NONE if entry.before is None else f"{before} → …"
    return f"{before} → {entry.after:.3f}"


def gain_text(entry: Entry) -> Text:
    """'+0.100 [+0.050, +0.150]', green (red) when the CI lies above (below) zero."""
    gain = entry.gain
    if gain is None:
        return Text(NONE)
    style = "green" if gain.low > 0 else "red" if gain.high < 0 else ""
    return Text(f"{gain.mean:+.3f} [{gain.low:+.3f}, {gain.high:+.3f}]", style=style)


def clock(seconds: float) -> str:
    """'0:38', '3:12', '1:02:05'."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def time_text(entry: Entry) -> str:
    """'3:40 (3:12)': training plus evaluation, and training alone in brackets."""
    if entry.wall_seconds is None:
        return NONE
    if entry.train_seconds is None or entry.role == ANCHOR:  # an anchor row does not train
        return clock(entry.wall_seconds)
    return f"{clock(entry.wall_seconds)} ({clock(entry.train_seconds)})"


def plural(count: int, noun: str) -> str:
    """'1 run', '3 runs'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary_line(entries: list[Entry], warnings: list[str]) -> str:
    """'5 runs: 3 finished, 1 running, 1 unfinished · 2 warnings'."""
    statuses = [e.status for e in entries]
    parts = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
    line = plural(len(entries), "run") + (f": {parts}" if parts else "")
    return line + (f" · {plural(len(warnings), 'warning')}" if warnings else "")
