"""Synthetic run directories (the current schema: report, tune, anchor rows) with known numbers."""

import copy
import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from harness.api.choices import KL_GRADIENTS
from harness.api.schema import BUDGET_REASONS, SCHEMA_VERSION

CONFIG: dict[str, Any] = {
    "task": "summarization",
    "algo": "reinforce",
    "policy": "tiny",
    "seed": 0,
    "device": "cpu",
    "out": "runs",
    "budget": {"samples": 64, "tokens": None, "updates": None, "seconds": None},
    "rollout": {
        "prompts_per_update": 8,
        "samples_per_prompt": 4,
        "temperature": 1.0,
        "max_new_tokens": None,
        "max_prompt_tokens": 320,
        "kl_coef": 0.05,
        "advantage": "rloo",
        "micro_batch_prompts": 2,
    },
    "eval": {"prompts": 4, "samples_per_prompt": 1, "every": 1, "batch_prompts": 4},
    "checkpoint": {"every": 8, "keep": False},
    "role": "report",
    "task_options": {"source": "aclsum", "reward": "rougeL", "max_new_tokens": 48},
    "algo_config": {"lr": 0.001, "max_grad_norm": 1.0},
}
PROMPT_IDS = ("P-1", "P-2", "P-3", "P-4")
START_REWARD = 0.1  # test reward of every trained run before training
VAL_SHIFT = 0.05  # val reward = test reward + VAL_SHIFT, so a report that reads val is caught
GREEDY_SHIFT = 0.02  # greedy reward = sampled reward + GREEDY_SHIFT
FORWARD = 1_500_000  # forward token passes per update (+ 10,000 × seed)
BACKWARD = 500_000  # backward token passes per update
SPENT_KEYS = ("samples", "tokens", "updates", "seconds", "forward_tokens", "backward_tokens")
SPENT_KEYS += ("baseline_samples",)  # result.json's spent, as a run writes it


def split_metrics(reward: float, kl: float, length: float, model: bool) -> dict[str, float]:
    """One split's metrics from a few numbers; `model` adds KL, entropy and the greedy keys."""
    distinct_2 = 0.9 if kl == 0 else 0.8  # the untrained policy (KL 0) is the more diverse
    sampled = {
        "reward": reward,
        "rouge1": reward + 0.1,
        "rouge2": reward / 2,
        "rougeL": reward,
        "distinct_1": distinct_2 - 0.3,
        "distinct_2": distinct_2,
        "self_bleu": 1 - distinct_2,
        "length": length,
        "tokens": length * 1.5,
        "eos_share": 0.75,
        "novel_bigrams": 0.4 + reward,
        "copy_rate": 0.3 - reward / 2,
        "repeat_4gram": 0.05,
        "msttr": 0.6,
        "coverage": 0.8,
        "density": 3.5,
        "compression": 6.0,
    }
    if model:
        kls = {"kl_exact": kl, "kl_exact_seq": kl * length, "kl_k1": kl, "kl_k1_seq": kl * length}
        sampled |= {**kls, "entropy": 2.0 - kl}
    metrics = {f"eval/{key}": value for key, value in sampled.items()}
    if model:
        greedy = {**sampled, "reward": reward + GREEDY_SHIFT}
        metrics |= {f"eval/greedy/{key}": value for key, value in greedy.items()}
    return metrics


def evaluation(reward: float, kl: float, length: float, model: bool = True) -> dict:
    """`{"val": ..., "test": ...}`: test reward `reward`, val reward `reward + VAL_SHIFT`."""
    return {
        "val": split_metrics(reward + VAL_SHIFT, kl, length, model),
        "test": split_metrics(reward, kl, length, model),
    }


def resolved_config(algo: str, seed: int, changes: dict[str, Any] | None) -> dict[str, Any]:
    """CONFIG with `changes` applied at dotted keys (e.g. "rollout.advantage")."""
    config = copy.deepcopy(CONFIG)
    for dotted, value in (changes or {}).items():
        *parents, last = dotted.split(".")
        target = config
        for part in parents:
            target = target[part]
        target[last] = value
    config.update(algo=algo, seed=seed)
    return config


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """One JSON object per line."""
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def write_samples(
    path: Path, algo: str, seed: int, rewards: dict[str, float], greedy: bool
) -> None:
    """samples/eval_<label>_<split>[_greedy].jsonl for label in `rewards` (label → reward)."""
    for label, reward in rewards.items():
        for split in ("val", "test"):
            for suffix in ("", "_greedy") if greedy else ("",):
                samples = [
                    {
                        "id": prompt_id,
                        "prompt": f"Summarize paper {prompt_id} ({split}).",
                        "references": [f"reference summary of {prompt_id}"],
                        "generation": f"{algo} seed {seed} {label}{suffix} {prompt_id} <b>&",
                        "reward": reward,
                        "kl_exact_seq": 0.0,
                    }
                    for prompt_id in PROMPT_IDS
                ]
                write_jsonl(path / "samples" / f"eval_{label}_{split}{suffix}.jsonl", samples)


def start_run_dir(root: Path, config: dict[str, Any], fields: dict[str, Any]) -> Path:
    """A new run directory named as the tool names it, with samples/ and config.json."""
    digest = hashlib.sha256(json.dumps([config, fields]).encode()).hexdigest()
    path = root / config["task"] / config["algo"] / f"seed{config['seed']}-{digest[:6]}"
    (path / "samples").mkdir(parents=True)
    (path / "config.json").write_text(json.dumps(config))
    return path


def eval_line(label: str, split: str, metrics: dict[str, float]) -> dict[str, Any]:
    """An evaluation row of metrics.jsonl."""
    return {"kind": "eval", "label": label, "split": split, **metrics}


def kl_gradient(config: dict[str, Any]) -> str:
    """What the run writes as kl_gradient: the meaning of its KL placement and estimator."""
    rollout = config["rollout"]
    pair = (rollout.get("kl_placement", "reward"), rollout.get("kl_estimator", "k1"))
    return KL_GRADIENTS[pair]


def write_run(
    root: Path, config: dict[str, Any], fields: dict[str, Any], eval_seconds: float | None = None
) -> Path:
    """A run directory: config.json, metrics.jsonl (from fields["curve"]) and result.json."""
    path = start_run_dir(root, config, fields)
    before, after = fields["eval_before"], fields["eval_after"] or {}
    timed = {} if eval_seconds is None else {"eval/seconds": eval_seconds}
    lines = [eval_line("before", s, m | timed) for s, m in before.items()]
    lines += [{"kind": "train", "update": i + 1, **p} for i, p in enumerate(fields["curve"])]
    lines += [eval_line("after", s, m | timed) for s, m in after.items()]
    write_jsonl(path / "metrics.jsonl", lines)
    result = {
        "schema_version": SCHEMA_VERSION,
        "task": config["task"],
        "algo": config["algo"],
        "policy": config["policy"],
        "seed": config["seed"],
        "heldout_gain": None,
        "kl_gradient": kl_gradient(config),
        "peak_rss_mb": 500.0,
        "config": config,
        "env": {},
        **fields,
    }
    (path / "result.json").write_text(json.dumps(result))
    return path


def train_curve(
    seed: int, reward: float, kl: float, baseline_samples: int = 0, updates: int = 2
) -> list[dict[str, float]]:
    """`updates` updates (32 samples each): train reward from START_REWARD's way up to `reward`
    in equal steps (two: half-way, then `reward`), KL likewise to `kl`; cumulative passes and
    baseline samples (an equal share of `baseline_samples` per update)."""
    return [
        {
            "samples_seen": 32 * (i + 1),
            "train/reward": rise(reward, (i + 1) / updates),
            "train/kl_exact": kl * (i + 1) / updates,
            "forward_tokens": (FORWARD + 10_000 * seed) * (i + 1),
            "backward_tokens": BACKWARD * (i + 1),
            "baseline_samples": baseline_samples // updates * (i + 1),
        }
        for i in range(updates)
    ]


def rise(reward: float, share: float) -> float:
    """`share` of the way from START_REWARD to `reward` (exactly `reward` at share 1)."""
    return reward if share == 1 else START_REWARD + (reward - START_REWARD) * share


def make_run(
    root: Path,
    algo: str = "reinforce",
    seed: int = 0,
    reward: float = 0.2,
    kl: float = 0.01,
    stop_reason: str = "samples",
    config_changes: dict[str, Any] | None = None,
    task_version: str = "1",
    eval_curve: list[tuple[float, float]] | None = None,
    baseline_samples: int = 0,
    updates: int = 2,
    heldout_gain: dict[str, Any] | None = None,
    eval_seconds: float | None = None,
) -> Path:
    """One trained run: test reward `reward` after training and START_REWARD before.

    Its role is config["role"]: "report" unless config_changes say "tune".
    eval_curve: (val KL, val reward) at updates 0, 1, ...; by default (0, start), half-way, end.
    baseline_samples: completions generated only as a baseline (ReMax's greedy ones), in all.
    updates: training updates of 32 samples each; heldout_gain: result.json's (None by default);
    eval_seconds: `eval/seconds` of each evaluation row of metrics.jsonl (absent by default).
    """
    config = resolved_config(algo, seed, config_changes)
    start, end = START_REWARD + VAL_SHIFT, reward + VAL_SHIFT
    points = eval_curve or [(0.0, start), (kl / 2, (start + end) / 2), (kl, end)]
    curve = train_curve(seed, reward, kl, baseline_samples, updates)
    spent = {"samples": 32 * updates, "tokens": 2000 + seed, "updates": updates}
    spent |= {"seconds": 10.0 + seed, "baseline_samples": baseline_samples}
    spent |= {"forward_tokens": curve[-1]["forward_tokens"], "backward_tokens": updates * BACKWARD}
    fields = {
        "task_version": task_version,
        "role": config["role"],
        "stop_reason": stop_reason,
        "completed": stop_reason in BUDGET_REASONS,
        "spent": spent,
        "eval_before": evaluation(START_REWARD, 0.0, 30.0),
        "eval_after": evaluation(reward, kl, 25.0 + seed),
        "eval_curve": [
            {"update": i, "samples_seen": 32 * i, "eval/reward": r, "eval/kl_exact": k}
            for i, (k, r) in enumerate(points)
        ],
        "curve": curve,
        **({"heldout_gain": heldout_gain} if heldout_gain is not None else {}),
    }
    path = write_run(root, config, fields, eval_seconds)
    write_samples(path, algo, seed, {"before": START_REWARD, "after": reward}, greedy=True)
    return path


def make_anchor(
    root: Path,
    algo: str = "start",
    seed: int = 0,
    reward: float = START_REWARD,
    config_changes: dict[str, Any] | None = None,
) -> Path:
    """One anchor row's run as the tool writes it: `start` (a policy) or `lead-<n>` (text only)."""
    config = resolved_config(algo, seed, config_changes) | {"algo_config": {}}
    model = algo == "start"
    metrics = evaluation(reward, 0.0, 30.0, model=model)
    fields = {
        "task_version": "1",
        "role": "baseline",  # an anchor row on disk (schema.ANCHOR)
        "stop_reason": "baseline",  # as harness/run/anchors.py writes it: not a budget reason
        "completed": False,
        "spent": dict.fromkeys(SPENT_KEYS, 0),
        "eval_before": metrics,
        "eval_after": metrics,
        "eval_curve": [],
        "curve": [],
    }
    path = write_run(root, config, fields)
    write_samples(path, algo, seed, {"before": reward, "after": reward}, greedy=model)
    return path


def make_partial_run(
    root: Path, algo: str = "reinforce", seed: int = 0, updates: int = 1, locked: bool = False
) -> Path:
    """A run cut short: config.json and metrics.jsonl (start evaluation, `updates` of the 2
    updates the 64-sample budget allows), no result.json; `locked`: a live run.lock (this
    process, this host), as while `bench run` works in it."""
    config = resolved_config(algo, seed, None)
    path = start_run_dir(root, config, {"partial": True})
    timed = {"eval/seconds": 2.0}
    lines = [eval_line("before", s, m | timed) for s, m in evaluation(START_REWARD, 0, 30).items()]
    curve = train_curve(seed, 0.2, 0.01)[:updates]
    lines += [{"kind": "train", "update": i + 1, **p, "seconds": 4.0 * (i + 1)} for i, p in
              enumerate(curve)]  # fmt: skip
    write_jsonl(path / "metrics.jsonl", lines)
    if locked:
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        (path / "run.lock").write_text(json.dumps(holder))
    return path
