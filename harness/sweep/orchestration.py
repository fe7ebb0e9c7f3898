"""A sweep end to end: tuning trials, each algorithm's selection, then its report runs.

    1. check       the executor settings (every run config was checked by plan_sweep)
    2. tune        every tuning trial (role tune) on the tuning seeds
    3. extend      with tune.extend_edges: N, N extra trials per algorithm, one at a time,
                   each placed from its current winner (harness/sweep/edges.py)
    4. select      each algorithm's best trial on val, as soon as that algorithm's own trials
                   have ended (harness/sweep/gate.py); selection.json at the output root
                   once every algorithm is selected
    5. report      its report runs (role report) with the winner's settings on the report
                   seeds, queued behind the tuning trials still waiting

The end prints one line per winner at an edge of the values tried: a value beyond it may do
better (tune.extend_edges tries them).

A run that finished before is skipped, an unfinished one resumes in its own directory, and one
locked by another process is skipped (named in the table). A live table follows every run on a
terminal; elsewhere (a log file, a pipe) each start and end is one timestamped line instead.
"""

import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace

from rich.console import Console
from rich.live import Live

from harness.api.errors import BenchError, unknown_choice
from harness.rundir.layout import is_finished, run_dir_for
from harness.sweep.executor import EXECUTORS, Executor, ExecutorOptions
from harness.sweep.gate import ReportGate
from harness.sweep.plan import Plan
from harness.sweep.table import (
    Entry,
    edge_lines,
    plan_entries,
    problem_lines,
    selection_lines,
    summary_line,
    sweep_table,
)
from harness.sweep.worker import Job, Outcome

POLL_SECONDS = 1.0


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did: every run's final row, and whether any run failed."""

    entries: tuple[Entry, ...]
    failed: bool


def check_options(options: ExecutorOptions) -> None:
    """One-line errors for bad executor settings, before anything runs."""
    if options.name not in EXECUTORS:
        raise unknown_choice("executor", options.name, EXECUTORS)
    if options.workers < 1:
        raise BenchError(f"--workers must be ≥ 1, got {options.workers}")
    if options.threads is not None and options.threads < 1:
        raise BenchError(f"--threads must be ≥ 1, got {options.threads}")
    if options.address is not None and options.name != "ray":
        raise BenchError("--address is a Ray cluster address; use it with --executor ray")
    if options.name == "ray":
        from harness.sweep.ray_executor import check_ray

        check_ray()


def open_executor(options: ExecutorOptions, gpus_per_run: int) -> Executor:
    """Start the executor named in `options` (a local Ray starts here when there is no address)."""
    if options.name == "ray":
        from harness.sweep.ray_executor import RayExecutor

        return RayExecutor(options, gpus_per_run)
    from harness.sweep.local_executor import LocalExecutor

    return LocalExecutor(options.workers)


def run_sweep(plan: Plan, options: ExecutorOptions, console: Console) -> SweepResult:
    """Run a checked plan; prints the live table, the selection and a summary line."""
    check_options(options)
    entries = plan_entries(plan)
    gate = ReportGate(plan, entries) if plan.spec.tune is not None else None
    first = range(len(plan.tuning) if gate is not None else len(entries))
    cuda = any(e.config.device.startswith("cuda") for e in entries)
    executor = open_executor(options, gpus_per_run=1 if cuda else 0)
    try:
        table = sweep_table(entries, console.width)
        with Live(table, console=console, refresh_per_second=1, transient=True) as live:
            execute(entries, first, executor, options, live, gate)
    except KeyboardInterrupt:  # the runs got Ctrl-C too: they checkpoint and stop
        console.print("interrupt    waiting for the running runs to checkpoint and stop")
        executor.close(cancel=True)
        for key, entry in enumerate(entries):
            if entry.submitted is not None:  # interrupted, unless it finished meanwhile
                done = is_finished(run_dir_for(entry.config))
                outcome = Outcome("done") if done else Outcome("failed", "interrupted")
                entries[key] = ended(entry, outcome)
        print_end(plan, entries, gate, console)
        raise
    except BaseException:
        executor.close(cancel=True)
        raise
    executor.close(cancel=False)
    print_end(plan, entries, gate, console)
    return SweepResult(tuple(entries), failed=any(e.state == "failed" for e in entries))


def print_end(plan: Plan, entries: list[Entry], gate: ReportGate | None, console: Console) -> None:
    """The final table, whole failure reasons, the selection and the summary line."""
    console.print(sweep_table(entries, console.width))
    for line in problem_lines(entries):
        console.print(line, highlight=False, markup=False)
    if gate is not None and plan.spec.tune is not None:
        decided = gate.decided()
        lines = selection_lines(decided, plan.spec.tune.select)
        for line in lines + edge_lines(decided, plan.extra_trials):
            console.print(line, highlight=False, markup=False)
    console.print(summary_line(entries, plan.spec.out), highlight=False, markup=False)


def execute(
    entries: list[Entry],
    keys: Iterable[int],
    executor: Executor,
    options: ExecutorOptions,
    live: Live,
    gate: ReportGate | None,
) -> None:
    """Run the entries at `keys`, then the report runs the gate releases as tuning ends, at
    most `options.workers` at a time, refreshing the table."""
    queue: deque[int] = deque()

    def enqueue(new: Iterable[int]) -> None:
        for key in new:
            if is_finished(run_dir_for(entries[key].config)):
                entries[key] = replace(entries[key], state="skipped", reason="done already")
            else:
                queue.append(key)

    def release() -> None:  # again while the gate hands back runs that were done already
        while gate is not None and (new := gate.ready()):
            enqueue(new)

    enqueue(keys)
    release()  # algorithms whose trials all finished before this sweep started
    in_flight = 0
    while queue or in_flight:
        while queue and in_flight < options.workers:
            key = queue.popleft()
            executor.submit(key, Job(entries[key].config, options.threads_per_run()))
            entries[key] = replace(entries[key], submitted=time.time())
            in_flight += 1
            log_line(live.console, entries, key, "started")
        for key, outcome in executor.finished(timeout=POLL_SECONDS):
            started = entries[key].submitted
            entries[key] = ended(entries[key], outcome)
            in_flight -= 1
            log_line(live.console, entries, key, outcome.state, started)
        release()
        live.update(sweep_table(entries, live.console.width))


def log_line(
    console: Console, entries: list[Entry], key: int, event: str, since: float | None = None
) -> None:
    """Off a terminal (where the live table never shows), one line per run started or ended:
    `2026-12-03 12:03:41  run 3/40 done in 14 min: summarization · ppo · seed 100 · tune ·
    lr=1e-05` (dated: a sweep resumed in parts can span days)."""
    if console.is_terminal:
        return
    entry = entries[key]
    took = f" in {(time.time() - since) / 60:.0f} min" if since is not None else ""
    why = f" ({entry.reason})" if entry.reason else ""
    what = f"{entry.config.task} · {entry.config.algo} · seed {entry.config.seed}"
    line = f"{what} · {entry.config.role} · {entry.settings}"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    console.print(
        f"{stamp}  run {key + 1}/{len(entries)} {event}{took}: {line}{why}",
        highlight=False,
        markup=False,
    )


def ended(entry: Entry, outcome: Outcome) -> Entry:
    """The row of a run whose worker returned."""
    return replace(entry, state=outcome.state, reason=outcome.reason, submitted=None)
