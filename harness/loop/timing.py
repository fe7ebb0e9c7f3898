"""Wall time of an update's phases, measured by one context manager.

A phase's seconds are its own: the time of a phase nested inside another (scoring inside
sampling) is taken out of the outer one, so the phases of an update add up to its wall time
and no second is counted twice. On a GPU the clock first waits for the kernels already queued
(`torch.cuda.synchronize`), or a phase would be charged for the work of the one before it.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch


@dataclass
class Stopwatch:
    """Seconds per phase name, summed over every time a phase was entered."""

    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    seconds: dict[str, float] = field(default_factory=dict)
    nested: list[float] = field(default_factory=list)
    """for each open phase, the seconds of the phases inside it so far"""

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block as `name`, less the phases that run inside it."""
        self.synchronize()
        started = time.perf_counter()
        self.nested.append(0.0)
        try:
            yield
        finally:
            self.synchronize()
            elapsed = time.perf_counter() - started
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed - self.nested.pop()
            if self.nested:
                self.nested[-1] += elapsed

    def total(self) -> float:
        """The wall time of every phase timed so far."""
        return sum(self.seconds.values())

    def row(self, names: tuple[str, ...]) -> dict[str, float]:
        """`time/<name>` for each of `names`, in that order (0.0 for a phase never entered)."""
        return {f"time/{name}": self.seconds.get(name, 0.0) for name in names}

    def synchronize(self) -> None:
        """Wait for queued GPU work, so the clock reads the time it really took."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
