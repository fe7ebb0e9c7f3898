"""The sweep's table: one row per run with its state, read from the run directories.

A running run's progress comes from its metrics.jsonl (flushed after every update), so the
same table works for the local executor and for Ray on a shared filesystem.
"""

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rich.table import Table
from rich.text import Text

from harness.config.run_config import RunConfig
from harness.rundir.layout import run_dir_for
from harness.rundir.lock import lock_path
from harness.sweep.edges import winner_edges
from harness.sweep.plan import Plan
from harness.sweep.selection import Choice

State = Literal["queued", "running", "done", "failed", "skipped"]
STYLES: dict[str, str] = {
    "queued": "dim",
    "running": "cyan",
    "done": "green",
    "failed": "red",
    "skipped": "yellow",
}
CLOCK_SLACK = 2.0  # seconds: a lock file touched this long before submission is a new one


@dataclass(frozen=True)
class Entry:
    """One row: a run, the settings it shows, and where it stands."""

    config: RunConfig
    settings: str
    state: State = "queued"
    reason: str = ""
    submitted: float | None = None
    """time.time() when it was handed to the executor"""


def settings_text(settings: Mapping[str, Any]) -> str:
    """'lr=0.001, clip_eps=0.2', or '-' without grid settings."""
    return ", ".join(f"{key}={value}" for key, value in settings.items()) or "-"


def has_started(run_dir: Path, submitted: float) -> bool:
    """True once the worker holds the run's lock (a lock file newer than the submission)."""
    try:
        return lock_path(run_dir).stat().st_mtime >= submitted - CLOCK_SLACK
    except OSError:
        return False


def last_rows(path: Path, tail_bytes: int = 65536) -> list[dict[str, Any]] | None:
    """The whole JSON lines in the last `tail_bytes` of a JSONL file (None: no file yet)."""
    try:
        with path.open("rb") as handle:
            start = max(0, path.stat().st_size - tail_bytes)
            handle.seek(start)
            lines = handle.read().decode(errors="replace").splitlines()[1 if start else 0 :]
    except OSError:
        return None
    rows = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line being written
    return rows


def progress_text(run_dir: Path, samples: int | None) -> str:
    """'update 3 · samples 24/64 · reward 0.212' from the last lines of metrics.jsonl."""
    rows = last_rows(run_dir / "metrics.jsonl")
    if rows is None:
        return "starting"
    train = [row for row in rows if row.get("kind") == "train"]
    if rows and rows[-1].get("label") == "after":
        return "final evaluation"
    if not train:
        return "evaluating the start policy"
    last = train[-1]
    seen = f"{last.get('samples_seen')}/{samples}" if samples else str(last.get("samples_seen"))
    fit = (  # a supervised update has no reward, only the references' NLL
        f"reward {last['train/reward']:.3f}"
        if "train/reward" in last
        else f"nll {last.get('train/nll', math.nan):.3f}"
    )
    return f"update {last.get('update')} · samples {seen} · {fit}"


def state_text(entry: Entry) -> Text:
    """The state cell: the state and, while running, the run's progress."""
    state = entry.state
    detail = entry.reason
    if state == "queued" and entry.submitted is not None:
        run_dir = run_dir_for(entry.config)
        if has_started(run_dir, entry.submitted):
            state, detail = "running", progress_text(run_dir, entry.config.budget.samples)
    text = Text(state, style=STYLES[state])
    if detail:
        text.append(f" ({detail})" if state != "running" else f" · {detail}")
    return text


def sweep_table(
    entries: list[Entry], width: int = 200, title: str | None = None, states: bool = True
) -> Table:
    """Every run: task, algo, seed, role, settings and (with `states`) its state, cut to fit."""
    rows = [
        [e.config.task, e.config.algo, str(e.config.seed), e.config.role, e.settings]
        for e in entries
    ]
    table = Table(title=title, title_justify="left", expand=False)
    used = 1
    for index, column in enumerate(("task", "algo", "seed", "role", "settings")):
        widest = max([len(column), *(len(row[index]) for row in rows)])
        table.add_column(column, no_wrap=True)
        used += widest + 3  # padding on both sides and a border
    # only the state is cut when the terminal is narrow; problem_lines print whole reasons
    if states:
        room = max(12, width - used - 3)
        table.add_column("state", no_wrap=True, overflow="ellipsis", max_width=room)
    for row, entry in zip(rows, entries, strict=True):
        table.add_row(*row, *([state_text(entry)] if states else []))
    return table


def problem_lines(entries: Iterable[Entry]) -> list[str]:
    """One line per failed run and per run locked elsewhere, with its whole reason."""
    return [
        f"{entry.state:<12} {entry.config.task} · {entry.config.algo} · seed "
        f"{entry.config.seed} · {entry.config.role} · {entry.settings}: {entry.reason}"
        for entry in entries
        if entry.state == "failed" or entry.reason.startswith("locked")
    ]


def extra_text(round_: int, rounds: int) -> str:
    """`extra trial 1 of 2`: the label of a trial added after the grid (tune.extend_edges)."""
    return f"extra trial {round_} of {rounds}"


def plan_entries(plan: Plan) -> list[Entry]:
    """Queued rows for every run: tuning trials, the extra trials' rows (placeholders, with the
    group's first trial's config, until the gate adds each one), then report runs (settings:
    the winner's)."""
    entries = [Entry(run.config, settings_text(run.settings)) for run in plan.tuning]
    for task, algo in plan.candidates:
        for round_ in range(1, plan.extra_trials + 1):
            label = extra_text(round_, plan.extra_trials)
            entries.extend(Entry(run.config, label) for run in plan.tuning_runs(task, algo, 0))
    for trials in plan.candidates.values():
        settings = settings_text(trials[0][0].settings)
        if plan.spec.tune is not None:
            settings = f"winner of {len(trials) + plan.extra_trials} trials"
        entries.extend(Entry(run.config, settings) for run in trials[0])
    return entries


def summary_line(entries: list[Entry], out: str) -> str:
    """'8 runs: 6 done, 0 failed, 2 skipped · output DIR · next: bench report DIR'."""
    counts = Counter(entry.state for entry in entries)
    parts = ", ".join(f"{counts[state]} {state}" for state in ("done", "failed", "skipped"))
    if counts["queued"]:
        parts += f", {counts['queued']} not started"
    return f"{len(entries)} runs: {parts} · output {out} · next: bench report {out}"


def selection_lines(choices: list[Choice], select: str) -> list[str]:
    """One line per task and algorithm: the winner and its mean val score, or why none."""
    lines = []
    for choice in choices:
        head = f"selection    {choice.task} · {choice.algo}: "
        if choice.winner is None:
            lines.append(head + f"no winner: {choice.reason}")
            continue
        best = choice.trials[choice.winner]
        lines.append(
            head + f"{settings_text(best.settings)} (val {select} {best.score:.4f}, "
            f"best of {len(choice.trials)} trials over seeds {list(best.seeds)})"
        )
    return lines


def edge_lines(choices: list[Choice], extra_trials: int) -> list[str]:
    """One line per winning value at an edge of the values its algorithm tried (edges.py)."""
    lines = []
    for choice in choices:
        if choice.winner is None:
            continue
        settings = choice.trials[choice.winner].settings
        for key, side in winner_edges([t.settings for t in choice.trials], settings).items():
            where, beyond = ("largest", "larger") if side == "top" else ("smallest", "smaller")
            plural = "s" if extra_trials != 1 else ""
            tried = (
                f"its grid and {extra_trials} extra trial{plural}" if extra_trials else "its grid"
            )
            hint = "" if extra_trials else "; tune.extend_edges: N tries up to N values beyond it"
            lines.append(
                f"edge         {choice.task} · {choice.algo}: {key}={settings[key]} is the "
                f"{where} value of {tried} (the {side} edge): a {beyond} value may do better"
                f"{hint}"
            )
    return lines
