"""Find run directories under the given paths and read them; bad ones become one-line warnings."""

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.api.errors import BenchError
from harness.api.schema import BUDGET_REASONS, CURVE_KEYS, REQUIRED_KEYS, version_problem

MARKERS = ("result.json", "config.json", "metrics.jsonl")


class SkippedRun(Exception):
    """A run directory that cannot be reported; the message says why in a few words."""


@dataclass(frozen=True)
class Run:
    """One finished run: its settings, its held-out metrics and its training curve."""

    path: Path
    task: str
    task_version: str
    algo: str
    seed: int
    stop_reason: str
    completed: bool
    config: dict[str, Any]
    spent: dict[str, float]
    eval_before: dict[str, float]
    eval_after: dict[str, float]
    curve: tuple[dict[str, float], ...]

    @property
    def stopped_by_budget(self) -> bool:
        """True when the run ended because it reached its budget, not for another reason."""
        return self.stop_reason in BUDGET_REASONS


def find_run_dirs(paths: list[Path]) -> list[Path]:
    """Every run directory at or below `paths` (a folder holding any of MARKERS), sorted."""
    found: set[Path] = set()
    for path in paths:
        if not path.exists():
            raise BenchError(f"no such file or directory: '{path}'")
        if not path.is_dir():
            raise BenchError(f"'{path}' is not a directory; give run directories or their roots")
        for marker in MARKERS:
            found.update(hit.parent.resolve() for hit in path.rglob(marker))
    if not found:
        shown = ", ".join(f"'{p}'" for p in paths)
        raise BenchError(f"no run directories found under {shown} (none holds {MARKERS[0]})")
    return sorted(found)


def load_runs(paths: list[Path]) -> tuple[list[Run], list[str]]:
    """Load every run directory below `paths`; return the runs and one warning per skipped one."""
    runs: list[Run] = []
    warnings: list[str] = []
    for directory in find_run_dirs(paths):
        try:
            runs.append(read_run(directory))
        except SkippedRun as reason:
            warnings.append(f"skipped {directory}: {reason}")
    return runs, warnings


def read_run(directory: Path) -> Run:
    """Read one run directory or raise SkippedRun naming what is missing or corrupt."""
    result_path = directory / "result.json"
    if not result_path.exists():
        raise SkippedRun("no result.json (partial or interrupted run)")
    result = read_json(result_path)
    problem = version_problem(result)
    if problem is not None:
        raise SkippedRun(problem)
    missing = [key for key in REQUIRED_KEYS if key not in result]
    if missing:
        raise SkippedRun(f"result.json lacks {', '.join(missing)}")
    config = result.get("config")
    if not isinstance(config, dict):
        config = read_json(directory / "config.json")
    before, after = numbers(result["eval_before"]), numbers(result["eval_after"])
    for name, metrics in (("eval_before", before), ("eval_after", after)):
        if not math.isfinite(metrics.get("eval/reward", math.nan)):
            reason = f"stop_reason={result['stop_reason']}"
            raise SkippedRun(f"no finite eval/reward in {name} ({reason})")
    return Run(
        path=directory,
        task=str(result["task"]),
        task_version=str(result.get("task_version", "?")),
        algo=str(result["algo"]),
        seed=int(result["seed"]),
        stop_reason=str(result["stop_reason"]),
        completed=bool(result.get("completed", False)),
        config=config,
        spent=numbers(result["spent"]),
        eval_before=before,
        eval_after=after,
        curve=read_curve(directory / "metrics.jsonl", result.get("curve")),
    )


def read_json(path: Path) -> dict[str, Any]:
    """Parse a JSON object or raise SkippedRun with the file name and the parser's complaint."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SkippedRun(f"no {path.name}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SkippedRun(f"{path.name} is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise SkippedRun(f"{path.name} is not a JSON object")
    return data


def numbers(metrics: Any) -> dict[str, float]:
    """The numeric entries of a metrics dict (an absent dict, e.g. null, gives {})."""
    if not isinstance(metrics, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The parsable JSON objects of a JSONL file; truncated or broken lines are skipped."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def read_curve(metrics_path: Path, fallback: Any) -> tuple[dict[str, float], ...]:
    """Training points (CURVE_KEYS and the rest of each train row) from metrics.jsonl."""
    rows = [row for row in read_jsonl(metrics_path) if row.get("kind") == "train"]
    if not rows and isinstance(fallback, list):
        rows = [row for row in fallback if isinstance(row, dict)]
    points = [numbers(row) for row in rows]
    return tuple(p for p in points if CURVE_KEYS[0] in p)
