"""Per-row means with bootstrap CIs over seeds, ranks and significance against the best row."""

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.api.schema import EVAL_METRICS, EVAL_ROW_METRICS, EXTRACTIVE_METRICS, GREEDY_PREFIX
from harness.metrics.stats import Interval, bootstrap_mean
from reports.load import Run
from reports.matched import MatchedKL, matched_kl, run_reward_at
from reports.pooling import Group, common_settings, group_runs
from reports.significance import ALPHA, permutation_pvalue, smallest_pvalue

RANK_METRIC = "eval/reward"
MIN_SEEDS = 3
CI_METHOD = "95% percentile bootstrap over seeds (10,000 resamples, seed 0)"
GENERIC_EVAL = {f"eval/{m}" for m in (*EVAL_METRICS, *EXTRACTIVE_METRICS, *EVAL_ROW_METRICS)}
MATCHED_METRIC = "matched/reward"  # val reward at the table's matched KL (reports.matched)
PASSES_METRIC = "spent/token_passes"  # forward_tokens + backward_tokens of training
BASELINE_SAMPLES = "baseline_samples"  # spent: completions made only as a baseline (ReMax)


@dataclass(frozen=True)
class Row:
    """One leaderboard row: the runs of one algorithm (and setting) summarised over seeds."""

    rank: int
    label: str
    algo: str
    algo_config: dict[str, Any]
    parts: dict[str, Any]
    settings: dict[str, Any]
    runs: tuple[Run, ...]
    metrics: dict[str, Interval]
    p_vs_best: float | None
    flags: tuple[str, ...]

    @property
    def baseline(self) -> bool:
        """True for a baseline row (`start`, `lead-n`): its runs were not trained."""
        return all(run.baseline for run in self.runs)

    @property
    def baseline_samples(self) -> float | None:
        """Mean completions per run generated only as a baseline (ReMax's greedy ones), not
        trained on; None for a baseline row."""
        if self.baseline:
            return None
        return sum(run.spent.get(BASELINE_SAMPLES, 0.0) for run in self.runs) / len(self.runs)

    @property
    def significant(self) -> bool | None:
        """Whether the row's reward differs from the best row's (None for the best row)."""
        return None if self.p_vs_best is None else self.p_vs_best < ALPHA


@dataclass(frozen=True)
class Table:
    """The leaderboard of one task: its conditions, its task metrics and its ranked rows."""

    task: str
    task_version: str
    conditions: dict[str, Any]
    varied: tuple[str, ...]
    task_metrics: tuple[str, ...]
    rows: tuple[Row, ...]
    matched: MatchedKL


def run_metrics(run: Run, matched: MatchedKL) -> dict[str, float]:
    """The numbers one run contributes: test metrics after training, gain, val reward at matched
    KL, budget and compute spent (the last three for trained runs only)."""
    metrics = dict(run.after)
    if not run.baseline:
        metrics["start/reward"] = run.before["eval/reward"]
        metrics["gain/reward"] = run.after["eval/reward"] - run.before["eval/reward"]
    metrics[MATCHED_METRIC] = run_reward_at(run, matched)
    if run.baseline:  # a baseline trains nothing: its cost cells are n/a, not 0
        return metrics
    metrics.update({f"spent/{key}": value for key, value in run.spent.items()})
    passes = run.spent.get("forward_tokens", math.nan) + run.spent.get("backward_tokens", math.nan)
    metrics[PASSES_METRIC] = passes
    return metrics


def runs_frame(groups: list[Group], matched: MatchedKL) -> pd.DataFrame:
    """One line per run: row label, seed, stop reason and every metric (NaN where absent)."""
    records = [
        {"row": group.label, "seed": run.seed, "stop_reason": run.stop_reason}
        | run_metrics(run, matched)
        for group in groups
        for run in group.runs
    ]
    return pd.DataFrame.from_records(records)


def baseline_note(algo: str) -> str:
    """What a baseline row is, in a few words (shown as its first flag)."""
    lead = re.fullmatch(r"lead-(\d+)", algo)
    if algo == "start":
        return "baseline: the policy before training (no updates)"
    if lead:
        return f"baseline: the first {lead.group(1)} source words as the output (no model)"
    return f"baseline: {algo}"


def beat_flags(group: Group, groups: list[Group], means: dict[str, float]) -> tuple[str, ...]:
    """For a trained row: each text baseline (lead-n) whose mean test reward it does not exceed."""
    if all(run.baseline for run in group.runs):
        return ()
    texts = [g for g in groups if g.algo != "start" and all(run.baseline for run in g.runs)]
    return tuple(
        f"does not beat {text.label} ({means[text.label]:.3f})"
        for text in texts
        if means[group.label] <= means[text.label]
    )


def summarize(values: pd.Series) -> Interval | None:
    """Mean and bootstrap CI of the finite values of one metric (None when there are none)."""
    finite = values.dropna()
    return bootstrap_mean(finite.tolist()) if len(finite) else None


def row_flags(group: Group) -> tuple[str, ...]:
    """Honesty notes: baseline, runs stopped for another reason than their budget, few seeds."""
    baseline = all(run.baseline for run in group.runs)
    flags = [baseline_note(group.algo)] if baseline else []
    early = [
        f"seed {run.seed}: {run.stop_reason}"
        for run in group.runs
        if not (run.stopped_by_budget or baseline)
    ]
    if early:
        flags.append(f"{len(early)}/{len(group.runs)} stopped early ({'; '.join(early)})")
    if len(group.runs) < MIN_SEEDS:
        flags.append(f"{len(group.runs)} seed{'s' if len(group.runs) != 1 else ''} (< {MIN_SEEDS})")
    repeats = [seed for seed, n in Counter(run.seed for run in group.runs).items() if n > 1]
    if repeats:
        flags.append(f"seed {', '.join(map(str, sorted(repeats)))} repeated")
    return tuple(flags) + baseline_samples_flag(group)


def baseline_samples_flag(group: Group) -> tuple[str, ...]:
    """A note when the row's runs generated completions only as a baseline (not trained on)."""
    counts = [run.spent.get(BASELINE_SAMPLES, 0.0) for run in group.runs if not run.baseline]
    if not any(count > 0 for count in counts):
        return ()
    low, high = min(counts), max(counts)
    shown = f"{low:,.0f}" if low == high else f"{low:,.0f}–{high:,.0f}"
    return (f"uses {shown} greedy baseline completions per run (not training samples)",)


def power_flag(
    group: Group, groups: list[Group], p_values: dict[str, float | None]
) -> tuple[str, ...]:
    """A note when this row and the best have too few seeds for the test to reach p < ALPHA."""
    best = next(g for g in groups if p_values[g.label] is None)
    if group is best:
        return ()
    floor = smallest_pvalue(len(group.runs), len(best.runs))
    if floor < ALPHA:
        return ()
    seeds = f"{len(group.runs)} vs {len(best.runs)} seeds"
    return (f"{seeds}: the test cannot reach p < {ALPHA} (smallest p {floor:.3f})",)


def summarize_rows(frame: pd.DataFrame) -> dict[str, dict[str, Interval]]:
    """For each row label: every metric's mean and bootstrap CI over that row's runs."""
    metric_keys = [col for col in frame.columns if col not in ("row", "seed", "stop_reason")]
    summaries = {}
    for label, part in frame.groupby("row", sort=False):
        found = {key: summarize(part[key]) for key in metric_keys}
        summaries[str(label)] = {key: interval for key, interval in found.items() if interval}
    return summaries


def rank_rows(frame: pd.DataFrame) -> tuple[dict[str, int], dict[str, float | None]]:
    """Rank by mean sampled test reward (ties share a rank) and test each row against the best."""
    rewards = frame.groupby("row", sort=False)[RANK_METRIC].apply(lambda s: s.dropna().tolist())
    means = rewards.apply(lambda values: sum(values) / len(values))
    ranks = means.rank(ascending=False, method="min").astype(int)
    best = means.sort_values(ascending=False, kind="stable").index[0]
    p_values: dict[str, float | None] = {
        str(label): None if label == best else permutation_pvalue(values, rewards[best])
        for label, values in rewards.items()
    }
    return {str(label): int(rank) for label, rank in ranks.items()}, p_values


def build_table(task: str, groups: list[Group]) -> Table:
    """Summarise each row, rank rows by test reward and test each against the best."""
    matched = matched_kl([run for group in groups for run in group.runs])
    frame = runs_frame(groups, matched)
    summaries = summarize_rows(frame)
    ranks, p_values = rank_rows(frame)
    means = {label: summary[RANK_METRIC].mean for label, summary in summaries.items()}
    rows = [
        Row(
            rank=ranks[group.label],
            label=group.label,
            algo=group.algo,
            algo_config=group.algo_config,
            parts=group.parts,
            settings=group.settings,
            runs=group.runs,
            metrics=summaries[group.label],
            p_vs_best=p_values[group.label],
            flags=row_flags(group)
            + beat_flags(group, groups, means)
            + power_flag(group, groups, p_values),
        )
        for group in groups
    ]
    rows.sort(key=lambda row: (row.rank, row.label))
    conditions = common_settings([run for group in groups for run in group.runs])
    task_metrics = sorted(
        key
        for key in frame.columns
        if key.startswith("eval/") and not key.startswith(GREEDY_PREFIX) and key not in GENERIC_EVAL
    )
    return Table(
        task=task,
        task_version=str(conditions.get("task_version", "mixed")),
        conditions=conditions,
        varied=tuple(dict.fromkeys(key for group in groups for key in group.settings)),
        task_metrics=tuple(task_metrics),
        rows=tuple(rows),
        matched=matched,
    )


def build_tables(runs: list[Run], allow_mixed: bool) -> tuple[list[Table], list[str]]:
    """One table per task (sorted by name) and the warnings raised while pooling runs.

    A sweep's tuning trials (role tune) are left out: they are never rows.
    """
    runs = [run for run in runs if not run.tuning]
    tables, warnings = [], []
    for task in sorted({run.task for run in runs}):
        groups, notes = group_runs(task, [run for run in runs if run.task == task], allow_mixed)
        warnings.extend(notes)
        table = build_table(task, groups)
        tables.append(table)
        for row in table.rows:
            early = [flag for flag in row.flags if " stopped early (" in flag]
            warnings += [f"'{task}' row '{row.label}': {flag}" for flag in early]
    return tables, warnings
