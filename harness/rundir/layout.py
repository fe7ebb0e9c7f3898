"""Run directories: naming, atomic JSON writes and an append-only, flushed metrics log.

Layout of one run directory:
  config.json          the fully resolved RunConfig (`bench run --config` replays it)
  metrics.jsonl        one line per update (kind=train) and per evaluation (kind=eval)
  samples/eval_*.jsonl held-out generations: id, prompt, references, generation, reward
  result.json          written last; its absence marks an unfinished run
"""

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from harness.api.schema import DEFAULT_PRECISION
from harness.config.run_config import RESULT_NEUTRAL, RunConfig
from harness.data.task_files import task_name


def run_dir_for(config: RunConfig) -> Path:
    """`OUT/TASK/ALGO/seedS-HASH`: the one directory of this config (HASH: the other settings).

    RESULT_NEUTRAL settings (output folder, checkpoint frequency) are left out, so a sweep run
    again, or `bench run --resume`, finds the same directory. A task file becomes its name.
    The default precision is left out too: fp32 runs keep the names they had before the
    precision setting existed, so older sweeps still resume.
    """
    config = replace(config, task=task_name(config.task))
    flat = config.to_dict()
    settings = {k: v for k, v in flat.items() if k not in (*RESULT_NEUTRAL, "seed")}
    if settings["precision"] == DEFAULT_PRECISION:
        del settings["precision"]
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:6]
    return Path(config.out) / config.task / config.algo / f"seed{config.seed}-{digest}"


def create_run_dir(config: RunConfig) -> Path:
    """A new directory: `run_dir_for(config)`, or with `-N` appended when that one exists."""
    base = run_dir_for(config)
    path, attempt = base, 1
    while True:
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            attempt += 1
            path = base.with_name(f"{base.name}-{attempt}")


def is_finished(run_dir: Path) -> bool:
    """True when the run wrote result.json and was not interrupted (resuming changes nothing)."""
    try:
        result = json.loads((run_dir / "result.json").read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return isinstance(result, dict) and result.get("stop_reason") != "interrupted"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: a reader sees the old file or the whole new one, never a part."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write a whole JSONL file atomically."""
    write_text_atomic(path, "".join(json.dumps(row) + "\n" for row in rows))


def append_jsonl(path: Path, row: dict[str, Any]) -> None:
    """Append one line and flush it to disk, so an interrupted run keeps every finished update."""
    with path.open("a") as handle:
        handle.write(json.dumps(row) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


@cache
def new_file_mode() -> int:
    """The mode open() gives a new file: 0o666 less the process's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, fsync it, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, new_file_mode())  # mkstemp's 0600 would hide results from a shared group
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
