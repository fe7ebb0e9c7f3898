"""One process per run directory: a lock file made exclusively, kept fresh, taken over if stale.

The lock file holds JSON {pid, host, started}. It is stale when its process is gone (same host)
or, for another host, when a heartbeat has not touched it for STALE_SECONDS. A stale lock is
taken over atomically: the taker hard-links it to a tombstone named after its content (only one
taker can create that name), removes it, then creates its own lock exclusively again. The
tombstone is kept for a while, so a slow taker that read the same stale lock can never remove
the new holder's lock.
"""

import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.api.errors import BenchError

LOCK_FILE = "run.lock"
HEARTBEAT_SECONDS = 30.0
"""how often the holder touches its lock file"""
STALE_SECONDS = 600.0
"""a lock of another host untouched for this long is stale (20 missed heartbeats)"""
WRITE_GRACE_SECONDS = 5.0
"""an empty or half-written lock younger than this is a creator still writing it"""
TAKEOVER_SECONDS = 10.0
"""give up (LockHeld) when the lock is still neither free nor held after this long"""
TOMBSTONE_PREFIX = f".{LOCK_FILE}.stale-"


@dataclass(frozen=True)
class Holder:
    """Who holds a run directory's lock."""

    pid: int
    host: str
    started: float


class LockHeld(BenchError):
    """The run directory is locked by a live process (the message names its pid and host)."""


def lock_path(run_dir: Path) -> Path:
    """The lock file of a run directory."""
    return Path(run_dir) / LOCK_FILE


def parse_holder(content: bytes) -> Holder | None:
    """The holder written in a lock file's bytes, or None when they are empty or unreadable."""
    try:
        data = json.loads(content)
        return Holder(int(data["pid"]), str(data["host"]), float(data["started"]))
    except (ValueError, KeyError, TypeError):
        return None


def read_holder(run_dir: Path) -> Holder | None:
    """Who holds `run_dir`'s lock file now (None: no lock file, or one being written)."""
    try:
        return parse_holder(lock_path(run_dir).read_bytes())
    except OSError:
        return None


def holder_text(holder: Holder) -> str:
    """'pid 123 on host h (since 2025-01-01 12:00:00)'."""
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.started))
    return f"pid {holder.pid} on host {holder.host} (since {since})"


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def is_stale(holder: Holder | None, age: float) -> bool:
    """Stale: its process is gone (this host), or no heartbeat for STALE_SECONDS (other host)."""
    if holder is None:
        return age > WRITE_GRACE_SECONDS
    if holder.host == socket.gethostname():
        return not pid_alive(holder.pid)
    return age > STALE_SECONDS


def create_exclusively(path: Path, content: bytes) -> bool:
    """Create the lock file with O_CREAT|O_EXCL; False when it exists already."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    return True


def take_over(path: Path, content: bytes, mtime_ns: int) -> bool:
    """Remove a stale lock (its bytes and mtime as read); False when another taker was first."""
    name = hashlib.sha256(content + str(mtime_ns).encode()).hexdigest()[:16]
    tombstone = path.with_name(TOMBSTONE_PREFIX + name)
    try:
        os.link(path, tombstone)  # one taker per stale lock can create this name
    except (FileExistsError, FileNotFoundError):
        return False
    if tombstone.read_bytes() != content:  # the lock changed since we read it: not ours to take
        tombstone.unlink(missing_ok=True)
        return False
    path.unlink(missing_ok=True)
    return True


def remove_old_tombstones(run_dir: Path) -> None:
    """Tombstones only guard a takeover in progress; drop those older than STALE_SECONDS."""
    for tombstone in Path(run_dir).glob(TOMBSTONE_PREFIX + "*"):
        try:
            if time.time() - tombstone.stat().st_mtime > STALE_SECONDS:
                tombstone.unlink()
        except OSError:
            pass


def acquire(run_dir: Path) -> bytes:
    """Take the run directory's lock (taking over a stale one); returns the bytes written."""
    path = lock_path(run_dir)
    holder = Holder(os.getpid(), socket.gethostname(), time.time())
    mine = json.dumps(asdict(holder)).encode()
    deadline = time.monotonic() + TAKEOVER_SECONDS
    while time.monotonic() < deadline:
        if create_exclusively(path, mine):
            return mine
        try:
            content, mtime_ns = path.read_bytes(), path.stat().st_mtime_ns
        except FileNotFoundError:
            continue  # released or taken over meanwhile: try again
        found = parse_holder(content)
        if not is_stale(found, time.time() - mtime_ns / 1e9):
            if found is not None:
                raise LockHeld(f"run directory {run_dir} is locked by {holder_text(found)}")
            time.sleep(0.05)  # its creator is still writing it
        elif not take_over(path, content, mtime_ns):
            time.sleep(0.05)  # another taker is replacing it
    raise LockHeld(f"run directory {run_dir} has a stale lock that could not be taken over")


def heartbeat(path: Path, mine: bytes, stop: threading.Event) -> None:
    """Touch the lock file every HEARTBEAT_SECONDS while it is still ours."""
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            if path.read_bytes() != mine:
                return
            os.utime(path)
        except OSError:
            return


def release(path: Path, mine: bytes) -> None:
    """Delete the lock file if it is still ours (a takeover's lock is never removed)."""
    try:
        if path.read_bytes() == mine:
            path.unlink()
    except FileNotFoundError:
        pass


@contextmanager
def hold(run_dir: Path) -> Iterator[None]:
    """Hold `run_dir`'s lock for the block (created if missing); LockHeld when a live one has it."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    remove_old_tombstones(run_dir)
    mine = acquire(run_dir)
    path, stop = lock_path(run_dir), threading.Event()
    beat = threading.Thread(target=heartbeat, args=(path, mine, stop), daemon=True)
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join(timeout=1.0)
        release(path, mine)
