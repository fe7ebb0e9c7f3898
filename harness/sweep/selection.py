"""Selection: each tuning trial's val score from its result.json, the winner, selection.json.

A trial's score is its `select` metric on val at its final evaluation, averaged over the tuning
seeds. The winner has the highest score (ties: the first in grid order, the grid before any
extra trial); a trial with a failed or non-finite run has no score and ranks last. With
tune.extend_edges, the trials after the grid's follow in selection.json, each with its
`extension` round (grid trials: 0), and the spec's `extend_edges` is recorded; without it the
file is as it always was. `bench report` reads selection.json.
"""

import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from harness.api.schema import BUDGET_REASONS
from harness.data.task_files import task_name
from harness.rundir.layout import run_dir_for, write_json
from harness.sweep.plan import ExtraTrial, Plan, PlannedRun

SELECTION_FILE = "selection.json"
SELECT_SPLIT = "val"


@dataclass(frozen=True)
class TrialScore:
    """One grid combination's scores over the tuning seeds."""

    settings: Mapping[str, Any]
    seeds: tuple[int, ...]
    scores: tuple[float | None, ...]
    score: float | None
    """mean over seeds; None when a seed has no finite score"""
    run_dirs: tuple[Path, ...]
    problem: str | None
    """why the trial has no score (None when it has one)"""
    extension: int = 0
    """0 for a grid trial; k for its algorithm's k-th extra trial (tune.extend_edges)"""


@dataclass(frozen=True)
class Choice:
    """The selection for one task and algorithm."""

    task: str
    algo: str
    trials: tuple[TrialScore, ...]
    winner: int | None
    """index of the winning trial; None when no trial has a score, or tuning is incomplete"""
    reason: str = ""
    """why there is no winner"""


def score_of(run_dir: Path, select: str) -> tuple[float | None, str | None]:
    """A tuning run's score and, when it has none, why (one line)."""
    try:
        result = json.loads((run_dir / "result.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None, f"{run_dir.name} has no readable result.json"
    if result.get("stop_reason") not in BUDGET_REASONS:
        return None, f"{run_dir.name} stopped: {result.get('stop_reason')}"
    metrics = (result.get("eval_after") or {}).get(SELECT_SPLIT) or {}
    if select not in metrics:
        known = ", ".join(sorted(k for k in metrics if not k.startswith("eval/greedy/")))
        return None, f"{run_dir.name} has no {select} on {SELECT_SPLIT} (metrics: {known})"
    value = metrics[select]
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None, f"{run_dir.name} has a non-finite {select} ({value})"
    return float(value), None


def trial_score(runs: Sequence[PlannedRun], select: str, extension: int = 0) -> TrialScore:
    """Score one trial over its tuning runs (one per tuning seed)."""
    run_dirs = tuple(run_dir_for(run.config) for run in runs)
    found = [score_of(run_dir, select) for run_dir in run_dirs]
    scores = tuple(score for score, _ in found)
    problems = [problem for _, problem in found if problem]
    return TrialScore(
        settings=runs[0].settings,
        seeds=tuple(run.config.seed for run in runs),
        scores=scores,
        score=None if problems else fmean(s for s in scores if s is not None),
        run_dirs=run_dirs,
        problem=problems[0] if problems else None,
        extension=extension,
    )


def best_trial(trials: tuple[TrialScore, ...]) -> int | None:
    """Index of the highest score, the first one on a tie; None when no trial has a score."""
    scored = [(index, t.score) for index, t in enumerate(trials) if t.score is not None]
    if not scored:
        return None
    best = max(score for _, score in scored)
    return next(index for index, score in scored if score == best)


def choose(
    plan: Plan,
    blocked: Mapping[tuple[str, str], str],
    failures: Mapping[tuple[str, str], str] | None = None,
    groups: Collection[tuple[str, str]] | None = None,
    extra: Mapping[tuple[str, str], Sequence[ExtraTrial]] | None = None,
) -> list[Choice]:
    """Score every trial and pick each algorithm's winner.

    blocked: (task, algo) whose tuning is incomplete, and why; failures: a failed trial's reason;
    groups: only these (task, algo), in the plan's order (None: all); extra: the trials run after
    each grid so far (tune.extend_edges), scored after the grid's.
    """
    assert plan.spec.tune is not None
    select = plan.spec.tune.select
    choices = []
    for task, algo in plan.candidates:
        if groups is not None and (task, algo) not in groups:
            continue
        grid = [plan.tuning_runs(task, algo, i) for i in range(plan.trial_count(task, algo))]
        added = (extra or {}).get((task, algo), ())
        trials = tuple(trial_score(runs, select) for runs in grid) + tuple(
            trial_score(e.tune, select, e.round) for e in added
        )
        winner = None if (task, algo) in blocked else best_trial(trials)
        reason = blocked.get((task, algo), "")
        if winner is None and not reason:
            first = (failures or {}).get((task, algo)) or trials[0].problem
            reason = f"every tuning trial failed ({first})"
        choices.append(Choice(task, algo, trials, winner, reason))
    return choices


def winner_settings(choice: Choice) -> dict[str, Any] | None:
    """The winning trial's settings, or None."""
    return None if choice.winner is None else dict(choice.trials[choice.winner].settings)


def write_selection(plan: Plan, choices: list[Choice]) -> Path:
    """selection.json at the output root; run directories relative to it, null for no score."""
    assert plan.spec.tune is not None
    extended = plan.extra_trials > 0  # without extra trials, the keys of earlier sweeps only
    tasks: dict[str, dict[str, Any]] = {}
    for choice in choices:
        tasks.setdefault(task_name(choice.task), {})[choice.algo] = {
            "trials": [
                {
                    "settings": dict(trial.settings),
                    "seeds": list(trial.seeds),
                    "scores": list(trial.scores),
                    "score": trial.score,
                    "run_dirs": [str(path.relative_to(plan.out)) for path in trial.run_dirs],
                    **({"extension": trial.extension} if extended else {}),
                }
                for trial in choice.trials
            ],
            "winner": winner_settings(choice),
        }
    head = {
        "select": plan.spec.tune.select,
        "split": SELECT_SPLIT,
        "allow_unequal": plan.spec.allow_unequal,
        **({"extend_edges": plan.extra_trials} if extended else {}),
    }
    path = plan.out / SELECTION_FILE
    write_json(path, {**head, "tasks": tasks})
    return path
