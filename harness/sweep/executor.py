"""Executors run a sweep's jobs: `local` (worker processes) or `ray` (a Ray cluster).

Both hand back each job's Outcome as it ends (the sweep submits at most `workers` at a time); the
sweep follows progress by reading the run directories, so no other channel is needed.
"""

import os
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from harness.sweep.worker import Job, Outcome

ExecutorName = Literal["local", "ray"]
EXECUTORS: tuple[ExecutorName, ...] = get_args(ExecutorName)


@dataclass(frozen=True)
class ExecutorOptions:
    """Where and how many runs execute at once."""

    name: ExecutorName = "local"
    """local (worker processes on this machine) | ray (tasks on a Ray cluster)"""
    workers: int = 1
    """runs at a time"""
    threads: int | None = None
    """torch threads per run; None: this machine's CPUs // workers (at least 1)"""
    address: str | None = None
    """Ray cluster address; None starts a local Ray"""

    def threads_per_run(self) -> int:
        """Torch threads for each run, so that `workers` runs never oversubscribe the CPUs."""
        return self.threads or max(1, (os.cpu_count() or 1) // self.workers)


class Executor(Protocol):
    """Runs jobs in the background and hands back their outcomes."""

    def submit(self, key: int, job: Job) -> None:
        """Start (or queue) a job, known by `key`."""
        ...

    def finished(self, timeout: float) -> list[tuple[int, Outcome]]:
        """Wait up to `timeout` seconds; return the jobs that ended since the last call."""
        ...

    def close(self, cancel: bool) -> None:
        """Release the workers; with `cancel`, stop jobs not yet started and interrupt the rest."""
        ...
