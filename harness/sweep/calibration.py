"""`bench sweep --estimate`: measure each algorithm in a short run, then predict the sweep.

    1. calibrate  per task and algorithm, one run through the sweep's own worker (a fresh
                  process with the sweep's torch threads per run) in a temporary directory:
                  the suite's settings with the algorithm's first grid value, CALIBRATION_UPDATES
                  updates and no evaluation during training; its start and end evaluations are
                  a tuning trial's (val, sampled and greedy) on CALIBRATION_PROMPTS prompts
    2. measure    seconds, samples and tokens per update after the first (a warm-up: its first
                  calls are part of a run's start-up), seconds per prompt of the end evaluation
                  (the start one also loads the reward), and the rest of the run's wall time
    3. predict    harness/sweep/estimate.py multiplies them out over the plan; print a table

Nothing is written under the suite's output root; the temporary directory is removed.
"""

import json
import os
import tempfile
import time
from dataclasses import replace
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from harness.api.errors import BenchError
from harness.config.run_config import BudgetConfig, RunConfig
from harness.rundir.layout import run_dir_for
from harness.sweep.estimate import Costs, Prediction, predict, predict_start, total, workload
from harness.sweep.executor import ExecutorOptions
from harness.sweep.local_executor import LocalExecutor
from harness.sweep.plan import Plan
from harness.sweep.worker import Job

CALIBRATION_UPDATES = 3  # the first is a warm-up; the other two are measured
CALIBRATION_PROMPTS = 4  # val prompts of each calibration evaluation: one small batch
HOUR = 3600.0
Row = tuple[str, str, Prediction]  # task, algorithm (or start), prediction


def estimate_sweep(plan: Plan, options: ExecutorOptions, console: Console) -> None:
    """Calibrate every (task, algorithm) of the plan, then print the predicted hours."""
    threads = options.threads_per_run()
    rows: list[Row] = []
    executor = LocalExecutor(workers=1)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-estimate-") as scratch:
            for task in plan.spec.tasks:
                heldout = heldout_sizes(plan.report_runs(task, plan.spec.algos[0], 0)[0].config)
                measured = []
                for algo in plan.spec.algos:
                    config = plan.report_runs(task, algo, 0)[0].config
                    short = calibration_config(config, scratch, heldout[0])
                    console.print(f"calibrating  {task} · {algo}", highlight=False, markup=False)
                    costs = calibrate(short, threads, executor)
                    console.print(costs_line(costs), highlight=False, markup=False)
                    measured.append(costs)
                    rows.append((task, algo, predict(workload(plan, task, algo, heldout), costs)))
                start = predict_start(len(plan.spec.seeds), sum(heldout), measured)
                rows.append((task, "start", start))
    except BaseException:
        executor.close(cancel=True)
        raise
    executor.close(cancel=False)
    console.print(estimate_table(rows))
    for line in summary_lines(plan, options, rows, threads):
        console.print(line, highlight=False, markup=False)


def heldout_sizes(config: RunConfig) -> tuple[int, int]:
    """How many val and test prompts an evaluation of `config` scores (eval.prompts or fewer)."""
    from harness.data.task_files import task_factory
    from harness.loop.heldout import heldout_of

    heldout = heldout_of(config, task_factory(config.task)(**config.task_options))
    return len(heldout["val"]), len(heldout["test"])


def calibration_config(config: RunConfig, out: str, val_prompts: int) -> RunConfig:
    """A short tuning-role run of `config` in `out`: CALIBRATION_UPDATES updates, no evaluation
    during training, evaluations on the first CALIBRATION_PROMPTS val prompts, no checkpoints."""
    return replace(
        config,
        out=out,
        role="tune",
        budget=BudgetConfig(samples=None, updates=CALIBRATION_UPDATES),
        eval=replace(config.eval, every=0, prompts=min(CALIBRATION_PROMPTS, val_prompts)),
        checkpoint=replace(config.checkpoint, every=0, keep=False),
        log="",
    )


def calibrate(config: RunConfig, threads: int, executor: LocalExecutor) -> Costs:
    """Run a calibration config in a worker process as the sweep would; its measured costs."""
    started = time.perf_counter()
    executor.submit(0, Job(config, threads))
    while not (ended := executor.finished(timeout=1.0)):
        pass
    wall = time.perf_counter() - started
    ((_, outcome),) = ended
    if outcome.state != "done":
        raise BenchError(
            f"the calibration run of {config.task} × {config.algo} failed: {outcome.reason}"
        )
    rows = [json.loads(line) for line in (run_dir_for(config) / "metrics.jsonl").open()]
    return measured_costs(rows, config.eval.prompts, wall)


def measured_costs(rows: list[dict[str, Any]], prompts: int, wall: float) -> Costs:
    """Per-unit costs from a calibration's metrics rows, its evaluations' prompts and wall time."""
    train = [row for row in rows if row["kind"] == "train"]
    first, last, measured = train[0], train[-1], len(train) - 1
    end = {
        row["decoding"]: row["eval/seconds"] / prompts
        for row in rows
        if row["kind"] == "eval" and row["label"] == "after" and row["split"] == "val"
    }
    update_seconds = (last["seconds"] - first["seconds"]) / measured
    steady = len(train) * update_seconds + 2 * prompts * (end["sampled"] + end["greedy"])
    return Costs(
        update_seconds=update_seconds,
        samples_per_update=(last["samples_seen"] - first["samples_seen"]) / measured,
        tokens_per_update=(last["tokens_generated"] - first["tokens_generated"]) / measured,
        sampled_seconds=end["sampled"],
        greedy_seconds=end["greedy"],
        other_seconds=max(0.0, wall - steady),
    )


def costs_line(costs: Costs) -> str:
    """The console line of one calibration's measured costs."""
    return (
        f"  measured   {costs.update_seconds:.2f} s per update · "
        f"{costs.sampled_seconds:.2f} s per prompt sampled, {costs.greedy_seconds:.2f} s greedy · "
        f"{costs.other_seconds:.0f} s start-up and first calls"
    )


def estimate_table(rows: list[Row]) -> Table:
    """Runs, updates per run, seconds per update and predicted hours per row, and the total."""
    table = Table(
        title="predicted compute (hours, one run at a time)",
        box=box.SIMPLE_HEAD,
        padding=0,
        show_edge=False,
    )
    table.add_column("task", no_wrap=True)
    table.add_column("algo", no_wrap=True)
    for name in ("runs", "updates", "s/update", "train h", "eval h", "other h", "total h"):
        table.add_column(name, justify="right", no_wrap=True)
    for task, algo, p in rows:
        shape = (str(p.runs), str(p.updates), f"{p.update_seconds:.1f}") if p.runs else ("—",) * 3
        table.add_row(task, algo, *shape, *hours(p), end_section=(task, algo) == rows[-1][:2])
    everything = total([prediction for _, _, prediction in rows])
    table.add_row("total", "", str(everything.runs), "—", "—", *hours(everything))
    return table


def hours(p: Prediction) -> tuple[str, ...]:
    """Training, evaluation, other and total hours of a row, as table cells."""
    seconds = (p.train_seconds, p.eval_seconds, p.other_seconds, p.total_seconds)
    return tuple(f"{s / HOUR:.2f}" for s in seconds)


def summary_lines(plan: Plan, options: ExecutorOptions, rows: list[Row], threads: int) -> list[str]:
    """What was measured and on what, the total, and what it assumed."""
    import torch

    config = plan.report_runs(plan.spec.tasks[0], plan.spec.algos[0], 0)[0].config
    device = config.device
    if device.startswith("cuda"):
        device = f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    else:
        device = f"{device} ({os.cpu_count()} cores here)"
    everything = total([prediction for _, _, prediction in rows])
    extra = plan.extra_trials
    lines = [
        f"measured     per algorithm: {CALIBRATION_UPDATES} updates (the first a warm-up, not "
        f"counted) and one evaluation of up to {CALIBRATION_PROMPTS} val prompts, its first grid "
        f"value, through the sweep's worker on {device}, {threads} torch "
        f"thread{'s' if threads > 1 else ''} per run, {config.precision}, "
        f"torch {torch.__version__}",
        f"predicted    {everything.runs} runs: training {everything.train_seconds / HOUR:.2f} h"
        f" · evaluation {everything.eval_seconds / HOUR:.2f} h · other "
        f"{everything.other_seconds / HOUR:.2f} h · total {everything.total_seconds / HOUR:.2f} h"
        f" ({everything.total_seconds:.0f} s) one run at a time",
        "assumed      one start evaluation per task and report seed (the start row's, shared "
        "by every algorithm)"
        + (f"; tuning counts tune.extend_edges' {extra} more per algorithm" if extra else ""),
    ]
    if options.workers > 1:
        wall = everything.total_seconds / options.workers / HOUR
        lines.append(
            f"workers      {options.workers}: ≥ {wall:.2f} h of wall time (runs side by side "
            "share the machine and run slower than alone)"
        )
    lines.append(f"nothing was written to {plan.out} (the calibration ran in a temporary folder)")
    return lines
