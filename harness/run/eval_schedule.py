"""When and on what a run is evaluated: the roles of the splits.

During training: `val`, sampled only (what a sweep may select on). At the start and the end:
`val` and `test`, each sampled (training temperature, eval.samples_per_prompt) and greedy;
the leaderboard reports `test`. A sweep's tuning trial is evaluated on `val` alone: it is
selected on val and never a row, so its test scores would never be read. Every val evaluation
also extends the run's (KL, reward) curve, from which the reporter reads reward at matched KL;
a task's judges (`eval/judge_*`) join it, so a report can draw judge against KL.
"""

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console

from harness.api.schema import EVAL_CURVE_KEYS, FINAL_SPLITS, GREEDY_PREFIX, JUDGE_PREFIX
from harness.api.task import Example, Task
from harness.config.run_config import RunConfig
from harness.loop.budget import Spent
from harness.loop.heldout import EvalResult, EvalSettings, evaluate, heldout_gain
from harness.loop.report_lines import eval_line, gain_line
from harness.policies.policy import Policy
from harness.rundir.faults import kill_point
from harness.rundir.layout import write_jsonl
from harness.rundir.trackers import RunLog, samples_name

TRAINING_SPLIT = "val"


class Evaluated(Protocol):
    """What an evaluation reads of a run: a trained run's Setup (harness/loop/setup.py) or an
    outside checkpoint's (harness/run/external.py); one path scores both, so their rows can
    share a table. `reference` is None when an outside checkpoint has none (no KL)."""

    config: RunConfig
    task: Task
    policy: Policy
    reference: Policy | None
    run_dir: Path
    heldout: dict[str, list[Example]]
    eval_settings: EvalSettings
    log: RunLog
    eval_curve: list[dict[str, float]]


@dataclass(frozen=True)
class FullEval:
    """The evaluation at the start or the end: each of its splits, sampled and greedy."""

    sampled: dict[str, EvalResult]
    greedy: dict[str, EvalResult]

    def metrics(self) -> dict[str, dict[str, float]]:
        """split → sampled `eval/<m>` and greedy `eval/greedy/<m>` metrics, as in result.json."""
        return {split: merged(self.sampled[split], self.greedy[split]) for split in self.sampled}

    def to_json(self) -> dict[str, Any]:
        """decoding → split → every field of its EvalResult (samples included), JSON-ready."""
        return {
            decoding: {split: asdict(result) for split, result in results.items()}
            for decoding, results in (("sampled", self.sampled), ("greedy", self.greedy))
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "FullEval":
        """The FullEval `to_json` wrote (JSON floats round-trip exactly)."""
        return cls(
            **{
                decoding: {
                    split: EvalResult(**{**fields, "task_metrics": tuple(fields["task_metrics"])})
                    for split, fields in results.items()
                }
                for decoding, results in data.items()
            }
        )


def merged(sampled: EvalResult, greedy: EvalResult) -> dict[str, float]:
    """One split's metrics: the sampled ones, then the greedy ones under GREEDY_PREFIX."""
    renamed = {GREEDY_PREFIX + k.removeprefix("eval/"): v for k, v in greedy.metrics.items()}
    return sampled.metrics | renamed


def run_full_eval(
    setup: Evaluated, label: str, spent: Spent, console: Console, before: FullEval | None = None
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


def record_full_eval(
    setup: Evaluated, label: str, full: FullEval, spent: Spent, console: Console
) -> None:
    """Log, save and print an evaluation made elsewhere (a shared start evaluation) as
    run_full_eval would have, in the same order, with 0 s spent; then load the reward as that
    evaluation would have (a learned reward model loads at its first call), so that the first
    timed update does not pay for it in this run alone."""
    for split in full.sampled:
        record_eval(setup, label, split, spent, console, (full.sampled[split], 0.0))
        record_eval(setup, label, split, spent, console, (full.greedy[split], 0.0), greedy=True)
    example = setup.heldout[TRAINING_SPLIT][0]
    setup.task.reward([example], [example.references[0] if example.references else ""])


def run_eval(
    setup: Evaluated,
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
    timed = (result, time.perf_counter() - started)
    return record_eval(setup, label, split, spent, console, timed, before, greedy)


def record_eval(
    setup: Evaluated,
    label: str,
    split: str,
    spent: Spent,
    console: Console,
    timed: tuple[EvalResult, float],
    before: EvalResult | None = None,
    greedy: bool = False,
) -> EvalResult:
    """Log one split's evaluation (result, seconds it took) and the gain over `before`, save
    its samples, extend the val curve, print its line; return the result."""
    result, seconds = timed
    examples = setup.heldout[split]
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
    if split == TRAINING_SPLIT and not greedy:  # the judges too (schema 5): judge against KL
        judges = {key: value for key, value in row.items() if key.startswith(JUDGE_PREFIX)}
        setup.eval_curve.append({key: row[key] for key in EVAL_CURVE_KEYS if key in row} | judges)
    title = f"eval {label} {split}" + (" greedy" if greedy else "")
    console.print(eval_line(title, result, len(examples), seconds))
    if gain is not None and (label != "after" or split != "test"):
        console.print(gain_line(gain, split))
    return result
