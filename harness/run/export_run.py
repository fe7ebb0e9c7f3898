"""`bench export RUN_DIR`: a run's kept checkpoint written as a Hugging Face policy folder."""

import json
from pathlib import Path
from typing import Any

from harness.api.errors import BenchError
from harness.config.run_config import load_config_file
from harness.data.task_files import task_factory
from harness.policies.export import POLICY_FOLDER, save_policy
from harness.policies.policy import load_policy
from harness.rl.value import HEAD_NAME
from harness.run.checkpoint import CHECKPOINT, load_checkpoint


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
