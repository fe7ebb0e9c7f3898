"""A sweep's tuning trials: read each selection.json below the report's paths, check it, say it.

selection.json (written by `bench sweep` at the root of its output folder) holds, per task and
algorithm, every trial's settings, tuning seeds, val score per seed and mean, and the winner;
with tune.extend_edges, also `extend_edges` and each trial's `extension` round (0: the grid).

A winner at an edge of the numeric values its algorithm tried (harness/sweep/edges.py) is
flagged in its ✓ cell and counted in the task's note: a value beyond that edge was never tried
and may do better. Extra trials are marked `(extra trial k)` after their settings.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.sweep.edges import Side, winner_edges
from reports.load import relative_name, report_root
from reports.pooling import flatten, show

SELECTION = "selection.json"
FAILED = "failed"  # a trial whose score is null: it failed or was not finite
DIGITS = 4  # val scores: one more decimal than the leaderboard, as trials are often close
HEADERS = ("algo", "trial settings", "tuning seeds", "val score per seed", "mean val score")
WINNER = "winner ✓"


class BadSelection(Exception):
    """A selection.json that cannot be shown; the message says why in a few words."""


@dataclass(frozen=True)
class Trial:
    """One tuning trial: its settings, tuning seeds, val score per seed and their mean."""

    settings: dict[str, Any]
    seeds: tuple[int, ...]
    scores: tuple[float | None, ...]
    score: float | None
    run_dirs: tuple[str, ...]
    extension: int = 0
    """0 for a grid trial; k for the k-th extra trial (tune.extend_edges)"""


@dataclass(frozen=True)
class AlgoTuning:
    """The trials of one algorithm on one task and the settings the sweep selected."""

    algo: str
    trials: tuple[Trial, ...]
    winner: dict[str, Any] | None
    edges: dict[str, Side]
    """winning key → the edge of the values tried it sits at (top or bottom)"""


@dataclass(frozen=True)
class Selection:
    """One selection.json: what it selected on, and per task the trials of each algorithm."""

    file: str
    """the selection.json relative to the report root (reports/load.py)"""
    select: str
    split: str
    allow_unequal: bool
    tasks: dict[str, tuple[AlgoTuning, ...]]
    extend_edges: int = 0
    """extra trials per algorithm after the grid (absent from older files: 0)"""


@dataclass(frozen=True)
class Tuning:
    """Every selection.json found and how many tuning runs (role tune) were left out of rows."""

    selections: tuple[Selection, ...]
    left_out: int


def find_selections(paths: list[Path]) -> list[Path]:
    """Every selection.json at or below `paths`, sorted."""
    found = {hit.resolve() for path in paths if path.is_dir() for hit in path.rglob(SELECTION)}
    return sorted(found)


def read_tuning(paths: list[Path], left_out: int) -> tuple[Tuning, list[str]]:
    """The selections below `paths` and one warning per selection.json that cannot be read."""
    selections, warnings = [], []
    root = report_root(paths)
    for path in find_selections(paths):
        try:
            selections.append(read_selection(path, relative_name(path, root)))
        except BadSelection as reason:
            warnings.append(f"skipped {relative_name(path, root)}: {reason}")
    return Tuning(tuple(selections), left_out), warnings


def read_selection(path: Path, file: str) -> Selection:
    """Parse and check one selection.json (shown as `file`) or raise BadSelection naming the
    first problem."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadSelection(f"{SELECTION} is not valid JSON ({error})") from None
    data = expect(data, dict, SELECTION)
    tasks = expect(data.get("tasks"), dict, "tasks")
    return Selection(
        file=file,
        select=expect(data.get("select"), str, "select"),
        split=expect(data.get("split"), str, "split"),
        allow_unequal=expect(data.get("allow_unequal"), bool, "allow_unequal"),
        tasks={
            str(task): tuple(
                read_algo(str(algo), entry, f"tasks.{task}.{algo}")
                for algo, entry in expect(algos, dict, f"tasks.{task}").items()
            )
            for task, algos in tasks.items()
        },
        extend_edges=count_of(data.get("extend_edges", 0), "extend_edges"),
    )


def read_algo(algo: str, entry: Any, where: str) -> AlgoTuning:
    """One algorithm's trials and winner (null when no trial could be scored)."""
    entry = expect(entry, dict, where)
    trials = expect(entry.get("trials"), list, f"{where}.trials")
    if not trials:
        raise BadSelection(f"{where}.trials is empty")
    winner = entry.get("winner")
    if winner is not None:
        expect(winner, dict, f"{where}.winner")
    read = [read_trial(trial, f"{where}.trials[{i}]") for i, trial in enumerate(trials)]
    edges = winner_edges([trial.settings for trial in read], winner) if winner else {}
    return AlgoTuning(algo, tuple(read), winner, edges)


def read_trial(trial: Any, where: str) -> Trial:
    """One trial; every seed has a score, and a score is a number or null."""
    trial = expect(trial, dict, where)
    seeds = expect(trial.get("seeds"), list, f"{where}.seeds")
    scores = expect(trial.get("scores"), list, f"{where}.scores")
    if len(seeds) != len(scores) or not all(is_int(seed) for seed in seeds):
        raise BadSelection(f"{where} needs one integer seed per score in scores")
    run_dirs = trial.get("run_dirs", [])
    return Trial(
        settings=expect(trial.get("settings"), dict, f"{where}.settings"),
        seeds=tuple(seeds),
        scores=tuple(score_of(score, f"{where}.scores") for score in scores),
        score=score_of(trial.get("score"), f"{where}.score"),
        run_dirs=tuple(str(d) for d in expect(run_dirs, list, f"{where}.run_dirs")),
        extension=count_of(trial.get("extension", 0), f"{where}.extension"),
    )


def expect(value: Any, kind: type, where: str) -> Any:
    """`value` if it is a `kind`, else BadSelection naming where and what was found."""
    if isinstance(value, kind):
        return value
    raise BadSelection(f"{where} should be a JSON {kind.__name__}, not {json.dumps(value)[:40]}")


def is_int(value: Any) -> bool:
    """True for an integer that is not a boolean."""
    return isinstance(value, int) and not isinstance(value, bool)


def count_of(value: Any, where: str) -> int:
    """An integer ≥ 0, else BadSelection naming where."""
    if is_int(value) and value >= 0:
        return value
    raise BadSelection(f"{where} should be an integer ≥ 0, not {json.dumps(value)[:40]}")


def score_of(value: Any, where: str) -> float | None:
    """A finite score, or None for null or a non-finite number (a failed trial)."""
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise BadSelection(f"{where} should be a number or null, not {json.dumps(value)[:40]}")
    return float(value) if math.isfinite(value) else None


def left_out_line(tuning: Tuning) -> str | None:
    """`12 tuning runs (role tune) are not rows; see Tuning` (None when there were none)."""
    n = tuning.left_out
    if n == 0:
        return None
    runs = f"{n} tuning run{'s' if n != 1 else ''} (role tune) {'are' if n != 1 else 'is'} not"
    where = "see Tuning" if tuning.selections else f"no readable {SELECTION}, so no Tuning section"
    return f"{runs} {'rows' if n != 1 else 'a row'}; {where}"


def budget_note(selection: Selection, task: str) -> str:
    """`3 trials per algorithm, selected on val by eval/reward`, or the unequal budgets; then
    the extra trials and the winners at an edge, if any."""
    counts = {entry.algo: len(entry.trials) for entry in selection.tasks[task]}
    how = f"selected on {selection.split} by {selection.select}{edge_note(selection, task)}"
    extra = selection.extend_edges
    if len(set(counts.values())) == 1 and not selection.allow_unequal:
        n = next(iter(counts.values()))
        split = f" ({n - extra} in the grid, {extra} extra: tune.extend_edges)" if extra else ""
        return f"{n} trial{'s' if n != 1 else ''} per algorithm{split}, {how}"
    first, *rest = counts.items()
    plural = "s" if first[1] != 1 else ""
    listed = ", ".join([f"{first[0]} {first[1]} trial{plural}", *(f"{a} {n}" for a, n in rest)])
    allowed = "allowed" if selection.allow_unequal else "(allow_unequal is false)"
    added = f" ({extra} extra each: tune.extend_edges)" if extra else ""
    return f"unequal tuning budgets {allowed}: {listed}{added}; {how}"


def edge_note(selection: Selection, task: str) -> str:
    """`; 2 winners at an edge of their grid, where a value beyond may do better (flagged in
    the winner column)`, or nothing."""
    n = sum(1 for entry in selection.tasks[task] if entry.edges)
    if not n:
        return ""
    tried = "grid and extra trials" if selection.extend_edges else "grid"
    who = f"{n} winners at an edge of their" if n != 1 else "1 winner at an edge of its"
    return f"; {who} {tried}, where a value beyond may do better (flagged in the winner column)"


def edge_text(edges: dict[str, Side]) -> str:
    """`top edge: a larger lr may do better` for each key at an edge, joined by `; `."""
    return "; ".join(
        f"{side} edge: a {'larger' if side == 'top' else 'smaller'} {key} may do better"
        for key, side in edges.items()
    )


def number(score: float | None) -> str:
    """A val score with DIGITS decimals, or `failed`."""
    return FAILED if score is None else f"{score:.{DIGITS}f}"


def trial_cells(entry: AlgoTuning, trial: Trial) -> list[str]:
    """The cells of one trial's line, in HEADERS order, then ✓ for the winner."""
    flat: dict[str, Any] = {}
    for key, value in trial.settings.items():
        flatten(key, value, flat)
    settings = ", ".join(f"{key}={show(value)}" for key, value in flat.items())
    won = entry.winner is not None and trial.settings == entry.winner
    extra = f" (extra trial {trial.extension})" if trial.extension else ""
    return [
        entry.algo,
        (settings or "(defaults)") + extra,
        ", ".join(map(str, trial.seeds)),
        ", ".join(number(score) for score in trial.scores),
        number(trial.score),
        " ".join(["✓", edge_text(entry.edges)]).strip() if won else "",
    ]


def selection_record(selection: Selection) -> dict[str, Any]:
    """One selection.json as leaderboard.json shows it: its file, notes and content (checked)."""
    return {
        "file": selection.file,
        "notes": {task: budget_note(selection, task) for task in selection.tasks},
        "select": selection.select,
        "split": selection.split,
        "allow_unequal": selection.allow_unequal,
        "extend_edges": selection.extend_edges,
        "tasks": {
            task: {
                entry.algo: {
                    "trials": [vars(trial) for trial in entry.trials],
                    "winner": entry.winner,
                    "edges": entry.edges,
                }
                for entry in entries
            }
            for task, entries in selection.tasks.items()
        },
    }


def tuning_record(tuning: Tuning) -> dict[str, Any]:
    """leaderboard.json's `tuning`: the runs left out of rows and every selection.json."""
    return {
        "left_out": tuning.left_out,
        "line": left_out_line(tuning),
        "selections": [selection_record(selection) for selection in tuning.selections],
    }
