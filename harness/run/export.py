"""A trained policy as a plain Hugging Face folder that `from_pretrained` and `bench run --policy
PATH` load: safetensors weights, tokenizer, the neutral generation config the run sampled with,
and a model card with the run's task, algorithm, seed, budget and held-out results. The value
head (gae) is left out: it is not part of the language model. `bench run --save-policy` writes
it at the end of a run; `bench export RUN_DIR` from a run's kept checkpoint.
"""

import json
from pathlib import Path
from typing import Any

from harness.api.errors import BenchError
from harness.config.run_config import load_config_file
from harness.data.task_files import task_factory
from harness.policies.policy import Policy, load_policy
from harness.rl.value import HEAD_NAME
from harness.run.checkpoint import CHECKPOINT, load_checkpoint

POLICY_FOLDER = "policy"  # inside a run directory


def save_policy(policy: Policy, folder: Path, result: dict[str, Any]) -> Path:
    """Write `policy` to `folder` with a model card built from the run's result.json."""
    folder.mkdir(parents=True, exist_ok=True)
    model = policy.model
    weights = {k: v for k, v in model.state_dict().items() if not k.startswith(HEAD_NAME + ".")}
    model.save_pretrained(folder, state_dict=weights, safe_serialization=True)
    policy.tokenizer.save_pretrained(folder)
    (folder / "README.md").write_text(model_card(result))
    return folder


def model_card(result: dict[str, Any]) -> str:
    """A short model card: what produced these weights and how they scored on held-out data."""
    config = result["config"]
    lines = [
        f"# {config['policy']} tuned by {result['algo']} on {result['task']}",
        "",
        "Trained and exported by rl-lm-bench (`bench run ... --save-policy`).",
        "",
        f"- task: {result['task']} (version {result['task_version']})",
        f"- algorithm: {result['algo']} · settings: `{json.dumps(config['algo_config'])}`",
        f"- start policy: {config['policy']} · seed: {result['seed']}",
        f"- budget: `{json.dumps(config['budget'])}` · spent: {result['spent']['samples']} samples,"
        f" {result['spent']['updates']} updates · stopped by: {result['stop_reason']}",
        f"- sampling: temperature {config['rollout']['temperature']}, no top-k/top-p; the "
        "generation config is neutral (softmax(logits / T) is what was trained)",
        "",
        "## Held-out results (sampled at the training temperature)",
        "",
        "| split | metric | before | after |",
        "|---|---|---|---|",
    ]
    after = result.get("eval_after") or {}
    for split, metrics in (result.get("eval_before") or {}).items():
        for key in ("eval/reward", "eval/kl_exact", "eval/length"):
            if key in metrics:
                end = after.get(split, {}).get(key)
                shown = "n/a" if end is None else f"{end:.4f}"
                lines.append(f"| {split} | {key} | {metrics[key]:.4f} | {shown} |")
    gain = result.get("heldout_gain")
    if gain:
        lines += [
            "",
            f"Test reward change {gain['mean']:+.4f}, 95% paired-bootstrap CI "
            f"[{gain['low']:+.4f}, {gain['high']:+.4f}].",
        ]
    return "\n".join(lines) + "\n"


def export_checkpoint(run_dir: Path, folder: Path | None = None) -> Path:
    """Load the run's start policy, put the checkpoint's weights in it, save it as an HF folder."""
    config = load_config_file(run_dir / "config.json")
    state = load_checkpoint(run_dir, "cpu")
    if state is None:
        raise BenchError(
            f"'{run_dir}' has no {CHECKPOINT}: a finished run keeps its last one only with "
            "--keep-checkpoints (or export it while training with bench run --save-policy)"
        )
    task = task_factory(config.task)(**config.task_options)
    policy, _ = load_policy(config.policy, task, "cpu")
    head = HEAD_NAME + "."
    policy.model.load_state_dict(
        {k: v for k, v in state["model"].items() if not k.startswith(head)}
    )
    return save_policy(policy, folder or run_dir / POLICY_FOLDER, card_facts(run_dir, state))


def card_facts(run_dir: Path, state: dict[str, Any]) -> dict[str, Any]:
    """result.json when the run finished; else what the checkpoint says of an unfinished one."""
    result_path = run_dir / "result.json"
    if result_path.exists():
        return json.loads(result_path.read_text())
    config = json.loads((run_dir / "config.json").read_text())
    spent = json.loads(state["progress"])["spent"]
    return {
        "algo": config["algo"],
        "task": config["task"],
        "task_version": "?",
        "seed": config["seed"],
        "config": config,
        "spent": spent,
        "stop_reason": f"unfinished (checkpoint at update {spent['updates']})",
    }
