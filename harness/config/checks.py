"""Every value of a run config checked before anything is loaded or written.

The CLI, `launch.run` and `bench run --config` all pass through `validate`, so a typo in any
option fails in one line (exit code 2) before the policy loads or the run directory exists.
New options add their rule to the tables below.
"""

import importlib
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.api.checks import (
    AT_LEAST_ONE,
    NON_NEGATIVE,
    POSITIVE,
    UNIT,
    UNIT_BELOW_ONE,
    Check,
    check_fields,
)
from harness.api.choices import (
    GROUP_ESTIMATORS,
    KL_REFUSED,
    KLEstimator,
    KLPlacement,
)
from harness.api.errors import BenchError, unknown_choice
from harness.config.run_config import TRACKERS, RunConfig, tracker_names

BUDGET_CHECKS = {name: POSITIVE for name in ("samples", "tokens", "updates", "seconds")}
ROLLOUT_CHECKS = {
    "prompts_per_update": AT_LEAST_ONE,
    "samples_per_prompt": AT_LEAST_ONE,
    "temperature": POSITIVE,
    "max_new_tokens": AT_LEAST_ONE,
    "max_prompt_tokens": AT_LEAST_ONE,
    "kl_coef": NON_NEGATIVE,
    "kl_target": POSITIVE,
    "kl_adapt_rate": NON_NEGATIVE,
    "ema_decay": UNIT_BELOW_ONE,
    "gamma": UNIT,
    "lam": UNIT,
    "value_coef": NON_NEGATIVE,
    "micro_batch_prompts": AT_LEAST_ONE,
}
EVAL_CHECKS = {
    "prompts": AT_LEAST_ONE,
    "samples_per_prompt": AT_LEAST_ONE,
    "every": NON_NEGATIVE,
    "batch_prompts": AT_LEAST_ONE,
}
CHECKPOINT_CHECKS = {"every": NON_NEGATIVE}
TOP_CHECKS: dict[str, Check] = {"seed": NON_NEGATIVE}
DEVICE_PATTERN = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


def validate(config: RunConfig, algo_config_type: type, task_factory: Callable[..., Any]) -> None:
    """Raise a one-line BenchError for the first bad value of a resolved run config."""
    check_numbers_finite(config.to_dict())
    check_fields("", config, TOP_CHECKS)  # the sections' own fields come next
    check_fields("budget", config.budget, BUDGET_CHECKS)
    check_fields("rollout", config.rollout, ROLLOUT_CHECKS)
    check_fields("eval", config.eval, EVAL_CHECKS)
    check_fields("checkpoint", config.checkpoint, CHECKPOINT_CHECKS)
    budget = config.budget
    if all(getattr(budget, name) is None for name in BUDGET_CHECKS):
        raise BenchError(
            "the budget has no limit; set one of budget.samples, budget.tokens, "
            "budget.updates, budget.seconds"
        )
    if config.rollout.advantage in GROUP_ESTIMATORS and config.rollout.samples_per_prompt < 2:
        raise BenchError(
            f"rollout.advantage={config.rollout.advantage} compares the k samples of a prompt and "
            f"needs rollout.samples_per_prompt ≥ 2, got {config.rollout.samples_per_prompt}; "
            "raise it or pick another advantage"
        )
    check_kl(config.rollout.kl_placement, config.rollout.kl_estimator)
    check_device(config.device)
    check_out_dir(config.out)
    check_log(config.log)
    try:
        algo_config_type(**config.algo_config)  # an algorithm's Config checks its own ranges
        task_factory(**config.task_options)  # a task checks its options when it is built
    except TypeError as err:
        raise BenchError(f"bad option for {config.algo} or {config.task}: {err}") from err


def check_numbers_finite(values: dict[str, Any], prefix: str = "") -> None:
    """Refuse NaN and ±infinity anywhere in a config (a `--config` JSON may spell them
    `NaN`/`Infinity`; the command line's are refused when parsed): no run starts on one."""
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            check_numbers_finite(value, f"{name}.")
        elif isinstance(value, float) and not math.isfinite(value):
            raise BenchError(f"{name} must be a finite number, got {value}")


def check_kl(placement: KLPlacement, estimator: KLEstimator) -> None:
    """Only KL options whose gradient is what the report says (see choices.KL_GRADIENTS)."""
    if (placement, estimator) in KL_REFUSED:
        raise BenchError(
            f"rollout.kl_estimator={estimator} with rollout.kl_placement={placement} is refused: "
            f"{KL_REFUSED[placement, estimator]}; use k1 in the reward (the sequence KL), "
            "or k2/k3 in the loss (per-token KL)"
        )


def check_device(device: str) -> None:
    """A device name torch knows and that exists on this machine."""
    if not DEVICE_PATTERN.match(device):
        raise BenchError(f"unknown device '{device}' (devices: cpu, cuda, cuda:N, mps)")
    if device == "cpu":
        return
    import torch

    if device == "mps":
        if not torch.backends.mps.is_available():
            raise BenchError("device 'mps' is not available on this machine (devices: cpu)")
        return
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index = int(device.partition(":")[2] or 0)
    if index >= count:
        found = f"cuda:0..cuda:{count - 1}" if count else "none; torch sees no CUDA GPU"
        raise BenchError(f"device '{device}' is not available (CUDA devices: {found})")


def check_log(log: str) -> None:
    """Known tracker names, each with its package installed (imported now: it was asked for)."""
    for name in tracker_names(log):
        if name not in TRACKERS:
            raise unknown_choice("tracker", name, TRACKERS)
        try:
            importlib.import_module(name)  # each tracker's package has the tracker's name
        except ImportError as err:
            raise BenchError(
                f'--log {name} needs the {name} package: pip install "rl-lm-bench[{name}]"'
            ) from err


def check_out_dir(out: str) -> None:
    """The output root exists as a writable folder or can be created (nothing is created now)."""
    probe = Path(out).absolute()
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise BenchError(f"output directory '{out}' cannot be created: '{probe}' is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise BenchError(f"output directory '{out}' is not writable ('{probe}' is read-only)")
