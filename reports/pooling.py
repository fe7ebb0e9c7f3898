"""Which runs may be pooled into one leaderboard row, and what each row is called (RULE)."""

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from harness.api.errors import BenchError
from harness.api.schema import (
    ALGORITHM_PARTS,
    ANCHOR,
    DEFAULT_PRECISION,
    EVALUATION_ROLLOUT,
    EVALUATION_SECTIONS,
    MEMORY_ONLY,
)
from reports.load import Run

SHARED_SECTIONS = ("budget", "rollout", "eval", "task_options")
EVALUATION_KEYS = ("task_version", *EVALUATION_SECTIONS)
MISSING = "<absent>"
RULE = (
    "A table holds the runs of one task; a row is one algorithm with one algo_config and one set"
    f" of algorithm parts (rollout.{', '.join(key.split('.', 1)[1] for key in ALGORITHM_PARTS)}:"
    " what a preset such as grpo pins; the parts column shows them), and its runs differ only in"
    " seed (out and device never matter; precision does: bf16 runs never pool with fp32 ones)."
    " Rows may differ in their parts and algo_config; rows"
    " of one algorithm name are labelled with the keys that tell them apart (e.g. 'ppo ·"
    " advantage=gae'). Shared settings are task_version, policy, precision and every other key"
    " of budget, rollout, eval and task_options except the memory-only chunk sizes"
    " (rollout.micro_batch_prompts, eval.batch_prompts): if they differ between the"
    " trained runs of a task the report is refused, naming each differing key and its values."
    " An anchor row (start, lead-n, echo) joins the table whose trained runs were evaluated"
    " under the same conditions: task_version, policy, precision, task_options, eval.* and"
    " rollout.temperature, max_new_tokens, max_prompt_tokens must match (budget and algo"
    " settings never do). With --allow-mixed each combination of the differing settings becomes"
    " a row of its own (e.g. 'reinforce · rollout.samples_per_prompt=2'): runs with different"
    " settings are still never averaged together, and the report warns, naming the keys."
    " A sweep's tuning trials (role tune) are never rows and never pooled with other runs; the"
    " Tuning section shows them."
)


@dataclass(frozen=True)
class Group:
    """The runs of one leaderboard row and the settings that name it."""

    label: str
    algo: str
    algo_config: dict[str, Any]
    parts: dict[str, Any]
    settings: dict[str, Any]
    runs: tuple[Run, ...]


def shared_settings(run: Run) -> dict[str, Any]:
    """The settings that must match for runs to be pooled, as flat dotted keys."""
    flat: dict[str, Any] = {"task_version": run.task_version}
    flatten("policy", run.config.get("policy", MISSING), flat)
    flat["precision"] = run.config.get("precision", DEFAULT_PRECISION)
    for section in SHARED_SECTIONS:
        flatten(section, run.config.get(section, {}), flat)
    for key in (*MEMORY_ONLY, *ALGORITHM_PARTS):
        flat.pop(key, None)
    return flat


def algorithm_parts(run: Run) -> dict[str, Any]:
    """The run's ALGORITHM_PARTS as dotted keys ({} for an anchor or external run: this tool
    trained neither)."""
    if not run.trained:
        return {}
    flat: dict[str, Any] = {}
    for section in dict.fromkeys(key.split(".")[0] for key in ALGORITHM_PARTS):
        flatten(section, run.config.get(section, {}), flat)
    return {key: flat.get(key, MISSING) for key in ALGORITHM_PARTS}


def evaluation_settings(run: Run) -> dict[str, Any]:
    """The shared settings that define how a run was evaluated (all an anchor row is matched on).

    An external checkpoint is matched on its reference, the policy the table's rows start from.
    """
    found = {key: value for key, value in shared_settings(run).items() if defines_evaluation(key)}
    return found | ({"policy": run.reference} if run.external else {})


def defines_evaluation(key: str) -> bool:
    """Whether a dotted shared-settings key is one of EVALUATION_KEYS or EVALUATION_ROLLOUT."""
    section = key.split(".")[0]
    return section in EVALUATION_KEYS or key in EVALUATION_ROLLOUT


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
    """`rollout.temperature (0.7 ×2, 1.0 ×4); policy (smollm2-135m ×4, tiny ×2)`."""
    parts = []
    for key, count in varied.items():
        values = ", ".join(f"{value} ×{n}" for value, n in sorted(count.items()))
        parts.append(f"{key} ({values})")
    return "; ".join(parts)


def group_runs(task: str, runs: list[Run], allow_mixed: bool) -> tuple[list[Group], list[str]]:
    """Split one task's runs into rows; refuse differing settings unless allowed.

    Report (trained) runs are compared on every shared setting, anchor rows' runs with all runs on
    the evaluation settings only. Algorithm parts may differ: they split rows, never refuse.
    A varied key names the rows it tells apart.
    """
    assert not any(run.tuning for run in runs), "tuning runs are never rows"
    varied = differing([shared_settings(run) for run in runs if run.trained])
    evaluated = differing([evaluation_settings(run) for run in runs])
    warnings = mixed_warnings(task, varied, evaluated, allow_mixed)
    own_keys = {
        "report": [*varied, *(key for key in evaluated if key not in varied)],
        ANCHOR: list(evaluated),
        "external": list(evaluated),
    }
    buckets: dict[str, list[Run]] = {}
    for run in runs:
        flat = shared_settings(run)
        values = {key: show(flat.get(key, MISSING)) for key in own_keys[run.role]}
        algo_config = run.config.get("algo_config", {}) if run.trained else {}
        parts = algorithm_parts(run)
        key = json.dumps([run.algo, run.role, algo_config, parts, values], sort_keys=True)
        buckets.setdefault(key, []).append(run)
    groups = [make_group(members, own_keys[members[0].role]) for members in buckets.values()]
    return label_groups(groups), warnings


def mixed_warnings(
    task: str, varied: dict[str, Counter], evaluated: dict[str, Counter], allow_mixed: bool
) -> list[str]:
    """Refuse differing settings (BenchError) or, under --allow-mixed, one warning naming them."""
    if varied and not allow_mixed:
        raise BenchError(
            f"runs of task '{task}' differ in shared settings, so they are not pooled: "
            f"{describe(varied)}; pass --allow-mixed to report each setting as its own row"
        )
    if evaluated and not allow_mixed:
        raise BenchError(
            f"anchor rows of task '{task}' were not evaluated like its other runs, so they"
            f" are not pooled: {describe(evaluated)}; pass --allow-mixed to report each setting"
            " as its own row"
        )
    if not (varied or evaluated):
        return []
    return [
        f"MIXED SETTINGS in '{task}' (--allow-mixed): rows differ in "
        f"{describe({**varied, **evaluated})}; they were not measured under the same conditions"
    ]


def make_group(runs: list[Run], varied: list[str]) -> Group:
    """A row from runs that share algo, algo_config, parts and the values of the varied keys."""
    first = shared_settings(runs[0])
    settings = {key: first.get(key, MISSING) for key in varied}
    ordered = tuple(sorted(runs, key=lambda run: (run.seed, str(run.path))))
    algo_config = runs[0].config.get("algo_config", {}) if runs[0].trained else {}
    return Group(
        runs[0].algo, runs[0].algo, algo_config, algorithm_parts(runs[0]), settings, ordered
    )


def label_groups(groups: list[Group]) -> list[Group]:
    """Name each row: the algorithm, plus the algo_config keys and parts that tell rows of one
    algorithm apart (`ppo · advantage=gae`), and the settings kept apart by --allow-mixed."""
    labelled = []
    for group in groups:
        same_algo = [g for g in groups if g.algo == group.algo]
        alone = len(same_algo) == 1
        own = {} if alone else differing([g.algo_config for g in same_algo])
        own_parts = {} if alone else differing([g.parts for g in same_algo])
        words = [f"{key}={show(group.algo_config.get(key, MISSING))}" for key in own]
        words += [f"{part_name(key)}={show(group.parts.get(key, MISSING))}" for key in own_parts]
        words += [f"{key}={show(value)}" for key, value in group.settings.items()]
        label = " · ".join([group.algo, ", ".join(words)]) if words else group.algo
        labelled.append(
            Group(label, group.algo, group.algo_config, group.parts, group.settings, group.runs)
        )
    return sorted(labelled, key=lambda g: g.label)


def part_name(key: str) -> str:
    """A part's key without its section: `rollout.advantage` → `advantage`."""
    return key.split(".", 1)[-1]


def common_settings(runs: list[Run]) -> dict[str, Any]:
    """The table's conditions: the trained runs' common shared settings (the anchor rows' when
    there are no trained runs), less any evaluation setting in which an anchor row differs."""
    trained = [run for run in runs if run.trained] or runs
    flats = [shared_settings(run) for run in trained]
    varied = {**differing(flats), **differing([evaluation_settings(run) for run in runs])}
    return {key: value for key, value in flats[0].items() if key not in varied}


def table_runs(runs: list[Run]) -> list[tuple[str, list[Run]]]:
    """(table name, its runs), by task; external runs without a reference (no start to share,
    no KL) form a table of their own, named `TASK (external, no reference)`."""
    tables = []
    for task in sorted({run.task for run in runs}):
        alone = [run for run in runs if run.task == task and run.external and not run.reference]
        others = [run for run in runs if run.task == task and run not in alone]
        tables += [(task, others)] if others else []
        tables += [(f"{task} (external, no reference)", alone)] if alone else []
    return tables
