"""Anchor rows the tool writes beside trained runs, as run directories of their own.

`start` is the policy before training (its start evaluation), once per seed rather than once
per algorithm. Text anchors copy their prompt: for extractive tasks, `lead-n` outputs the first
n source words, with n the mean reference length (in words) of the train split; for chat tasks
(`echo = True`), `echo` outputs the source's last turn as the reply. A trained row that does not
beat one has learned less than copying would give. All are scored by the same code as trained
runs, once per seed.

The start row also keeps the whole start evaluation (START_EVAL), and a later report run of the
same seed and evaluation takes it instead of evaluating the same start policy again: every
algorithm of a seed is then compared with one start evaluation, and a sweep saves all but one
start evaluation per seed. Its directory hash covers everything that defines the evaluation.
On disk an anchor row's role and stop reason are "baseline" (schema.ANCHOR: the older name).
"""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.api.schema import (
    ANCHOR,
    DEFAULT_PRECISION,
    EVALUATION_ROLLOUT,
    EVALUATION_SECTIONS,
    FINAL_SPLITS,
    MEMORY_ONLY,
    SCHEMA_VERSION,
)
from harness.api.task import Example
from harness.config.run_config import RunConfig
from harness.loop.budget import Spent
from harness.loop.heldout import reward_cards, sample_rows, text_metrics
from harness.rl.value import policy_parameters
from harness.run.eval_schedule import Evaluated, FullEval
from harness.run.result import run_result
from harness.rundir.layout import write_json, write_jsonl

START_EVAL = "start_eval.json"  # in the start row: the whole start evaluation, samples included
SPEAKER = re.compile(r"^[^:\n]{1,20}:(?: |$)")  # a chat line's label ("A: "), as tasks write it


def write_anchor_rows(setup: Evaluated, start: FullEval, console: Console) -> None:
    """Write the `start` row from the start evaluation and, for extractive tasks, `lead-n`."""
    samples = {}
    for split in FINAL_SPLITS:
        samples[f"eval_after_{split}"] = start.sampled[split].samples
        samples[f"eval_after_{split}_greedy"] = start.greedy[split].samples

    def kept() -> dict[str, dict[str, Any]]:
        return {START_EVAL: {**made_by(setup), "evaluation": start.to_json()}}

    written = [write_row(setup, "start", start.metrics(), samples, kept)]
    for name, output in text_anchors(setup.task):
        metrics, samples = {}, {}
        for split in FINAL_SPLITS:
            examples = setup.heldout[split]
            texts = [output(example) for example in examples]
            rewards, found, _ = text_metrics(setup.task, examples, texts)
            metrics[split] = {f"eval/{key}": float(value) for key, value in found.items()}
            samples[f"eval_after_{split}"] = sample_rows(examples, texts, rewards)
        written.append(write_row(setup, name, metrics, samples))
    shown = ", ".join(f"{algo} → {path}" for algo, path in written if path is not None)
    if shown:
        console.print(f"anchor rows  {shown}")


def shared_start(setup: Evaluated) -> tuple[FullEval, Path] | None:
    """The start evaluation kept by this seed's start row, for a report run, if there is one
    (and its folder). Only one made exactly as this run would make it is taken (made_by)."""
    if setup.config.role != "report":
        return None
    path = anchor_dir(start_config(setup), setup.task.version)
    try:
        data = json.loads((path / START_EVAL).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if any(data.get(key) != value for key, value in made_by(setup).items()):
        return None
    return FullEval.from_json(data["evaluation"]), path


def made_by(setup: Evaluated) -> dict[str, Any]:
    """What an evaluation's numbers depend on beyond the start row's directory hash: the
    schema, torch and the kernels it picks (CPU capability, GPU model, thread count: they
    change the last bits of KL and entropy sums), and the start weights themselves (a policy
    folder may have changed under the same name), as a float64 sum of each parameter."""
    import torch

    model = setup.policy.model
    cuda = setup.config.device.startswith("cuda")
    return {
        "schema_version": SCHEMA_VERSION,
        "torch": torch.__version__,
        "device": setup.config.device,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "gpu": torch.cuda.get_device_name(model.device) if cuda else None,
        "threads": torch.get_num_threads(),
        "weights": [p.detach().sum(dtype=torch.float64).item() for p in policy_parameters(model)],
    }


def start_config(setup: Evaluated) -> RunConfig:
    """The config an anchor row of this run's seed and evaluation is written under."""
    return replace(setup.config, task=setup.task.name, algo="start", algo_config={})


def text_anchors(task: Any) -> list[tuple[str, Callable[[Example], str]]]:
    """(row name, output of an example) of each text anchor the task declares: `lead-n` for
    an extractive task, `echo` for a chat task (`echo = True`)."""
    rows: list[tuple[str, Callable[[Example], str]]] = []
    if getattr(task, "extractive", False):
        n = lead_length(task.examples("train"))
        rows.append((f"lead-{n}", lambda example: lead(example, n)))
    if getattr(task, "echo", False):
        rows.append(("echo", echo))
    return rows


def echo(example: Example) -> str:
    """The last turn of the example's source (a chat, one turn a line), without its label."""
    lines = [SPEAKER.sub("", line.strip(), count=1) for line in example.source_text.splitlines()]
    return next((line for line in reversed(lines) if line), "")


def lead_length(train: list[Example]) -> int:
    """n of lead-n: the mean length in words of the train split's first references (≥ 1)."""
    lengths = [len(example.references[0].split()) for example in train if example.references]
    return max(1, round(sum(lengths) / len(lengths))) if lengths else 1


def lead(example: Example, n: int) -> str:
    """The first n words of the example's source."""
    return " ".join(example.source_text.split()[:n])


def write_row(
    setup: Evaluated,
    algo: str,
    metrics: dict[str, dict[str, float]],
    samples: dict[str, list[dict[str, Any]]],
    files: Callable[[], dict[str, dict[str, Any]]] | None = None,
) -> tuple[str, Path | None]:
    """Write one anchor row's run directory unless this seed's already exists; (algo, path|None).

    `files`: makes further JSON files of the row, written before result.json (which marks it
    done); called only when the row is written (a run that took the start row makes nothing)."""
    config = replace(start_config(setup), algo=algo)
    path = anchor_dir(config, setup.task.version)
    if (path / "result.json").exists():
        return algo, None
    write_json(path / "config.json", config.to_dict())
    for name, rows in samples.items():
        write_jsonl(path / "samples" / f"{name}.jsonl", rows)
    for name, data in (files() if files else {}).items():
        write_json(path / name, data)
    result = run_result(
        config,
        setup.task.version,
        (Spent(), ANCHOR),
        (metrics, metrics),
        role=ANCHOR,
        reward_cards=reward_cards(setup.task),
    )
    write_json(path / "result.json", result)
    return algo, path


def anchor_dir(config: RunConfig, task_version: str) -> Path:
    """`OUT/TASK/ALGO/seedS-HASH`, HASH over what defines the evaluation only (and the task's
    version), so every trained run with the same seed and evaluation reuses one directory.
    The default precision stays out of HASH: fp32 rows keep their names from before it existed."""
    flat = config.to_dict()
    defining = {key: flat[key] for key in EVALUATION_SECTIONS}
    if defining["precision"] == DEFAULT_PRECISION:
        del defining["precision"]
    defining["eval"] = {
        key: value for key, value in flat["eval"].items() if f"eval.{key}" not in MEMORY_ONLY
    }
    defining |= {key: flat["rollout"][key.split(".")[1]] for key in EVALUATION_ROLLOUT}
    defining["task_version"] = task_version
    digest = hashlib.sha256(json.dumps(defining, sort_keys=True).encode()).hexdigest()[:6]
    return Path(config.out) / config.task / config.algo / f"seed{config.seed}-{digest}"
