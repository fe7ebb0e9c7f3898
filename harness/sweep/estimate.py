"""A sweep's predicted compute, from measured per-unit costs and its plan (pure arithmetic).

`bench sweep SUITE --estimate` measures what one update and one held-out prompt cost for each
algorithm (harness/sweep/calibration.py) and multiplies out here what the plan asks:

    runs        tuning trials (grid + tune.extend_edges, on every tuning seed) + report seeds
    updates     per run, until the first budget limit: samples (the usable ones: whole prompts
                of k completions) over the samples an update draws, updates, tokens, seconds
    training    runs × updates × seconds per update
    evaluation  what harness/run/eval_schedule.py evaluates, prompt by prompt:
                  a tuning trial   val, sampled and greedy, at the start and the end
                  a report run     val and test, sampled and greedy, at the end; its start
                                   evaluation is the start row's (one per task and report seed)
                  both             val sampled after every `eval.every` updates but the last
    other       per run: process start, loading, first calls (what the calibration spent
                beyond its updates and evaluations at their steady costs)
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from harness.config.run_config import BudgetConfig
from harness.sweep.plan import Plan


@dataclass(frozen=True)
class Costs:
    """What a calibration measured for one algorithm on one task."""

    update_seconds: float
    """wall seconds of one update (after a warm-up update)"""
    samples_per_update: float
    """completions one update samples (more than P × k with dynamic sampling)"""
    tokens_per_update: float
    """completion tokens one update generates"""
    sampled_seconds: float
    """seconds per held-out prompt evaluated sampled (eval.samples_per_prompt completions)"""
    greedy_seconds: float
    """seconds per held-out prompt evaluated greedy (one completion)"""
    other_seconds: float
    """seconds per run beyond its updates and evaluations: process, loading, first calls"""


@dataclass(frozen=True)
class Workload:
    """What the plan asks of one algorithm on one task."""

    tuning_runs: int
    """tuning trials × tuning seeds, the extra trials of tune.extend_edges included"""
    report_runs: int
    """one per report seed"""
    budget: BudgetConfig
    samples_per_prompt: int
    """rollout.samples_per_prompt (k): a samples budget is spent in whole prompts"""
    eval_every: int
    """eval.every (0: start and end only)"""
    val_prompts: int
    """held-out prompts per val evaluation: the first eval.prompts of val"""
    test_prompts: int
    """held-out prompts per test evaluation: the first eval.prompts of test"""


@dataclass(frozen=True)
class Prediction:
    """Predicted compute of one table row, in seconds."""

    runs: int
    updates: int
    """per run"""
    update_seconds: float
    train_seconds: float
    eval_seconds: float
    other_seconds: float

    @property
    def total_seconds(self) -> float:
        """Training, evaluation and the rest."""
        return self.train_seconds + self.eval_seconds + self.other_seconds


def workload(plan: Plan, task: str, algo: str, heldout: tuple[int, int]) -> Workload:
    """What the plan asks of (task, algo); heldout: the (val, test) prompts an evaluation scores."""
    config = plan.report_runs(task, algo, 0)[0].config
    tune_seeds = len(plan.spec.tune.seeds) if plan.spec.tune is not None else 0
    trials = plan.trial_count(task, algo) + plan.extra_trials if tune_seeds else 0
    return Workload(
        tuning_runs=trials * tune_seeds,
        report_runs=len(plan.spec.seeds),
        budget=config.budget,
        samples_per_prompt=config.rollout.samples_per_prompt,
        eval_every=config.eval.every,
        val_prompts=heldout[0],
        test_prompts=heldout[1],
    )


def updates_per_run(budget: BudgetConfig, samples_per_prompt: int, costs: Costs) -> int:
    """Updates until the first budget limit is reached (runner.train's stop rule)."""
    limits = []
    if budget.updates is not None:
        limits.append(budget.updates)
    if budget.samples is not None:
        usable = budget.samples // samples_per_prompt * samples_per_prompt
        limits.append(math.ceil(usable / costs.samples_per_update))
    if budget.tokens is not None:
        limits.append(math.ceil(budget.tokens / costs.tokens_per_update))
    if budget.seconds is not None:
        limits.append(math.ceil(budget.seconds / costs.update_seconds))
    assert limits, "a validated budget has a limit"
    return min(limits)


def middle_evaluations(updates: int, every: int) -> int:
    """Val evaluations during training: after every `every` updates, never after the last."""
    return (updates - 1) // every if every else 0


def full_evaluation(prompts: int, costs: Costs) -> float:
    """Seconds of one start or end evaluation of `prompts` (the splits' sum): sampled, greedy."""
    return prompts * (costs.sampled_seconds + costs.greedy_seconds)


def predict(work: Workload, costs: Costs) -> Prediction:
    """The compute of one algorithm's runs on one task (start evaluations: `predict_start`)."""
    updates = updates_per_run(work.budget, work.samples_per_prompt, costs)
    middle = middle_evaluations(updates, work.eval_every) * work.val_prompts * costs.sampled_seconds
    tuning = 2 * full_evaluation(work.val_prompts, costs) + middle
    report = full_evaluation(work.val_prompts + work.test_prompts, costs) + middle
    runs = work.tuning_runs + work.report_runs
    return Prediction(
        runs=runs,
        updates=updates,
        update_seconds=costs.update_seconds,
        train_seconds=runs * updates * costs.update_seconds,
        eval_seconds=work.tuning_runs * tuning + work.report_runs * report,
        other_seconds=runs * costs.other_seconds,
    )


def predict_start(seeds: int, prompts: int, measured: Sequence[Costs]) -> Prediction:
    """The start evaluations of one task: one per report seed on `prompts` (val and test),
    sampled and greedy, shared by every algorithm, at the algorithms' mean per-prompt costs."""
    mean = Costs(
        update_seconds=0.0,
        samples_per_update=0.0,
        tokens_per_update=0.0,
        sampled_seconds=sum(c.sampled_seconds for c in measured) / len(measured),
        greedy_seconds=sum(c.greedy_seconds for c in measured) / len(measured),
        other_seconds=0.0,
    )
    seconds = seeds * full_evaluation(prompts, mean)
    return Prediction(0, 0, 0.0, 0.0, seconds, 0.0)


def total(rows: Sequence[Prediction]) -> Prediction:
    """The sum of the rows (updates and seconds per update do not add up: 0)."""
    return Prediction(
        runs=sum(r.runs for r in rows),
        updates=0,
        update_seconds=0.0,
        train_seconds=sum(r.train_seconds for r in rows),
        eval_seconds=sum(r.eval_seconds for r in rows),
        other_seconds=sum(r.other_seconds for r in rows),
    )
