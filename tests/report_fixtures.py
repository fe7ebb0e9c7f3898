"""Synthetic schema-4 run directories (report, tune, baseline) with known numbers."""

import copy
import hashlib
import json
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
SPENT_KEYS = (  # result.json's spent, as a run writes it
    "samples",
    "tokens",
    "updates",
    "seconds",
    "forward_tokens",
    "backward_tokens",
    "baseline_samples",
)


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


def kl_gradient(config: dict[str, Any]) -> str:
    """What the run writes as kl_gradient: the meaning of its KL placement and estimator."""
    rollout = config["rollout"]
    pair = (rollout.get("kl_placement", "reward"), rollout.get("kl_estimator", "k1"))
    return KL_GRADIENTS[pair]


def write_run(root: Path, config: dict[str, Any], fields: dict[str, Any]) -> Path:
    """A run directory: config.json, metrics.jsonl (from fields["curve"]) and result.json."""
    digest = hashlib.sha256(json.dumps([config, fields]).encode()).hexdigest()
    path = root / config["task"] / config["algo"] / f"seed{config['seed']}-{digest[:6]}"
    (path / "samples").mkdir(parents=True)
    (path / "config.json").write_text(json.dumps(config))
    before, after = fields["eval_before"], fields["eval_after"] or {}
    lines = [{"kind": "eval", "label": "before", "split": s, **m} for s, m in before.items()]
    lines += [{"kind": "train", "update": i + 1, **p} for i, p in enumerate(fields["curve"])]
    lines += [{"kind": "eval", "label": "after", "split": s, **m} for s, m in after.items()]
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
    seed: int, reward: float, kl: float, baseline_samples: int = 0
) -> list[dict[str, float]]:
    """Two updates: train reward half-way from START_REWARD, then `reward`; cumulative passes
    and baseline samples (half of `baseline_samples` per update)."""
    rewards, kls = (START_REWARD + (reward - START_REWARD) / 2, reward), (kl / 2, kl)
    return [
        {
            "samples_seen": 32 * (i + 1),
            "train/reward": rewards[i],
            "train/kl_exact": kls[i],
            "forward_tokens": (FORWARD + 10_000 * seed) * (i + 1),
            "backward_tokens": BACKWARD * (i + 1),
            "baseline_samples": baseline_samples // 2 * (i + 1),
        }
        for i in (0, 1)
    ]


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
) -> Path:
    """One trained run: test reward `reward` after training and START_REWARD before.

    Its role is config["role"]: "report" unless config_changes say "tune".
    eval_curve: (val KL, val reward) at updates 0, 1, ...; by default (0, start), half-way, end.
    baseline_samples: completions generated only as a baseline (ReMax's greedy ones), in all.
    """
    config = resolved_config(algo, seed, config_changes)
    start, end = START_REWARD + VAL_SHIFT, reward + VAL_SHIFT
    points = eval_curve or [(0.0, start), (kl / 2, (start + end) / 2), (kl, end)]
    curve = train_curve(seed, reward, kl, baseline_samples)
    spent = {"samples": 64, "tokens": 2000 + seed, "updates": 2, "seconds": 10.0 + seed}
    spent |= {"baseline_samples": baseline_samples}
    spent |= {"forward_tokens": curve[-1]["forward_tokens"], "backward_tokens": 2 * BACKWARD}
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
    }
    path = write_run(root, config, fields)
    write_samples(path, algo, seed, {"before": START_REWARD, "after": reward}, greedy=True)
    return path


def make_baseline(
    root: Path,
    algo: str = "start",
    seed: int = 0,
    reward: float = START_REWARD,
    config_changes: dict[str, Any] | None = None,
) -> Path:
    """One baseline run as the tool writes it: `start` (a policy) or `lead-<n>` (text only)."""
    config = resolved_config(algo, seed, config_changes) | {"algo_config": {}}
    model = algo == "start"
    metrics = evaluation(reward, 0.0, 30.0, model=model)
    fields = {
        "task_version": "1",
        "role": "baseline",
        "stop_reason": "baseline",  # as harness/run/baselines.py writes it: not a budget reason
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
