"""`bench ls`: what each run directory below some paths holds, read leniently (never torch).

Unlike the report, which skips anything unfinished, this lists every run directory with its
status: finished (with its stop reason), running (a live `run.lock`), unfinished (no
result.json) or corrupt/unreadable; folders that are no run directories become warnings.
"""

import json
import math
import socket
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.api.schema import ANCHOR, REPORT_SPLIT
from harness.metrics.stats import Interval
from harness.rundir.lock import is_stale, lock_path, parse_holder
from reports.load import (
    READABLE_VERSIONS,
    SkippedRun,
    check_result,
    current_role,
    find_run_dirs,
    numbers,
    read_jsonl,
    splits,
    version_problem,
)

STATUSES = ("finished", "running", "unfinished", "corrupt", "unreadable")


@dataclass(frozen=True)
class Entry:
    """One run directory as `bench ls` shows it; None where the directory does not say."""

    path: Path
    status: str  # one of STATUSES
    task: str = "?"
    algo: str = "?"
    role: str = "?"
    seed: int | None = None
    stop_reason: str | None = None
    samples: float | None = None  # completions sampled so far (spent.samples when finished)
    budget: float | None = None  # budget.samples of its config
    before: float | None = None  # test eval/reward before training (sampled)
    after: float | None = None  # test eval/reward after training
    gain: Interval | None = None  # result.json heldout_gain: test change and its 95% CI
    kl: float | None = None  # test eval/kl_exact after training (per token)
    train_seconds: float | None = None  # training only
    wall_seconds: float | None = None  # training + every evaluation (model loading excluded)
    host: str | None = None  # the lock holder's host while running


def scan(paths: list[Path]) -> tuple[list[Entry], list[str]]:
    """Every run directory below `paths`; one warning per partial, corrupt or foreign one."""
    entries: list[Entry] = []
    warnings: list[str] = []
    for directory in outermost(find_run_dirs(paths)):
        entry, problem = read_entry(directory)
        if entry is not None:
            entries.append(entry)
        if problem is not None:
            warnings.append(f"{shown_path(directory)}: {problem}")
    return entries, warnings


def outermost(directories: list[Path]) -> list[Path]:
    """Leave out folders inside another found one (a run's saved `policy/` has a config.json)."""
    found = set(directories)
    return [d for d in directories if not any(parent in found for parent in d.parents)]


def shown_name(value: str) -> str:
    """A role or stop reason as `bench ls` and `bench show` print it: the on-disk "baseline" of an
    anchor row (the name predates "anchor") reads "anchor"."""
    return "anchor" if value == ANCHOR else value


def shown_path(path: Path) -> str:
    """The path relative to the working directory when it lies below it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_entry(directory: Path) -> tuple[Entry | None, str | None]:
    """A directory's Entry (None for a foreign folder) and the warning it deserves (or None)."""
    entry, problem = classify(directory)
    host = live_host(directory)
    if entry is None or host is None:
        return entry, problem
    running = replace(entry, status="running", host=None if host == this_host() else host)
    return running, None if entry.status == "unfinished" else problem


def classify(directory: Path) -> tuple[Entry | None, str | None]:
    """Finished, unfinished, corrupt, unreadable or foreign (None), from the files alone."""
    config, config_problem = optional_object(directory / "config.json")
    runlike = config is not None and isinstance(config.get("task"), str) and "algo" in config
    rows = read_jsonl(directory / "metrics.jsonl")
    base = with_progress(Entry(directory, "unfinished", **config_fields(config or {})), rows)
    if not (directory / "result.json").exists():
        if runlike:
            return base, unfinished_warning(base)
        if config_problem is not None:
            return replace(base, status="corrupt"), f"corrupt: {config_problem}"
        what = "config.json is no run config" if config else "no config.json or result.json"
        return None, f"not a run directory ({what})"
    result, problem = optional_object(directory / "result.json")
    if result is None:
        return replace(base, status="corrupt"), f"corrupt: {problem}"
    if not runlike and not {"schema_version", "task"} & result.keys():
        return None, "not a run directory (its result.json is no run result)"
    try:
        return finished_entry(base, result, rows), None
    except SkippedRun as reason:
        status = "unreadable" if version_problem(result, READABLE_VERSIONS) else "corrupt"
        return replace(base, status=status), f"{status}: {reason}"


def optional_object(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """A JSON object file's content, or None and why (None, None when there is no such file)."""
    if not path.exists():
        return None, None
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return None, f"{path.name} is not valid JSON ({error})"
    except OSError as error:
        return None, f"cannot read {path.name} ({error.strerror})"
    if not isinstance(data, dict):
        return None, f"{path.name} is not a JSON object"
    return data, None


def config_fields(config: dict[str, Any]) -> dict[str, Any]:
    """task, algo, role, seed and the samples budget of a config.json (what it has of them)."""
    budget = config.get("budget")
    samples = budget.get("samples") if isinstance(budget, dict) else None
    seed = config.get("seed")
    return {
        "task": str(config.get("task", "?")),
        "algo": str(config.get("algo", "?")),
        "role": str(config.get("role", "report")) if config else "?",
        "seed": seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        "budget": float(samples) if isinstance(samples, int | float) else None,
    }


def with_progress(entry: Entry, rows: list[dict[str, Any]]) -> Entry:
    """Samples, training seconds and the start's test reward so far, from metrics.jsonl rows."""
    train = [numbers(row) for row in rows if row.get("kind") == "train"]
    last = train[-1] if train else {}
    starts = [r for r in rows if eval_row(r, "before") and r.get("split") == REPORT_SPLIT]
    before = numbers(starts[0]).get("eval/reward") if starts else None
    return replace(
        entry,
        samples=last.get("samples_seen", 0.0 if rows else None),
        train_seconds=last.get("seconds"),
        before=before,
        wall_seconds=wall_seconds(last.get("seconds"), rows),
    )


def eval_row(row: dict[str, Any], label: str) -> bool:
    """True for a sampled evaluation row of metrics.jsonl with this label (before, after, ...)."""
    sampled = row.get("decoding") != "greedy"
    return row.get("kind") == "eval" and row.get("label") == label and sampled


def wall_seconds(train: float | None, rows: list[dict[str, Any]]) -> float | None:
    """Training seconds plus the seconds of every evaluation logged (None when neither is known)."""
    evals = [numbers(r).get("eval/seconds") for r in rows if r.get("kind") == "eval"]
    known = [s for s in evals if s is not None]
    if train is None and not known:
        return None
    return (train or 0.0) + sum(known)


def finished_entry(base: Entry, result: dict[str, Any], rows: list[dict[str, Any]]) -> Entry:
    """The Entry of a readable result.json; SkippedRun when its version or keys are wrong."""
    check_result(result)
    spent = numbers(result["spent"])
    before = splits(result["eval_before"]).get(REPORT_SPLIT, {})
    after = splits(result["eval_after"]).get(REPORT_SPLIT, {})
    seed = result["seed"]
    train = spent.get("seconds", base.train_seconds)
    return replace(
        base,
        status="finished",
        task=str(result["task"]),
        algo=str(result["algo"]),
        role=current_role(result["schema_version"], result["role"]),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else base.seed,
        stop_reason=str(result["stop_reason"]),
        samples=spent.get("samples", base.samples),
        before=finite(before.get("eval/reward")),
        after=finite(after.get("eval/reward")),
        gain=interval(result["heldout_gain"]),
        kl=finite(after.get("eval/kl_exact")),
        train_seconds=train,
        wall_seconds=wall_seconds(train, rows),
    )


def finite(value: float | None) -> float | None:
    """The value when it is a finite number, else None (shown as n/a, sorted last)."""
    return value if value is not None and math.isfinite(value) else None


def interval(gain: Any) -> Interval | None:
    """result.json's heldout_gain as an Interval (None when absent or malformed)."""
    values = numbers(gain)
    if not all(key in values for key in ("mean", "low", "high")):
        return None
    return Interval(values["mean"], values["low"], values["high"], int(values.get("n", 0)))


def this_host() -> str:
    """This machine's host name, as run.lock records it."""
    return socket.gethostname()


def live_host(directory: Path) -> str | None:
    """The host of a live run.lock's holder (its pid alive here, or fresh from elsewhere)."""
    path = lock_path(directory)
    try:
        content, age = path.read_bytes(), time.time() - path.stat().st_mtime
    except OSError:
        return None
    holder = parse_holder(content)
    if holder is None or is_stale(holder, age):
        return None
    return holder.host


def unfinished_warning(entry: Entry) -> str:
    """'unfinished: no result.json (32 of 64 samples); bench run ... --resume continues it'."""
    done = "no update logged" if not entry.samples else f"{entry.samples:.0f}"
    if entry.samples and entry.budget:
        done += f" of {entry.budget:.0f} samples"
    elif entry.samples:
        done += " samples"
    return f"unfinished: no result.json ({done}); `bench run --resume` continues it"
