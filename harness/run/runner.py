"""The one training loop every algorithm shares: evaluate, update until the budget, evaluate.

Only `algorithm.update` (inside `train_step`) differs between algorithms; sampling, reward, KL
accounting, advantage estimation, budget, compute counting and evaluation are the same for all.
"""

import random
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.api.task import Example
from harness.config.run_config import RunConfig
from harness.run.baselines import write_baselines
from harness.run.budget import Spent, prompts_for_update, stop_reason
from harness.run.evaluations import TRAINING_SPLIT, Checkpoint, run_checkpoint, run_eval
from harness.run.result import finish
from harness.run.rundir import append_jsonl
from harness.run.setup import Setup, prepare
from harness.run.step import train_step


def execute(config: RunConfig, console: Console) -> Path:
    """Train and evaluate one run of a resolved, validated config; returns its run directory.

    `harness.launch.run` resolves and validates first; call that unless you already have.
    The start evaluation also becomes the `start` baseline row (and, for extractive tasks,
    `lead-n`), written once per seed beside the run.
    """
    setup = prepare(config, console)
    spent = Spent()
    before = run_checkpoint(setup, "before", spent, console)
    write_baselines(setup, before, console)
    reason = train(setup, spent, before, console)
    after = None
    if reason != "interrupted":
        after = run_checkpoint(setup, "after", spent, console, before)
    finish(
        setup.run_dir,
        config,
        setup.task.version,
        (spent, reason),
        (before, after),
        setup.eval_curve,
        console,
    )
    return setup.run_dir


def train(setup: Setup, spent: Spent, before: Checkpoint, console: Console) -> str:
    """Update until a budget limit is reached (or Ctrl-C); return why it stopped."""
    config, rollout_cfg = setup.config, setup.config.rollout
    k = rollout_cfg.samples_per_prompt
    state = setup.algorithm.init(setup.policy.model, setup.algo_config)
    prompts = prompt_stream(setup.task.examples("train"), config.seed)
    total = config.budget.samples or config.budget.updates or 0
    with Progress(
        TextColumn(f"[bold]{config.algo}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        bar = progress.add_task("train", total=total or None, status="")
        while (
            reason := stop_reason(config.budget, spent, rollout_cfg.prompts_per_update, k)
        ) is None:
            count = prompts_for_update(config.budget, spent, rollout_cfg.prompts_per_update, k)
            try:
                row = train_step(setup, state, [next(prompts) for _ in range(count)], spent)
            except KeyboardInterrupt:
                return "interrupted"
            append_jsonl(setup.run_dir / "metrics.jsonl", row)
            progress.update(
                bar,
                completed=spent.samples if config.budget.samples else spent.updates,
                status=f"{spent.updates} updates · reward {row['train/reward']:.3f} · "
                f"KL {row['train/kl_exact']:.4f} · step {row['train/kl_step']:.4f}",
            )
            if not all(
                torch.isfinite(torch.tensor(v)) for v in row.values() if isinstance(v, float)
            ):
                return "nonfinite"
            every = config.eval.every
            if (
                every
                and spent.updates % every == 0
                and stop_reason(config.budget, spent, rollout_cfg.prompts_per_update, k) is None
            ):
                label = f"update{spent.updates}"
                run_eval(
                    setup, label, TRAINING_SPLIT, spent, console, before.sampled[TRAINING_SPLIT]
                )
    return reason


def prompt_stream(examples: list[Example], seed: int):
    """Training prompts in a seeded random order, reshuffled every epoch, forever."""
    order = random.Random(seed)
    pool = list(examples)
    while True:
        order.shuffle(pool)
        yield from pool
