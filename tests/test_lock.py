"""Run-directory locks against real processes: held, released, stale (dead pid, silent host)."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from harness.api.errors import BenchError
from harness.rundir import lock
from harness.rundir.lock import LOCK_FILE, LockHeld, hold, read_holder

HOLD_UNTIL_STDIN_CLOSES = """
import sys
from harness.rundir.lock import hold
with hold(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""
TAKE_OVER = """
import sys, time
from harness.rundir.lock import LockHeld, hold
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # start together
try:
    with hold(sys.argv[1]):
        time.sleep(1.0)
        print("took")
except LockHeld:
    print("held")
"""


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def write_lock(run_dir, pid: int, host: str, age: float = 0.0) -> None:
    path = run_dir / LOCK_FILE
    path.write_text(json.dumps({"pid": pid, "host": host, "started": time.time() - age}))
    os.utime(path, (time.time() - age, time.time() - age))


def test_a_lock_held_by_another_process_names_it_and_is_free_after_it_exits(tmp_path):
    run_dir = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_UNTIL_STDIN_CLOSES, str(run_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(LockHeld) as caught:
        with hold(run_dir):
            pass
    message = str(caught.value)
    assert f"pid {holder.pid} on host {socket.gethostname()}" in message and "\n" not in message
    assert isinstance(caught.value, BenchError)
    holder.communicate("")  # the holder leaves its block and deletes the lock
    assert not (run_dir / LOCK_FILE).exists()
    with hold(run_dir):
        assert read_holder(run_dir).pid == os.getpid()
    assert not (run_dir / LOCK_FILE).exists()


def test_a_killed_holder_leaves_a_stale_lock_that_is_taken_over(tmp_path):
    run_dir = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_UNTIL_STDIN_CLOSES, str(run_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    assert read_holder(run_dir).pid == holder.pid  # left behind
    with hold(run_dir):
        assert read_holder(run_dir).pid == os.getpid()


def test_a_dead_pid_on_this_host_is_stale_a_live_one_is_not(tmp_path):
    write_lock(tmp_path, dead_pid(), socket.gethostname())
    with hold(tmp_path):
        assert read_holder(tmp_path).pid == os.getpid()
    write_lock(tmp_path, os.getppid(), socket.gethostname(), age=3600)  # alive: age is no matter
    with pytest.raises(LockHeld, match=f"pid {os.getppid()} on host"):
        with hold(tmp_path):
            pass


def test_another_hosts_lock_is_stale_only_without_a_recent_heartbeat(tmp_path):
    write_lock(tmp_path, 1, "elsewhere", age=60)
    with pytest.raises(LockHeld, match="pid 1 on host elsewhere"):
        with hold(tmp_path):
            pass
    write_lock(tmp_path, 1, "elsewhere", age=lock.STALE_SECONDS + 1)
    with hold(tmp_path):
        assert read_holder(tmp_path).host == socket.gethostname()


def test_the_holder_keeps_its_lock_fresh(tmp_path, monkeypatch):
    monkeypatch.setattr(lock, "HEARTBEAT_SECONDS", 0.05)
    with hold(tmp_path):
        path = tmp_path / LOCK_FILE
        os.utime(path, (time.time() - 3600, time.time() - 3600))
        time.sleep(0.3)
        assert time.time() - path.stat().st_mtime < 1


def test_one_of_several_racing_takers_wins_a_stale_lock(tmp_path):
    write_lock(tmp_path, dead_pid(), socket.gethostname())
    start = str(time.time() + 1.5)
    takers = [
        subprocess.Popen(
            [sys.executable, "-c", TAKE_OVER, str(tmp_path), start],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = sorted(taker.communicate()[0].strip() for taker in takers)
    assert outputs == ["held", "held", "held", "took"]
    assert not (tmp_path / LOCK_FILE).exists()


def test_the_same_process_cannot_hold_a_run_directory_twice(tmp_path):
    with hold(tmp_path / "new"):
        assert (tmp_path / "new" / LOCK_FILE).exists()
        with pytest.raises(LockHeld):
            with hold(tmp_path / "new"):
                pass
        assert (tmp_path / "new" / LOCK_FILE).exists()  # the failed attempt leaves it alone
