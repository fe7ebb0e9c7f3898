"""The one training loop every algorithm shares: evaluate, update until the budget, evaluate.

Only `algorithm.update` (inside `train_step`) differs between algorithms; sampling, reward, KL
accounting, advantage estimation, budget, compute counting and evaluation are the same for all.
"""

import itertools
import math
import random
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.api.errors import BenchError
from harness.api.schema import BUDGET_REASONS
from harness.api.task import Example
from harness.config.run_config import RunConfig
from harness.loop.budget import Spent, stop_reason
from harness.loop.heldout import reward_cards
from harness.loop.setup import Setup, prepare
from harness.loop.step import train_step
from harness.rl.guards import NonFinite
from harness.run.anchors import shared_start, write_anchor_rows
from harness.run.checkpoint import (
    Loop,
    load_checkpoint,
    remove_checkpoint,
    restore,
    save_checkpoint,
)
from harness.run.eval_schedule import TRAINING_SPLIT, record_full_eval, run_eval, run_full_eval
from harness.run.export import POLICY_FOLDER, save_policy
from harness.run.result import finish
from harness.rundir.interrupt import deferred_interrupt
from harness.rundir.layout import create_run_dir, is_finished, run_dir_for
from harness.rundir.lock import hold


def execute(
    config: RunConfig, console: Console, resume: bool = False, export: bool = False
) -> Path:
    """Train and evaluate one run of a resolved, validated config; returns its run directory.

    `harness.launch.run` resolves and validates first; call that unless you already have.
    Without `resume` the run gets a new directory; with it, the config's own directory
    (`run_dir_for`): a finished run is left as it is, an unfinished one continues from its
    checkpoint (or starts again there if it has none). The start evaluation of a report run
    also becomes the `start` anchor row (and, for extractive tasks, `lead-n`), written once
    per seed beside the run. export: also write the trained policy to `RUN_DIR/policy` as a
    Hugging Face folder (harness.run.export).
    """
    own = run_dir_for(config)
    existed = resume and own.exists()
    run_dir = own if resume else create_run_dir(config)
    try:
        return run_in(run_dir, config, console, resume, export)
    except BenchError:
        if not existed:  # e.g. a hub policy or data that fails to load: leave nothing behind
            discard_empty_run_dir(run_dir, Path(config.out))
        raise


def discard_empty_run_dir(run_dir: Path, out: Path) -> None:
    """Remove a run directory this call created if no metrics were written, then its empty
    parents up to the output root."""
    if (run_dir / "metrics.jsonl").exists():
        return
    shutil.rmtree(run_dir, ignore_errors=True)
    for parent in run_dir.parents:
        try:
            parent.rmdir()  # only an empty folder goes
        except OSError:
            return
        if parent == out:
            return


def run_in(run_dir: Path, config: RunConfig, console: Console, resume: bool, export: bool) -> Path:
    """`execute` in a chosen run directory, under its lock."""
    with hold(run_dir), ExitStack() as cleanup:
        if resume and is_finished(run_dir):
            console.print(f"finished     {run_dir} (nothing to resume)")
            return run_dir
        setup = prepare(config, console, run_dir)
        cleanup.callback(setup.log.close)  # the trackers' files, also at Ctrl-C and on errors
        algo_state = setup.algorithm.init(setup.policy.model, setup.algo_config)
        saved = load_checkpoint(run_dir, config.device) if resume else None
        if saved is None:
            loop = start(setup, algo_state, console)
        else:
            loop = restore(setup, saved, algo_state)
            setup.log.replay()  # fresh trackers get the rows metrics.jsonl kept
            console.print(resumed_line(config, loop))
        reason = train(setup, loop, console)
        after = None
        if reason not in ("interrupted", "nonfinite"):  # no final evaluation of bad weights
            after = run_full_eval(setup, "after", loop.spent, console, loop.before)
        result = finish(
            run_dir,
            config,
            setup.task.version,
            (loop.spent, reason),
            (loop.before, after),
            setup.eval_curve,
            console,
            reward_cards(setup.task),
        )
        if export:
            folder = save_policy(setup.policy, run_dir / POLICY_FOLDER, dict(result))
            console.print(f"policy       {folder}")
        if reason in BUDGET_REASONS and not config.checkpoint.keep:
            remove_checkpoint(run_dir)
    return run_dir


def start(setup: Setup, algo_state: Any, console: Console) -> Loop:
    """Begin in an empty run directory: the start evaluation, anchor rows, a first checkpoint."""
    for stale in ("metrics.jsonl", "result.json"):  # an attempt killed before its first checkpoint
        (setup.run_dir / stale).unlink(missing_ok=True)
    shutil.rmtree(setup.run_dir / "samples", ignore_errors=True)
    spent = Spent()
    shared = shared_start(setup)
    if shared is None:
        before = run_full_eval(setup, "before", spent, console)
    else:
        before, row = shared
        console.print(f"start eval   this seed's start row's, not repeated ({row})")
        record_full_eval(setup, "before", before, spent, console)
    if setup.config.role == "report":  # tuning trials use their own seeds: no anchor rows
        write_anchor_rows(setup, before, console)
    loop = Loop(spent, before, algo_state)
    if setup.config.checkpoint.every:
        save_checkpoint(setup, loop)  # a resumed run never repeats the start evaluation
    return loop


def resumed_line(config: RunConfig, loop: Loop) -> str:
    """The console line of a resumed run (and why a time-limited one is not exact)."""
    line = f"resumed      at update {loop.spent.updates} ({loop.spent.samples} samples)"
    if config.budget.seconds is not None:
        line += (
            " · budget.seconds is set: a resumed run's time limit falls elsewhere than an "
            "uninterrupted one's, so it cannot repeat it exactly"
        )
    return line


def train(setup: Setup, loop: Loop, console: Console) -> str:
    """Update until a budget limit is reached (or Ctrl-C); return why it stopped.

    Checkpoints every `checkpoint.every` updates, at the first Ctrl-C (after the update in
    flight) and when training ends, so a kill in the final evaluation repeats only that.
    """
    config, spent = setup.config, loop.spent
    per_update, k = config.rollout.prompts_per_update, config.rollout.samples_per_prompt
    prompts = prompt_stream(setup.task.examples("train"), config.seed, loop.prompts_drawn)
    saved_at, warned_range = spent.updates, False

    def draw(count: int) -> list[Example]:
        loop.prompts_drawn += count
        return list(itertools.islice(prompts, count))

    with training_bar(config, spent, console) as show, deferred_interrupt(console) as stop:
        while (reason := stop_reason(config.budget, spent, per_update, k)) is None:
            try:
                row = train_step(setup, loop.algo_state, draw, spent)
                setup.log.append(row)  # metrics.jsonl and the trackers
                show(row)
                if "train/reward_out_of_range" in row and not warned_range:
                    warned_range = True  # reported once per run; the count stays in every row
                    console.print(range_line(setup, row), soft_wrap=True)
                if not all(math.isfinite(v) for v in row.values() if isinstance(v, float)):
                    return "nonfinite"  # the last good checkpoint stays
                every = config.eval.every
                if (
                    every
                    and spent.updates % every == 0
                    and stop_reason(config.budget, spent, per_update, k) is None
                ):
                    before = loop.before.sampled[TRAINING_SPLIT]
                    label = f"update{spent.updates}"
                    run_eval(setup, label, TRAINING_SPLIT, spent, console, before)
            except KeyboardInterrupt:  # a second Ctrl-C: stop now, keep the last checkpoint
                return "interrupted"
            except NonFinite as error:  # caught before the step: the weights are the last good
                console.print(f"nonfinite    update {spent.updates + 1}: {error}; stopped")
                return "nonfinite"
            every = config.checkpoint.every
            if stop.requested or (every and spent.updates % every == 0):
                save_checkpoint(setup, loop)
                saved_at = spent.updates
            if stop.requested:
                return "interrupted"
    if saved_at != spent.updates:
        save_checkpoint(setup, loop)
    return reason


def range_line(setup: Setup, row: dict[str, Any]) -> str:
    """The one console line about rewards outside the reward's declared range."""
    low, high = setup.task.reward.range
    count = int(row["train/reward_out_of_range"])
    return (
        f"reward       update {row['update']}: {count} value(s) of {setup.task.reward.name} "
        f"outside its declared range [{low}, {high}] (counted per update as "
        "train/reward_out_of_range; reported once)"
    )


@contextmanager
def training_bar(config: RunConfig, spent: Spent, console: Console) -> Iterator[Callable]:
    """A progress bar over the budget; yields `show(row)`, which moves it after an update."""
    total = config.budget.samples or config.budget.updates or 0

    def done() -> int:
        return spent.samples if config.budget.samples else spent.updates

    with Progress(
        TextColumn(f"[bold]{config.algo}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        bar = progress.add_task("train", total=total or None, completed=done(), status="")

        def show(row: dict[str, Any]) -> None:
            fit = (  # a supervised update has no reward, only the references' NLL
                f"reward {row['train/reward']:.3f}"
                if "train/reward" in row
                else f"nll {row['train/nll']:.3f}"
            )
            status = (
                f"{spent.updates} updates · {fit} · "
                f"KL {row['train/kl_exact']:.4f} · step {row['train/kl_step']:.4f}"
            )
            progress.update(bar, completed=done(), status=status)

        yield show


def prompt_stream(examples: list[Example], seed: int, start: int = 0) -> Iterator[Example]:
    """Training prompts in a seeded random order, reshuffled every epoch, forever; the first
    `start` are skipped (a resumed run continues the stream where it stopped)."""
    return itertools.islice(shuffled_forever(examples, seed), start, None)


def shuffled_forever(examples: list[Example], seed: int) -> Iterator[Example]:
    """The examples in a seeded random order, reshuffled every epoch, forever."""
    order = random.Random(seed)
    pool = list(examples)
    while True:
        order.shuffle(pool)
        yield from pool
