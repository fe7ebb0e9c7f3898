"""The cache of built folders (policies, reward models); a crash never leaves half a folder."""

import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_folder_atomically(folder: Path, write: Callable[[Path], None]) -> None:
    """Let `write` fill a staging folder beside `folder`, then rename it into place."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".building-"))
    try:
        write(staging)
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def build_once(folder: Path, is_built: Callable[[Path], bool], build: Callable[[], None]) -> bool:
    """Run `build` unless `folder` is built; return whether this call built it.

    A sweep's workers reach a cold cache together. Without the lock each builds, and the last
    rename deletes the folder another worker is already loading from (a sweep's first runs then
    failed with "Couldn't instantiate the backend tokenizer"). With it, the others wait for the
    first build and find the folder built.
    """
    if is_built(folder):
        return False
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, even on a crash
        if is_built(folder):
            return False
        build()
    return True


def cache_root() -> Path:
    """Where built policies and reward models are cached (override with BENCH_CACHE)."""
    default = Path.home() / ".cache" / "rl-lm-bench"
    return Path(os.environ.get("BENCH_CACHE", default))
