"""The local executor: a fresh process per run, `workers` of them at a time.

On Linux each run's process is forked from a forkserver that has imported torch, transformers
and the runner and done nothing else (importing them initialises no CUDA: tested), so a run
starts without paying those imports (seconds per run, most of a tiny run's time) and still shares
no state with the sweep or with an earlier run. The server is one per sweep process and keeps the
environment it started with, so each worker first takes the sweep's environment as it is when the
pool is made. Elsewhere runs are spawned: macOS lists forkserver, but forking a process that has
imported torch is not safe there (Python itself defaults to spawn on macOS). If the server was
already started without the preload, runs still work; they only pay the imports again.
"""

import multiprocessing
import os
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext

from harness.sweep.worker import Job, Outcome, one_line, run_in_worker

PRELOADED = ("torch", "transformers", "harness.launch", "harness.sweep.worker")


def worker_context() -> BaseContext:
    """forkserver with PRELOADED imported once in its server on Linux; spawn elsewhere."""
    if sys.platform != "linux":
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOADED))
    return context


class LocalExecutor:
    """Runs jobs in worker processes on this machine (no state shared with the sweep)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = self.new_pool()
        self.running: dict[Future[Outcome], int] = {}

    def new_pool(self) -> ProcessPoolExecutor:
        """A pool whose processes each run one job and exit, so memory never piles up."""
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=worker_context(),
            max_tasks_per_child=1,
            initializer=take_environment,
            initargs=(dict(os.environ),),
        )

    def submit(self, key: int, job: Job) -> None:
        """Queue a job in the pool (a new pool when a crashed worker broke the old one)."""
        try:
            future = self.pool.submit(run_in_worker, job)
        except BrokenProcessPool:
            self.pool.shutdown(wait=False)
            self.pool = self.new_pool()
            future = self.pool.submit(run_in_worker, job)
        self.running[future] = key

    def finished(self, timeout: float) -> list[tuple[int, Outcome]]:
        """Outcomes of the jobs that ended; a crashed worker process fails its job."""
        if not self.running:
            return []
        done, _ = wait(self.running, timeout=timeout, return_when=FIRST_COMPLETED)
        ended = []
        for future in done:
            key = self.running.pop(future)
            try:
                ended.append((key, future.result()))
            except Exception as err:  # the worker process died (killed, out of memory)
                reason = f"worker process died: {type(err).__name__} {one_line(str(err))}"
                ended.append((key, Outcome("failed", reason.strip())))
        return ended

    def close(self, cancel: bool) -> None:
        """Wait for the workers to exit; with `cancel`, drop the jobs not yet started."""
        self.pool.shutdown(wait=True, cancel_futures=cancel)


def take_environment(environment: dict[str, str]) -> None:
    """A worker's first act: the sweep's environment (BENCH_CACHE, HF_HUB_OFFLINE, trackers' keys)
    as it was when the pool was made, not the forkserver's from when it started."""
    os.environ.clear()
    os.environ.update(environment)
