"""Expand a sweep spec into runs and check every one of them before anything starts.

Every run config of the sweep is built and validated up front: each tuning trial, and each
report run with every grid value (the winner is only known later, and it must not fail then).
The extra trials of `tune.extend_edges` depend on the grid's scores, so they are built when the
sweep reaches them (`extra_trial`), tuning and report runs together, and only a point whose
configs build is chosen (harness/sweep/edges.py).
"""

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.api.choices import RunRole
from harness.api.errors import BenchError, unknown_choice
from harness.config.overrides import option_types, qualify
from harness.config.run_config import SECTIONS, TOP_LEVEL_KEYS, RunConfig
from harness.launch import build_config, option_owners
from harness.sweep.spec import SweepSpec


@dataclass(frozen=True)
class PlannedRun:
    """One run of the sweep: its resolved config and the grid settings it was built with."""

    config: RunConfig
    settings: Mapping[str, Any]
    """algorithm option → value of its grid combination ({} without a grid)"""
    trial: int
    """index of its grid combination in grid order (0 without a grid)"""


@dataclass(frozen=True)
class Plan:
    """Every run of a sweep: tuning trials, and per task and algorithm the candidate report runs."""

    spec: SweepSpec
    out: Path
    """the output root (absolute): run directories and selection.json"""
    tuning: tuple[PlannedRun, ...]
    """tuning trials (role tune) in task, algorithm, combination, seed order; () without tune"""
    candidates: Mapping[tuple[str, str], tuple[tuple[PlannedRun, ...], ...]]
    """(task, algo) → per grid combination, its report runs (one per report seed)"""

    def report_runs(self, task: str, algo: str, trial: int) -> tuple[PlannedRun, ...]:
        """The report runs of (task, algo) with the settings of grid combination `trial`."""
        return self.candidates[task, algo][trial]

    def tuning_runs(self, task: str, algo: str, trial: int) -> list[PlannedRun]:
        """The tuning runs of one grid combination (one per tuning seed)."""
        return [
            run
            for run in self.tuning
            if (run.config.task, run.config.algo, run.trial) == (task, algo, trial)
        ]

    def trial_count(self, task: str, algo: str) -> int:
        """How many grid combinations (tuning trials) an algorithm has."""
        return len(self.candidates[task, algo])

    @property
    def extra_trials(self) -> int:
        """Trials each algorithm gets after its grid (tune.extend_edges; 0 without tune)."""
        return self.spec.tune.extend_edges if self.spec.tune is not None else 0

    def tuning_rows(self) -> int:
        """Tuning runs including the extra trials': the first rows of the sweep's table."""
        seeds = len(self.spec.tune.seeds) if self.spec.tune is not None else 0
        return len(self.tuning) + len(self.candidates) * self.extra_trials * seeds


@dataclass(frozen=True)
class ExtraTrial:
    """A trial added after an algorithm's grid by tune.extend_edges (harness/sweep/edges.py)."""

    round: int
    """1 for the first extra trial of its algorithm, up to tune.extend_edges"""
    tune: tuple[PlannedRun, ...]
    """its runs on the tuning seeds"""
    report: tuple[PlannedRun, ...]
    """its runs on the report seeds, should it win"""


@dataclass(frozen=True)
class Cell:
    """One grid combination of one task and algorithm (a trial), as run-config overrides."""

    task: str
    algo: str
    trial: int
    overrides: tuple[str, ...] = ()
    """`algo.NAME=value` for each grid key"""
    options: tuple[str, ...] = ()
    """the algorithm options the grid varies"""


def plan_sweep(spec: SweepSpec) -> Plan:
    """Build and check every run config of the sweep; BenchError (one line) on the first bad one."""
    out = Path(spec.out).absolute()
    pairs = list(itertools.product(spec.tasks, spec.algos))
    options = {pair: grid_options(spec, out, *pair) for pair in pairs}  # names, keys: first
    combinations = {algo: grid_combinations(spec, algo) for algo in spec.algos}
    if spec.tune is not None:
        check_trial_counts(spec, {algo: len(c) for algo, c in combinations.items()})
    tune_seeds = spec.tune.seeds if spec.tune is not None else ()
    tuning: list[PlannedRun] = []
    candidates: dict[tuple[str, str], tuple[tuple[PlannedRun, ...], ...]] = {}
    for task, algo in pairs:
        names = options[task, algo]
        per_trial = []
        for trial, combination in enumerate(combinations[algo]):
            settings = tuple(f"algo.{names[key]}={value}" for key, value in combination.items())
            cell = Cell(task, algo, trial, settings, tuple(names.values()))
            tuning.extend(cell_runs(spec, out, cell, tune_seeds, "tune"))
            per_trial.append(cell_runs(spec, out, cell, spec.seeds, "report"))
        candidates[task, algo] = tuple(per_trial)
    return Plan(spec, out, tuple(tuning), candidates)


def extra_trial(
    plan: Plan, task: str, algo: str, round_: int, settings: Mapping[str, Any]
) -> ExtraTrial:
    """The runs of an extra trial with these option values; BenchError when a config refuses."""
    overrides = tuple(f"algo.{name}={value}" for name, value in settings.items())
    trial = plan.trial_count(task, algo) + round_ - 1
    cell = Cell(task, algo, trial, overrides, tuple(settings))
    assert plan.spec.tune is not None
    return ExtraTrial(
        round_,
        cell_runs(plan.spec, plan.out, cell, plan.spec.tune.seeds, "tune"),
        cell_runs(plan.spec, plan.out, cell, plan.spec.seeds, "report"),
    )


def grid_options(spec: SweepSpec, out: Path, task: str, algo: str) -> dict[str, str]:
    """Grid key → the algorithm option it names, checked on the shared settings' config."""
    base = run_config(spec, out, Cell(task, algo, 0), spec.seeds[0], "report")
    grid = spec.tune.grid.get(algo, {}) if spec.tune is not None else {}
    return {key: algo_option(key, algo, base) for key in grid}


def cell_runs(
    spec: SweepSpec, out: Path, cell: Cell, seeds: tuple[int, ...], role: RunRole
) -> tuple[PlannedRun, ...]:
    """The runs of one grid combination on `seeds`, with the resolved values of its settings."""
    runs = []
    for seed in seeds:
        config = run_config(spec, out, cell, seed, role)
        settings = {name: config.algo_config[name] for name in cell.options}
        runs.append(PlannedRun(config, settings, cell.trial))
    return tuple(runs)


def run_config(spec: SweepSpec, out: Path, cell: Cell, seed: int, role: RunRole) -> RunConfig:
    """The resolved, validated config of one run: shared settings, then its grid settings."""
    overrides = [
        *(f"budget.{key}={value}" for key, value in spec.budget.items()),
        *(f"{key}={value}" for key, value in spec.overrides.items()),
        *cell.overrides,
    ]
    try:
        config = build_config(
            cell.task,
            cell.algo,
            policy=spec.policy,
            seed=seed,
            out=str(out),
            device=spec.device,
            overrides=overrides,
        )
    except BenchError as err:
        raise BenchError(f"{cell.task} × {cell.algo}: {err}") from err
    return replace(config, role=role)


def grid_combinations(spec: SweepSpec, algo: str) -> list[dict[str, Any]]:
    """Every combination of an algorithm's grid, in grid order (the first key varies slowest)."""
    grid = spec.tune.grid.get(algo, {}) if spec.tune else {}
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def check_trial_counts(spec: SweepSpec, counts: Mapping[str, int]) -> None:
    """Equal tuning effort: every algorithm gets as many trials, unless allow_unequal."""
    if len(set(counts.values())) > 1 and not spec.allow_unequal:
        listed = ", ".join(f"{algo}: {count}" for algo, count in counts.items())
        raise BenchError(
            f"algorithms get unequal numbers of tuning trials ({listed}); give each algorithm "
            "as many grid combinations, or set allow_unequal: true"
        )


def algo_option(key: str, algo: str, base: RunConfig) -> str:
    """The algorithm option a grid key names; refuse any other key (rows would differ in it)."""
    algo_type, factory = option_owners(base)
    namespaces: dict[str, dict[str, Any]] = {
        "": {name: None for name in TOP_LEVEL_KEYS},
        **{name: option_types(cls) for name, cls in SECTIONS.items()},
        "algo": option_types(algo_type),
        "task": option_types(factory),
    }
    valid = sorted(namespaces["algo"])
    try:
        section, name = qualify(key, namespaces)
    except BenchError as err:
        if "ambiguous" in str(err):
            raise BenchError(f"tune.grid.{algo}: {err}") from err
        raise unknown_choice(f"{algo} option in tune.grid.{algo}", key, valid) from err
    if section != "algo":
        spelled = f"{section}.{name}" if section else name
        raise BenchError(
            f"tune.grid.{algo}.{key} is not an algorithm option: {spelled} is shared by every "
            f"algorithm, and a leaderboard's rows may differ only in their algorithm's options; "
            f"set it in overrides (grid keys for {algo}: {', '.join(valid)})"
        )
    return name
