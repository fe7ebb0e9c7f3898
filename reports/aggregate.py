"""Per-row means with CIs over seeds, ranks, and the table's family of tests (Holm-adjusted)."""

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.api.schema import (
    ANCHOR,
    EVAL_METRICS,
    EVAL_ROW_METRICS,
    EXTRACTIVE_METRICS,
    GREEDY_PREFIX,
    JUDGE_PREFIX,
    REPORT_SPLIT,
)
from harness.metrics.stats import (
    Interval,
    detectable_difference,
    mean_interval,
    t_interval,
    varies,
)
from reports.flags import BASELINE_SAMPLES, anchor_row, beat_flags, judge_flags, row_flags
from reports.load import Run
from reports.matched import MatchedKL, matched_kl, run_reward_at
from reports.pooling import Group, common_settings, group_runs, table_runs
from reports.significance import ALPHA, BEST, Comparison, Sample, family

RANK_METRIC = "eval/reward"
GAIN_METRIC = "gain/reward"
CI_METHODS = {  # bench report --ci
    "t": "95% Student-t interval over seeds (mean ± t_{0.975, n−1} · SD/√n)",
    "bootstrap": "95% percentile bootstrap over seeds (10,000 resamples, seed 0; too narrow at"
    " a handful of seeds: prefer t)",
}
GENERIC_EVAL = {f"eval/{m}" for m in (*EVAL_METRICS, *EXTRACTIVE_METRICS, *EVAL_ROW_METRICS)}
MATCHED_METRIC = "matched/reward"  # val reward at the table's matched KL (reports.matched)
PASSES_METRIC = "spent/token_passes"  # forward_tokens + backward_tokens of training


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
    tests: tuple[Comparison, ...]
    flags: tuple[str, ...]

    @property
    def anchor(self) -> bool:
        """True for an anchor row (`start`, `lead-n`, `echo`): its runs were not trained."""
        return all(run.anchor for run in self.runs)

    @property
    def role(self) -> str:
        """ANCHOR ("baseline", an anchor row's role on disk), external (a checkpoint `bench
        eval` scored) or report (trained here)."""
        return ANCHOR if self.anchor else self.runs[0].role

    @property
    def baseline_samples(self) -> float | None:
        """Mean completions per run generated only as a baseline (ReMax's greedy ones), not
        trained on; None for an anchor row."""
        if self.anchor:
            return None
        return sum(run.spent.get(BASELINE_SAMPLES, 0.0) for run in self.runs) / len(self.runs)

    def test(self, against: str) -> Comparison | None:
        """This row's test against BEST, START or an anchor row's label (None if not tested)."""
        return next((test for test in self.tests if test.against == against), None)

    @property
    def p_vs_best(self) -> float | None:
        """The Holm-adjusted p of the test against the best row (None for the best row)."""
        test = self.test(BEST)
        return None if test is None else test.p_holm

    @property
    def significant(self) -> bool | None:
        """Whether the row's reward differs from the best row's (None for the best row)."""
        test = self.test(BEST)
        return None if test is None else test.significant


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
    ci: str = "t"
    tests: tuple[Comparison, ...] = ()
    spread: float = math.nan  # pooled between-seed SD of the test reward over the rows
    prompt_noise: float | None = None  # median half-width of a run's gain CI over prompts

    @property
    def seeds(self) -> int:
        """The most common number of seeds per row (what the detectable difference assumes)."""
        return Counter(len(row.runs) for row in self.rows).most_common(1)[0][0]

    @property
    def detectable(self) -> float:
        """The difference of two rows' mean test rewards a test at ALPHA finds with 80% power."""
        return detectable_difference(self.spread, self.seeds, ALPHA)


def run_metrics(run: Run, matched: MatchedKL) -> dict[str, float]:
    """The numbers one run contributes: test metrics after training, gain, val reward at matched
    KL, budget and compute spent (the last three for trained runs only)."""
    metrics = dict(run.after)
    if not run.anchor and REPORT_SPLIT in run.eval_before:  # external: only with a reference
        metrics["start/reward"] = run.before["eval/reward"]
        metrics["gain/reward"] = run.after["eval/reward"] - run.before["eval/reward"]
        metrics |= {  # a judge's held-out change, beside the reward's (schema 5)
            f"gain/{key.removeprefix('eval/')}": run.after[key] - run.before[key]
            for key in run.after
            if key.startswith(JUDGE_PREFIX) and key in run.before
        }
    metrics[MATCHED_METRIC] = run_reward_at(run, matched)
    if not run.trained:  # an anchor or an outside checkpoint: its cost cells are n/a, not 0
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


def summarize(values: pd.Series, ci: str) -> Interval | None:
    """Mean and CI (method `ci`) of the finite values of one metric (None when there are none)."""
    finite = values.dropna()
    return mean_interval(finite.tolist(), ci) if len(finite) else None


def summarize_rows(frame: pd.DataFrame, ci: str) -> dict[str, dict[str, Interval]]:
    """For each row label: every metric's mean and CI over that row's runs."""
    metric_keys = [col for col in frame.columns if col not in ("row", "seed", "stop_reason")]
    summaries = {}
    for label, part in frame.groupby("row", sort=False):
        found = {key: summarize(part[key], ci) for key in metric_keys}
        summaries[str(label)] = {key: interval for key, interval in found.items() if interval}
    return summaries


def rank_rows(frame: pd.DataFrame) -> tuple[dict[str, int], str]:
    """Rank by mean sampled test reward (ties share a rank); also the rank-1 row's label."""
    means = frame.groupby("row", sort=False)[RANK_METRIC].mean()
    ranks = means.rank(ascending=False, method="min").astype(int)
    best = str(means.sort_values(ascending=False, kind="stable").index[0])
    return {str(label): int(rank) for label, rank in ranks.items()}, best


def metric_samples(groups: list[Group], frame: pd.DataFrame, metric: str) -> list[Sample]:
    """Each row's finite per-seed values of `metric` (rows without any are left out); a
    anchor row other than start whose value does not vary by seed (lead-n: no model, no
    sampling) is a constant."""
    samples = []
    for group in groups:
        part = frame[frame["row"] == group.label].dropna(subset=[metric])
        values = tuple(part[metric].tolist())
        deterministic = anchor_row(group) and group.algo != "start" and not varies(values)
        seeds = tuple(int(seed) for seed in part["seed"])
        if values:
            samples.append(Sample(group.label, seeds, values, deterministic))
    return samples


def pooled_spread(samples: list[Sample]) -> float:
    """√(mean within-row variance) of the test reward over rows that vary (NaN if none do)."""
    variances = [pd.Series(s.values).var(ddof=1) for s in samples if varies(s.values)]
    return math.sqrt(sum(variances) / len(variances)) if variances else math.nan


def prompt_noise(groups: list[Group]) -> float | None:
    """Median half-width of the trained runs' gain CIs over test prompts (result.json)."""
    widths = [
        (run.heldout_gain["high"] - run.heldout_gain["low"]) / 2
        for group in groups
        for run in group.runs
        if run.heldout_gain and {"low", "high"} <= set(run.heldout_gain)
    ]
    return float(pd.Series(widths).median()) if widths else None


def prompt_intervals(group: Group) -> dict[str, Interval]:
    """A one-seed external row's reward and Δ intervals over its test prompts (evaluation noise
    only: a single evaluation has no spread over seeds), where its result.json has them."""
    (run, *more) = group.runs
    if more or not run.external or len(run.prompt_rewards) < 2:
        return {}
    found = {RANK_METRIC: t_interval(run.prompt_rewards)}
    gain = run.heldout_gain
    if gain and {"mean", "low", "high", "n"} <= set(gain):
        found[GAIN_METRIC] = Interval(gain["mean"], gain["low"], gain["high"], int(gain["n"]))
    return found


def build_table(task: str, groups: list[Group], ci: str = "t") -> Table:
    """Summarise each row, rank rows by test reward and run the table's family of tests."""
    matched = matched_kl([run for group in groups for run in group.runs])
    frame = runs_frame(groups, matched)
    summaries = summarize_rows(frame, ci)
    for group in groups:
        summaries[group.label] |= prompt_intervals(group)
    ranks, best = rank_rows(frame)
    samples = metric_samples(groups, frame, RANK_METRIC)
    gains = {
        group.label: summaries[group.label][GAIN_METRIC].values
        for group in groups
        if not anchor_row(group) and GAIN_METRIC in summaries[group.label]
    }
    tests = family(samples, gains, best)
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
            tests=tuple(test for test in tests if test.row == group.label),
            flags=row_flags(group)
            + beat_flags(group, groups, means)
            + judge_flags(group.label, summaries[group.label], tests),
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
        ci=ci,
        tests=tuple(tests),
        spread=pooled_spread(samples),
        prompt_noise=prompt_noise(groups),
    )


def build_tables(
    runs: list[Run], allow_mixed: bool, ci: str = "t"
) -> tuple[list[Table], list[str]]:
    """One table per task (sorted by name) and the warnings raised while pooling runs; `ci` is
    the interval method (CI_METHODS).

    A sweep's tuning trials (role tune) are left out: they are never rows.
    """
    runs = [run for run in runs if not run.tuning]
    tables, warnings = [], []
    for task, members in table_runs(runs):
        groups, notes = group_runs(task, members, allow_mixed)
        warnings.extend(notes)
        table = build_table(task, groups, ci)
        tables.append(table)
        for row in table.rows:
            early = [flag for flag in row.flags if " stopped early (" in flag]
            warnings += [f"'{task}' row '{row.label}': {flag}" for flag in early]
    return tables, warnings
