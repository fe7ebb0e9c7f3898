"""When and on what a run is evaluated: the roles of the splits.

During training: `val`, sampled only (what a sweep may select on). At the start and the end:
`val` and `test`, each sampled (training temperature, eval.samples_per_prompt) and greedy;
the leaderboard reports `test`. A sweep's tuning trial is evaluated on `val` alone: it is
selected on val and never a row, so its test scores would never be read. Every val evaluation
also extends the run's (KL, reward) curve, from which the reporter reads reward at matched KL.
"""

import time
from dataclasses import dataclass

from rich.console import Console

from harness.api.schema import EVAL_CURVE_KEYS, FINAL_SPLITS, GREEDY_PREFIX
from harness.run.budget import Spent
from harness.run.evaluate import EvalResult, evaluate, heldout_gain
from harness.run.faults import kill_point
from harness.run.report_lines import eval_line, gain_line
from harness.run.rundir import write_jsonl
from harness.run.setup import Setup
from harness.run.trackers import samples_name

TRAINING_SPLIT = "val"


@dataclass(frozen=True)
class FullEval:
    """The evaluation at the start or the end: each of its splits, sampled and greedy."""

    sampled: dict[str, EvalResult]
    greedy: dict[str, EvalResult]

    def metrics(self) -> dict[str, dict[str, float]]:
        """split → sampled `eval/<m>` and greedy `eval/greedy/<m>` metrics, as in result.json."""
        return {split: merged(self.sampled[split], self.greedy[split]) for split in self.sampled}


def merged(sampled: EvalResult, greedy: EvalResult) -> dict[str, float]:
    """One split's metrics: the sampled ones, then the greedy ones under GREEDY_PREFIX."""
    renamed = {GREEDY_PREFIX + k.removeprefix("eval/"): v for k, v in greedy.metrics.items()}
    return sampled.metrics | renamed


def run_full_eval(
    setup: Setup, label: str, spent: Spent, console: Console, before: FullEval | None = None
) -> FullEval:
    """Evaluate every final split, sampled and greedy; log, save samples, print the test gain."""
    sampled, greedy = {}, {}
    for split in final_splits(setup.config.role):
        previous = before.sampled[split] if before else None
        sampled[split] = run_eval(setup, label, split, spent, console, previous)
        greedy[split] = run_eval(setup, label, split, spent, console, None, greedy=True)
    return FullEval(sampled, greedy)


def final_splits(role: str) -> tuple[str, ...]:
    """The splits of the start and end evaluations: val alone for a tuning trial."""
    return (TRAINING_SPLIT,) if role == "tune" else FINAL_SPLITS


def run_eval(
    setup: Setup,
    label: str,
    split: str,
    spent: Spent,
    console: Console,
    before: EvalResult | None = None,
    greedy: bool = False,
) -> EvalResult:
    """Evaluate one split; log its metrics (and the gain over `before`) and save its samples."""
    started = time.perf_counter()
    examples = setup.heldout[split]
    result = evaluate(
        setup.policy, setup.reference, setup.task, examples, setup.eval_settings, greedy
    )
    seconds = time.perf_counter() - started
    decoding = "greedy" if greedy else "sampled"
    name = samples_name(label, split, decoding)
    write_jsonl(setup.run_dir / "samples" / f"{name}.jsonl", result.samples)
    kill_point("eval")
    gain = heldout_gain(before, result, setup.config.seed) if before is not None else None
    row = {
        "kind": "eval",
        "label": label,
        "split": split,
        "decoding": decoding,
        "update": spent.updates,
        "samples_seen": spent.samples,
        **result.metrics,
        "eval/seconds": seconds,
    }
    if gain is not None:
        row |= {
            "eval/gain": gain["mean"],
            "eval/gain_low": gain["low"],
            "eval/gain_high": gain["high"],
        }
    setup.log.append(row)  # metrics.jsonl and the trackers
    setup.log.samples(row, result.samples)
    if split == TRAINING_SPLIT and not greedy:
        setup.eval_curve.append({key: row[key] for key in EVAL_CURVE_KEYS})
    title = f"eval {label} {split}" + (" greedy" if greedy else "")
    console.print(eval_line(title, result, len(examples), seconds))
    if gain is not None and (label != "after" or split != "test"):
        console.print(gain_line(gain, split))
    return result
