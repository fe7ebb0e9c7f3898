"""Find run directories under the given paths and read them; bad ones become one-line warnings.

Paths written into the report files (leaderboard.md/.csv/.json, index.html) and its warnings are
relative to the report root: the deepest folder holding every path given on the command line (a
run directory given itself counts by its parent). So `bench report X --out Y` writes the same
bytes wherever X lies and whatever Y is.
"""

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.api.errors import BenchError
from harness.api.schema import (
    ANCHOR,
    BUDGET_REASONS,
    CURVE_KEYS,
    REPORT_SPLIT,
    REQUIRED_KEYS,
    ROLES,
    SCHEMA_VERSION,
    version_problem,
)
from reports.cards import Card, read_cards

MARKERS = ("result.json", "config.json", "metrics.jsonl")
# The result.json versions this reporter reads, each with its roles and what they are called now.
ROLE_NAMES: dict[int, dict[str, str]] = {
    3: {"trained": "report", "baseline": ANCHOR},  # 3 called a leaderboard run "trained"
    4: {role: role for role in ROLES},
    SCHEMA_VERSION: {role: role for role in ROLES},  # 5 added optional keys only
}
READABLE_VERSIONS = tuple(ROLE_NAMES)


class SkippedRun(Exception):
    """A run directory that cannot be reported; the message says why in a few words."""


@dataclass(frozen=True)
class Run:
    """One finished run: its settings, its metrics per split, its val eval curve, its curve.

    eval_before / eval_after map a split (val, test) to its `eval/...` and `eval/greedy/...`
    metrics; eval_curve holds the sampled val reward and exact KL of every val evaluation;
    kl_gradient says what the KL term's gradient is (result.json's words).
    """

    path: Path
    name: str
    """the run directory relative to the report root (what the report files show)"""
    task: str
    task_version: str
    algo: str
    role: str
    seed: int
    stop_reason: str
    completed: bool
    config: dict[str, Any]
    spent: dict[str, float]
    eval_before: dict[str, dict[str, float]]
    eval_after: dict[str, dict[str, float]]
    eval_curve: tuple[dict[str, float], ...]
    curve: tuple[dict[str, float], ...]
    kl_gradient: str = ""
    heldout_gain: dict[str, float] | None = None
    """the test reward's change over the run's own start, per prompt (result.json's
    `heldout_gain`: mean, low, high, n of a paired bootstrap over the test prompts)"""
    prompt_rewards: tuple[float, ...] = ()
    """an external run's mean test reward per prompt (sampled): its interval with one seed"""
    reward_cards: tuple[Card, ...] = ()  # the learned models it read (result.json, schema 5)

    @property
    def stopped_by_budget(self) -> bool:
        """True when the run ended because it reached its budget, not for another reason."""
        return self.stop_reason in BUDGET_REASONS

    @property
    def anchor(self) -> bool:
        """True for an anchor row's run (`start` or a text anchor such as `lead-9`); on disk its
        role is ANCHOR, "baseline"."""
        return self.role == ANCHOR

    @property
    def external(self) -> bool:
        """True for a checkpoint trained elsewhere and scored by `bench eval`."""
        return self.role == "external"

    @property
    def trained(self) -> bool:
        """True for a run this tool trained as a leaderboard row (role report)."""
        return self.role == "report"

    @property
    def reference(self) -> str | None:
        """An external run's reference policy (None: no reference, no KL and no Δ)."""
        return self.config.get("algo_config", {}).get("reference") if self.external else None

    @property
    def tuning(self) -> bool:
        """True for a sweep's tuning trial: never a leaderboard row."""
        return self.role == "tune"

    @property
    def before(self) -> dict[str, float]:
        """The reported split's metrics before training."""
        return self.eval_before[REPORT_SPLIT]

    @property
    def after(self) -> dict[str, float]:
        """The reported split's metrics after training (what the leaderboard shows)."""
        return self.eval_after[REPORT_SPLIT]


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
    # a folder inside a run directory is part of it (e.g. RUN_DIR/policy, a saved model whose
    # config.json is not a run's), never a run of its own
    found = {folder for folder in found if not any(p in found for p in folder.parents)}
    if not found:
        shown = ", ".join(f"'{p}'" for p in paths)
        raise BenchError(f"no run directories found under {shown} (none holds {MARKERS[0]})")
    return sorted(found)


def report_root(paths: list[Path]) -> Path:
    """The folder the report's paths are relative to: the deepest one holding every path given,
    a run directory counting by its parent (so that it is shown by its name, never as `.`)."""
    folders = [
        path.resolve().parent if any((path / m).exists() for m in MARKERS) else path.resolve()
        for path in paths
    ]
    return Path(os.path.commonpath(folders))


def relative_name(path: Path, root: Path) -> str:
    """`path` as the report files show it: relative to `root`, with `/` separators."""
    return Path(os.path.relpath(path, root)).as_posix()


def load_runs(paths: list[Path]) -> tuple[list[Run], list[str]]:
    """Load every run directory below `paths`; return the runs and one warning per skipped one."""
    runs: list[Run] = []
    warnings: list[str] = []
    directories = find_run_dirs(paths)
    root = report_root(paths)
    for directory in directories:
        try:
            runs.append(read_run(directory, relative_name(directory, root)))
        except SkippedRun as reason:
            warnings.append(f"skipped {relative_name(directory, root)}: {reason}")
    return runs, warnings


def read_run(directory: Path, name: str) -> Run:
    """Read one run directory (shown as `name`) or raise SkippedRun naming what is wrong."""
    result_path = directory / "result.json"
    if not result_path.exists():
        raise SkippedRun("no result.json (partial or interrupted run)")
    result = read_json(result_path)
    check_result(result)
    role = current_role(result["schema_version"], result["role"])
    config = result.get("config")
    if not isinstance(config, dict):
        config = read_json(directory / "config.json")
    names = ("eval_before", "eval_after")
    if role == "tune":  # never a row, so it needs no test split (its failures show in Tuning)
        before, after = (splits(result[name]) for name in names)
    elif role == "external" and not result["eval_before"]:  # no reference: nothing before
        before, after = {}, reported_splits(result, "eval_after")
    else:
        before, after = (reported_splits(result, name) for name in names)
    curve = result["eval_curve"] if isinstance(result["eval_curve"], list) else []
    return Run(
        path=directory,
        name=name,
        task=str(result["task"]),
        task_version=str(result.get("task_version", "?")),
        algo=str(result["algo"]),
        role=role,
        seed=int(result["seed"]),
        stop_reason=str(result["stop_reason"]),
        completed=bool(result.get("completed", False)),
        config=config,
        spent=numbers(result["spent"]),
        eval_before=before,
        eval_after=after,
        eval_curve=tuple(numbers(point) for point in curve),
        curve=read_curve(directory / "metrics.jsonl", result.get("curve")),
        kl_gradient=str(result["kl_gradient"]),
        heldout_gain=numbers(result.get("heldout_gain")) or None,
        prompt_rewards=prompt_rewards(result),
        reward_cards=read_cards(result.get("reward_cards")),
    )


def prompt_rewards(result: dict[str, Any]) -> tuple[float, ...]:
    """An external run's per-prompt test rewards (result.json `external`), else ()."""
    external = result.get("external")
    values = external.get("prompt_rewards") if isinstance(external, dict) else None
    if not isinstance(values, list):
        return ()
    return tuple(float(v) for v in values if isinstance(v, int | float))


def current_role(version: int, role: Any) -> str:
    """The role as this schema names it (3's "trained" is "report"); SkippedRun if unknown."""
    names = ROLE_NAMES[version]
    if not isinstance(role, str) or role not in names:
        raise SkippedRun(f"role {role!r} is not one of {', '.join(names)} (schema {version})")
    return names[role]


def check_result(result: dict[str, Any]) -> None:
    """SkippedRun when a result.json has a version this code does not read or lacks keys."""
    problem = version_problem(result, READABLE_VERSIONS)
    if problem is not None:
        raise SkippedRun(problem)
    missing = [key for key in REQUIRED_KEYS if key not in result]
    if missing:
        raise SkippedRun(f"result.json lacks {', '.join(missing)}")


def reported_splits(result: dict[str, Any], name: str) -> dict[str, dict[str, float]]:
    """The splits of evaluation `name`; SkippedRun without a finite reward on REPORT_SPLIT."""
    found = splits(result[name])
    reason = f"stop_reason={result['stop_reason']}"
    if REPORT_SPLIT not in found:
        present = ", ".join(found) or "none"
        raise SkippedRun(f"no {REPORT_SPLIT} split in {name} (splits: {present}; {reason})")
    if not math.isfinite(found[REPORT_SPLIT].get("eval/reward", math.nan)):
        raise SkippedRun(f"no finite eval/reward in {name}[{REPORT_SPLIT}] ({reason})")
    return found


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


def splits(evaluation: Any) -> dict[str, dict[str, float]]:
    """The numeric metrics of each split of an evaluation (`{"val": {...}, "test": {...}}`)."""
    if not isinstance(evaluation, dict):
        return {}
    return {str(split): numbers(m) for split, m in evaluation.items() if isinstance(m, dict)}


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
