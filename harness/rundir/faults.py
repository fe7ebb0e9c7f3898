"""Fault injection for the resume tests: signal this process at a named point.

`BENCH_KILL_AT=POINT:N[:INT|:TERM]` sends SIGKILL (or SIGINT, as Ctrl-C does, or SIGTERM) to
the process the N-th time it reaches POINT: `update` (inside an update, after the rollout,
before the algorithm's step), `eval` (inside an evaluation, after
its samples are written and before its metrics line), `checkpoint` (inside a checkpoint
write, before the rename). Unset, it costs one dictionary lookup.
"""

import os
import signal
from collections import Counter

KILL_AT = "BENCH_KILL_AT"
POINTS = ("update", "eval", "checkpoint")
_reached: Counter[str] = Counter()


def kill_point(point: str) -> None:
    """Signal this process if BENCH_KILL_AT names this point and this is its N-th visit."""
    wanted = os.environ.get(KILL_AT)
    if not wanted:
        return
    name, count, *how = wanted.split(":")
    assert name in POINTS, f"{KILL_AT}={wanted}: the point must be one of {POINTS}"
    if name != point:
        return
    _reached[point] += 1
    if _reached[point] == int(count):
        os.kill(os.getpid(), getattr(signal, f"SIG{how[0]}") if how else signal.SIGKILL)
