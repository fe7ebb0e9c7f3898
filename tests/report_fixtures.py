"""Synthetic run directories with known numbers, for the reporter's tests."""

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
    "eval": {
        "split": "test",
        "prompts": 4,
        "samples_per_prompt": 1,
        "every": 0,
        "batch_prompts": 4,
    },
    "task_options": {"source": "aclsum", "reward": "rougeL", "max_new_tokens": 48},
    "algo_config": {"lr": 0.001, "max_grad_norm": 1.0},
}
PROMPT_IDS = ("P-1", "P-2", "P-3", "P-4")


def eval_metrics(reward: float, kl: float, distinct_2: float, length: float) -> dict[str, float]:
    """A full set of eval metrics built from four numbers (the rest derived from them)."""
    return {
        "eval/reward": reward,
        "eval/rouge1": reward + 0.1,
        "eval/rouge2": reward / 2,
        "eval/rougeL": reward,
        "eval/kl_exact": kl,
        "eval/kl_exact_seq": kl * length,
        "eval/kl_k1": kl,
        "eval/kl_k1_seq": kl * length,
        "eval/distinct_1": distinct_2 - 0.3,
        "eval/distinct_2": distinct_2,
        "eval/self_bleu": 1 - distinct_2,
        "eval/length": length,
        "eval/tokens": length * 1.5,
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


def write_samples(path: Path, algo: str, seed: int, reward: float) -> None:
    """samples/eval_before.jsonl (reward 0.1) and eval_after.jsonl (reward `reward`)."""
    for label, value in (("before", 0.1), ("after", reward)):
        samples = [
            {
                "id": prompt_id,
                "prompt": f"Summarize paper {prompt_id}.",
                "references": [f"reference summary of {prompt_id}"],
                "generation": f"{algo} seed {seed} {label} text for {prompt_id} <b>&",
                "reward": value,
                "kl_exact_seq": 0.0,
            }
            for prompt_id in PROMPT_IDS
        ]
        write_jsonl(path / "samples" / f"eval_{label}.jsonl", samples)


def make_run(
    root: Path,
    algo: str = "reinforce",
    seed: int = 0,
    reward: float = 0.2,
    kl: float = 0.01,
    stop_reason: str = "samples",
    config_changes: dict[str, Any] | None = None,
    task_version: str = "1",
) -> Path:
    """Write one finished run directory; held-out reward `reward` after training, 0.1 before."""
    config = resolved_config(algo, seed, config_changes)
    digest = hashlib.sha256(json.dumps([config, reward, kl, stop_reason]).encode()).hexdigest()
    path = root / config["task"] / algo / f"seed{seed}-{digest[:6]}"
    (path / "samples").mkdir(parents=True)
    (path / "config.json").write_text(json.dumps(config))
    before = eval_metrics(0.1, 0.0, 0.9, 30.0)
    after = eval_metrics(reward, kl, 0.8, 25.0 + seed)
    rewards, kls = (0.1 + (reward - 0.1) / 2, reward), (kl / 2, kl)
    curve = [
        {"samples_seen": 32 * (i + 1), "train/reward": rewards[i], "train/kl_exact": kls[i]}
        for i in (0, 1)
    ]
    lines = [{"kind": "eval", "label": "before", "update": 0, **before}]
    lines += [{"kind": "train", "update": i + 1, **point} for i, point in enumerate(curve)]
    write_jsonl(path / "metrics.jsonl", [*lines, {"kind": "eval", "label": "after", **after}])
    write_samples(path, algo, seed, reward)
    result = {
        "schema_version": SCHEMA_VERSION,
        "task": config["task"],
        "task_version": task_version,
        "algo": algo,
        "policy": config["policy"],
        "seed": seed,
        "stop_reason": stop_reason,
        "completed": stop_reason in BUDGET_REASONS,
        "spent": {"samples": 64, "tokens": 2000 + seed, "updates": 2, "seconds": 10.0 + seed},
        "eval_before": before,
        "eval_after": after,
        "heldout_gain": None,
        "kl_gradient": KL_GRADIENTS["reward", "k1"],
        "curve": curve,
        "peak_rss_mb": 500.0,
        "config": config,
        "env": {},
    }
    (path / "result.json").write_text(json.dumps(result))
    return path
