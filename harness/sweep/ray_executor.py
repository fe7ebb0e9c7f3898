"""The Ray executor: each run is a Ray task on a cluster (or on a local Ray started here).

Every node needs this package installed, and the output root must be one shared folder,
because each run writes its own directory there and the sweep reads them.
"""

import logging
import os

from harness.api.errors import BenchError
from harness.sweep.executor import ExecutorOptions
from harness.sweep.worker import Job, Outcome, one_line, run_in_worker

INSTALL = 'the ray executor needs Ray: pip install "rl-lm-bench[ray]"'


def check_ray() -> None:
    """BenchError with the install command when Ray is missing."""
    try:
        import ray  # noqa: F401
    except ImportError as err:
        raise BenchError(INSTALL) from err


class RayExecutor:
    """Runs jobs as Ray tasks: `threads` CPUs each, one GPU each when the runs use CUDA."""

    def __init__(self, options: ExecutorOptions, gpus_per_run: int) -> None:
        check_ray()
        import ray

        self.started_here = not ray.is_initialized()
        if self.started_here:
            settings = dict(log_to_driver=False, logging_level=logging.ERROR)
            if options.address is None:
                ray.init(num_cpus=os.cpu_count(), include_dashboard=False, **settings)
            else:
                ray.init(address=options.address, **settings)
        self.task = ray.remote(  # max_calls=1: a fresh worker process per run, like local
            num_cpus=options.threads_per_run(), num_gpus=gpus_per_run, max_calls=1
        )(run_in_worker)
        self.running: dict[object, int] = {}

    def submit(self, key: int, job: Job) -> None:
        """Send a job to the cluster."""
        self.running[self.task.remote(job)] = key

    def finished(self, timeout: float) -> list[tuple[int, Outcome]]:
        """Outcomes of the tasks that ended; a crashed task fails its job."""
        import ray

        if not self.running:
            return []
        refs = list(self.running)
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready:  # collect every task that has ended, not only the first
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        ended = []
        for ref in ready:
            key = self.running.pop(ref)
            try:
                ended.append((key, ray.get(ref)))
            except Exception as err:  # the task's worker died, or Ray lost the node
                ended.append((key, Outcome("failed", f"ray task failed: {one_line(str(err))}")))
        return ended

    def close(self, cancel: bool) -> None:
        """Interrupt unfinished tasks when cancelling; disconnect (stop a Ray started here)."""
        import ray

        if cancel:
            for ref in self.running:
                ray.cancel(ref)  # a KeyboardInterrupt in the task: the run stops and saves
            ray.wait(list(self.running), num_returns=len(self.running), timeout=60)
        if self.started_here:
            ray.shutdown()
