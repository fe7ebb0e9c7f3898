"""What runs in a worker process (local or Ray): one run, resumed in its own directory.

The run's console output goes to `console.log` in its run directory, never to the terminal;
the outcome comes back as one line, so the sweep's live table stays readable.
"""

import json
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console

from harness.api.errors import BenchError
from harness.api.schema import BUDGET_REASONS
from harness.config.run_config import RunConfig
from harness.rundir.layout import run_dir_for
from harness.rundir.lock import LockHeld

CONSOLE_LOG = "console.log"
State = Literal["done", "failed", "skipped"]


@dataclass(frozen=True)
class Job:
    """One run to execute and the torch threads it may use."""

    config: RunConfig
    threads: int


@dataclass(frozen=True)
class Outcome:
    """How a run ended: done, failed (with a one-line reason) or skipped (locked elsewhere)."""

    state: State
    reason: str = ""


def run_in_worker(job: Job) -> Outcome:
    """A worker process's entry: its stdout and stderr (progress bars, warnings) go to the log."""
    run_dir = run_dir_for(job.config)
    run_dir.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    with (run_dir / CONSOLE_LOG).open("a") as log:
        os.dup2(log.fileno(), 1)  # this process runs one job and exits: nothing to restore
        os.dup2(log.fileno(), 2)
    return run_job(job)


def run_job(job: Job) -> Outcome:
    """Run (or resume) one run with `job.threads` torch threads; never raises."""
    import torch

    from harness.launch import run

    torch.set_num_threads(job.threads)
    run_dir = run_dir_for(job.config)
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / CONSOLE_LOG).open("a") as log:
        console = Console(file=log, width=120, force_terminal=False, soft_wrap=True)
        try:
            run(job.config, console, resume=True)
        except LockHeld as err:
            message = str(err)
            return Outcome("skipped", message[message.find("locked by") :])
        except BenchError as err:
            console.print(f"error: {err}", markup=False, highlight=False)
            return Outcome("failed", str(err))
        except KeyboardInterrupt:
            return Outcome("failed", "interrupted")
        except Exception as err:  # any crash is this run's failure, not the sweep's
            log.write(traceback.format_exc())
            return Outcome("failed", f"{type(err).__name__}: {one_line(str(err))}")
    return finished_outcome(run_dir)


def finished_outcome(run_dir: Path) -> Outcome:
    """done when result.json says the budget was spent; failed with the stop reason otherwise."""
    try:
        reason = json.loads((run_dir / "result.json").read_text()).get("stop_reason")
    except (OSError, json.JSONDecodeError):
        return Outcome("failed", f"no result.json (see {run_dir / CONSOLE_LOG})")
    if reason in BUDGET_REASONS:
        return Outcome("done")
    return Outcome("failed", f"stopped: {reason}")


def one_line(text: str) -> str:
    """The first line of a message (tracebacks go to console.log)."""
    lines = text.strip().splitlines()
    return lines[0] if lines else ""
