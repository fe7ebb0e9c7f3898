"""The cache of built folders (policies, reward models); a crash never leaves half a folder."""

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


def cache_root() -> Path:
    """Where built policies and reward models are cached (override with BENCH_CACHE)."""
    default = Path.home() / ".cache" / "rl-lm-bench"
    return Path(os.environ.get("BENCH_CACHE", default))
