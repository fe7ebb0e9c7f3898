"""Which runs may be pooled into one leaderboard row, and what each row is called (RULE)."""

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from harness.api.errors import BenchError
from reports.load import Run

SHARED_SECTIONS = ("budget", "rollout", "eval", "task_options")
# Chunk sizes that bound memory but leave the results unchanged (up to float round-off).
COMPUTE_ONLY = ("rollout.micro_batch_prompts", "eval.batch_prompts")
MISSING = "<absent>"
RULE = (
    "A table holds the runs of one task; a row is one algorithm with one algo_config, and its"
    " runs differ only in seed (out and device never matter). Shared settings are task_version,"
    " policy and every key of budget, rollout, eval and task_options except the memory-only chunk"
    " sizes (rollout.micro_batch_prompts, eval.batch_prompts): if they differ between the"
    " runs of a task the report is refused, naming each differing key and its values. With"
    " --allow-mixed each combination of the differing settings becomes a row of its own (e.g."
    " 'reinforce · rollout.advantage=batch-mean'): runs with different settings are still never"
    " averaged together, and the report warns, naming the keys."
)


@dataclass(frozen=True)
class Group:
    """The runs of one leaderboard row and the settings that name it."""

    label: str
    algo: str
    algo_config: dict[str, Any]
    settings: dict[str, Any]
    runs: tuple[Run, ...]


def shared_settings(run: Run) -> dict[str, Any]:
    """The settings that must match for runs to be pooled, as flat dotted keys."""
    flat: dict[str, Any] = {"task_version": run.task_version}
    flatten("policy", run.config.get("policy", MISSING), flat)
    for section in SHARED_SECTIONS:
        flatten(section, run.config.get(section, {}), flat)
    for key in COMPUTE_ONLY:
        flat.pop(key, None)
    return flat


def flatten(prefix: str, value: Any, into: dict[str, Any]) -> None:
    """Write nested dict `value` into `into` under dotted keys starting with `prefix`."""
    if isinstance(value, dict):
        for key, inner in value.items():
            flatten(f"{prefix}.{key}", inner, into)
    else:
        into[prefix] = value


def differing(settings: list[dict[str, Any]]) -> dict[str, Counter]:
    """For each key whose value is not the same in every dict: a count of each value."""
    keys = sorted({key for flat in settings for key in flat})
    counts = {key: Counter(show(flat.get(key, MISSING)) for flat in settings) for key in keys}
    return {key: count for key, count in counts.items() if len(count) > 1}


def show(value: Any) -> str:
    """A short, stable text form of a setting's value."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def describe(varied: dict[str, Counter]) -> str:
    """`rollout.advantage (rloo ×4, batch-mean ×2); policy (tiny ×2, smollm2-135m ×4)`."""
    parts = []
    for key, count in varied.items():
        values = ", ".join(f"{value} ×{n}" for value, n in sorted(count.items()))
        parts.append(f"{key} ({values})")
    return "; ".join(parts)


def group_runs(task: str, runs: list[Run], allow_mixed: bool) -> tuple[list[Group], list[str]]:
    """Split one task's runs into rows; refuse differing shared settings unless allowed."""
    flats = [shared_settings(run) for run in runs]
    varied = differing(flats)
    warnings = []
    if varied and not allow_mixed:
        raise BenchError(
            f"runs of task '{task}' differ in shared settings, so they are not pooled: "
            f"{describe(varied)}; pass --allow-mixed to report each setting as its own row"
        )
    if varied:
        warnings.append(
            f"MIXED SETTINGS in '{task}' (--allow-mixed): rows differ in {describe(varied)}; "
            "they were not measured under the same conditions"
        )
    buckets: dict[str, list[Run]] = {}
    for run, flat in zip(runs, flats, strict=True):
        key = json.dumps(
            [run.algo, run.config.get("algo_config", {}), {k: show(flat.get(k)) for k in varied}],
            sort_keys=True,
        )
        buckets.setdefault(key, []).append(run)
    groups = [make_group(members, list(varied)) for members in buckets.values()]
    return label_groups(groups), warnings


def make_group(runs: list[Run], varied: list[str]) -> Group:
    """A row from runs that share algo, algo_config and the values of the varied keys."""
    first = shared_settings(runs[0])
    settings = {key: first.get(key, MISSING) for key in varied}
    ordered = tuple(sorted(runs, key=lambda run: (run.seed, str(run.path))))
    algo_config = runs[0].config.get("algo_config", {})
    return Group(runs[0].algo, runs[0].algo, algo_config, settings, ordered)


def label_groups(groups: list[Group]) -> list[Group]:
    """Name each row: the algorithm, plus algo_config keys and settings that tell rows apart."""
    labelled = []
    for group in groups:
        same_algo = [g for g in groups if g.algo == group.algo]
        own = differing([g.algo_config for g in same_algo]) if len(same_algo) > 1 else {}
        parts = [f"{key}={show(group.algo_config.get(key, MISSING))}" for key in own]
        parts += [f"{key}={show(value)}" for key, value in group.settings.items()]
        label = " · ".join([group.algo, ", ".join(parts)]) if parts else group.algo
        labelled.append(Group(label, group.algo, group.algo_config, group.settings, group.runs))
    return sorted(labelled, key=lambda g: g.label)


def common_settings(runs: list[Run]) -> dict[str, Any]:
    """The shared settings that are the same in every run (the table's conditions)."""
    flats = [shared_settings(run) for run in runs]
    varied = differing(flats)
    return {key: value for key, value in flats[0].items() if key not in varied}
