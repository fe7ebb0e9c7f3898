"""The GPU check's sizes and its JSON report, rewritten whole as each item and phase ends.

A phase runs inside a time box (SIGALRM). When the box expires the phase is recorded as
`timeout`, with the items it finished and the rest `skipped: timeout`, and the next phase
starts; nothing hangs past its box except a single C call that never returns (the device
tool's own time limit is the last resort, and the JSON already holds every finished phase).
An item that raises is recorded with its traceback's last line and the phase goes on. Nothing
here imports torch: the install phase must run before anything imports a model library.
"""

import json
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Item = dict[str, Any]
TASK_KWARGS = {"max_source_words": 40}  # as tests/conftest.py: one cached tiny serves both
TASK_OPTIONS = tuple(f"task.{key}={value}" for key, value in TASK_KWARGS.items())
BENCH_CACHE_FOLDER = "bench-cache"  # in the wheelhouse: tiny's cached policy, the BENCH_CACHE
SMOLLM2_CONFIG_FOLDER = "smollm2-135m-config"  # in the wheelhouse: config.json and tokenizer


@dataclass(frozen=True)
class Scale:
    """How big the check's runs are: FULL on a GPU, QUICK on CPU in the test suite."""

    prompts_per_update: int
    """prompts per update of the tiny runs (k = 2 completions each)"""
    updates: int
    """updates of each algorithm's run"""
    every_precision: bool
    """each algorithm in fp32 and in bf16; else each once, the precisions alternating"""
    rerun_updates: int
    """updates of the rerun and resume runs (the resumed run is killed in its 2nd)"""
    eval_prompts: int
    """held-out prompts per split of the tiny runs"""
    max_new_tokens: int
    """completion cap of the tiny runs"""
    speed_overrides: tuple[str, ...]
    """settings of every speed measurement (none: the defaults)"""
    speed_prompts: int
    """prompts per update of the smaller speed measurement (the larger has 4×)"""
    speed_updates: int
    """timed updates per speed measurement, after one warm-up update"""
    speed_precisions: tuple[str, ...]
    """precisions of the speed measurements"""
    ray: bool
    """run the Ray phase when Ray imports (a local Ray's start-up alone takes ~15 s of CPU)"""


FULL = Scale(
    prompts_per_update=4,
    updates=2,
    every_precision=True,
    rerun_updates=3,
    eval_prompts=4,
    max_new_tokens=16,
    speed_overrides=(),
    speed_prompts=8,  # RolloutConfig.prompts_per_update's default
    speed_updates=2,
    speed_precisions=("fp32", "bf16"),
    ray=True,
)
QUICK = Scale(
    prompts_per_update=2,
    updates=1,
    every_precision=False,
    rerun_updates=2,
    eval_prompts=1,
    max_new_tokens=4,
    speed_overrides=(*TASK_OPTIONS, "task.max_new_tokens=4", "rollout.samples_per_prompt=2"),
    speed_prompts=1,
    speed_updates=1,
    speed_precisions=("fp32",),
    ray=False,  # tests/test_sweep_ray.py runs the Ray executor
)


@dataclass(frozen=True)
class Check:
    """What every phase needs: the device, the sizes and where runs and models go."""

    device: str
    scale: Scale
    work: Path
    """a scratch folder for run directories and the speed phase's model"""
    speed_model: Path | None
    """a folder with a config.json and a tokenizer (no weights); None: tiny's own"""


class PhaseTimeout(BaseException):
    """A phase's time box expired. Not an Exception: code under test that catches Exception
    must not swallow it."""


@contextmanager
def time_box(seconds: float) -> Iterator[None]:
    """Raise PhaseTimeout in the main thread once `seconds` have passed."""

    def expire(signum: int, frame: object) -> None:
        raise PhaseTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def error_item(err: BaseException) -> Item:
    """A failed item: the traceback's last line and the innermost frame it came from."""
    frames = traceback.extract_tb(err.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None
    return {"ok": False, "error": traceback.format_exception_only(err)[-1].strip(), "where": where}


class Report:
    """The JSON file: `meta`, then one record per phase; saved atomically after every change."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = path
        self.data: dict[str, Any] = {"meta": meta, "phases": {}, "status": "running"}
        self.started = time.monotonic()
        self.save()

    def save(self) -> None:
        """Rewrite the file whole: write a temporary file beside it, then rename it over."""
        self.data["seconds"] = round(time.monotonic() - self.started, 1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.data, indent=1))
        os.replace(tmp, self.path)

    def run_phase(self, name: str, seconds: float, body: Callable[["Phase"], None]) -> None:
        """Run one phase inside its time box and record how it ended."""
        started = time.monotonic()
        record = {"status": "running", "limit_s": round(max(seconds, 0.0), 1), "items": {}}
        phase = Phase(self, record, deadline=started + seconds)
        self.data["phases"][name] = record
        try:
            if seconds <= 0:
                phase.skip("the check's time budget is spent")
            else:
                with time_box(seconds):
                    body(phase)
            phase.finish()
        except PhaseTimeout:
            phase.finish("timeout")
        except Exception as err:  # a phase's setup failed: record it, go on with the next
            phase.record.update(error_item(err))
            phase.finish("error")
        phase.record["seconds"] = round(time.monotonic() - started, 1)
        self.save()

    def close(self) -> bool:
        """Record the overall status; True when every phase is ok or skipped by design."""
        states = {record["status"] for record in self.data["phases"].values()}
        ok = states <= {"ok", "skipped"}
        self.data["status"] = "ok" if ok else "failed"
        self.save()
        return ok


@dataclass
class Phase:
    """One phase's record: its planned items, each saved as soon as it ends."""

    report: Report
    record: dict[str, Any]
    deadline: float
    """time.monotonic() at which the phase's time box expires"""

    def left(self) -> float:
        """Seconds left in the phase's time box (a child process's timeout)."""
        return max(1.0, self.deadline - time.monotonic())

    def plan(self, names: Iterable[str]) -> None:
        """Name the items ahead, so that a timeout can list those it never reached."""
        self.record["planned"] = list(names)

    def item(self, name: str, measure: Callable[[], Item]) -> Item:
        """Run one item: its dict (with `ok`), or its error, and its wall time; saved to the
        report either way."""
        started = time.monotonic()
        try:
            result = measure()
        except Exception as err:
            result = error_item(err)
        result["wall_s"] = round(time.monotonic() - started, 2)
        self.record["items"][name] = result
        self.report.save()
        return result

    def skip(self, reason: str) -> None:
        """Mark the whole phase as skipped by design (e.g. Ray is not installed)."""
        self.record["skipped"] = reason

    def finish(self, status: str | None = None) -> None:
        """Set the status: `status` (timeout, error) if given, else skipped, or ok when every
        item is ok, else failed. Planned items never reached are marked skipped with the why."""
        items = self.record["items"]
        for name in self.record.pop("planned", []):
            items.setdefault(name, {"ok": False, "skipped": status or "not reached"})
        if status is None and "skipped" in self.record:
            status = "skipped"
        elif status is None:
            status = "ok" if items and all(i.get("ok") for i in items.values()) else "failed"
        self.record["status"] = status
