"""Run configuration: frozen dataclasses and replayable JSON.

A run is fully described by one `RunConfig`. Everything the algorithms share (rollout size,
sampling, KL penalty, advantage estimator, evaluation) lives outside the algorithm's own
Config, so two runs that compare algorithms cannot silently differ in it.
"""

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.api.choices import (
    Advantage,
    KLEstimator,
    KLPlacement,
    LossAgg,
    Precision,
    RunRole,
)
from harness.api.errors import BenchError


@dataclass(frozen=True)
class BudgetConfig:
    """Limits of one run; the first one reached stops it. Completions sampled is the axis."""

    samples: int | None = 768
    """completions sampled (the comparison axis); 768 = 24 updates of 8 × 4, ~11 min on 2 cores"""
    tokens: int | None = None
    """completion tokens generated"""
    updates: int | None = None
    """policy updates"""
    seconds: float | None = None
    """wall-clock seconds of training (evaluation excluded)"""


@dataclass(frozen=True)
class RolloutConfig:
    """Sampling, reward shaping, advantage and loss-reduction settings (one code path for all).

    Sampling (prompts, k, temperature, token limits) must be the same for every row of a
    leaderboard; the rest are an algorithm's parts (schema.ALGORITHM_PARTS), which presets set.
    """

    prompts_per_update: int = 8
    """prompts drawn per update"""
    samples_per_prompt: int = 4
    """k completions per prompt (RLOO needs k >= 2)"""
    temperature: float = 0.7
    """sampling temperature; log-probs, KL and evaluation use the same tempered distribution.
    0.7 because pure sampling (1.0) from a 135M model wanders off topic (Holtzman et al. 2020)"""
    max_new_tokens: int | None = None
    """completion length cap; None takes the task's default"""
    max_prompt_tokens: int = 320
    """prompts are cut to this many tokens (from the left, keeping the instruction's end)"""
    kl_coef: float = 0.01
    """β of the KL penalty. 0.01 rather than TRL's 0.05: with a 0..1 lexical reward and ~30-token
    completions, β·Σ_t KL at 0.05 outweighed the reward gain within a few updates on smollm2-135m
    (held-out gain stuck at +0.015 while the penalty was ~0.12; see docs/getting-started.md
    "Why each default")"""
    kl_placement: KLPlacement = "reward"
    """where the KL penalty goes: reward (per token, Ziegler et al. 2019) | loss (β·KL term)"""
    kl_estimator: KLEstimator = "k1"
    """per-token KL estimator of the penalty: k1 | k2 | k3 (Schulman 2020)"""
    kl_target: float | None = None
    """target per-sequence KL (nats) of the adaptive β controller; None keeps β fixed"""
    kl_adapt_rate: float = 0.1
    """K_β of the adaptive controller; 0.1 as in Ziegler et al. 2019, §2.2"""
    advantage: Advantage = "rloo"
    """advantage estimator: rloo (Ahmadian et al. 2024) | batch-mean | ema | none | gae"""
    ema_decay: float = 0.9
    """decay of the ema baseline b ← d·b + (1−d)·mean(R) (reinforcement comparison)"""
    gamma: float = 1.0
    """GAE discount γ; 1.0 as in Ziegler et al. 2019 (lm-human-preferences)"""
    lam: float = 0.95
    """GAE λ; 0.95 as in Ziegler et al. 2019 (lm-human-preferences)"""
    value_coef: float = 0.1
    """weight of the value loss added to gradient-based losses with gae (vf_coef, Ziegler 2019)"""
    loss_agg: LossAgg = "seq-mean-token-sum"
    """how token terms reduce to the loss: seq-mean-token-sum | seq-mean-token-mean (GRPO) |
    token-mean (DAPO) | seq-mean-token-sum-norm (Dr. GRPO); see harness.rl.losses.aggregate"""
    dynamic_sampling: bool = False
    """drop prompts whose k raw task rewards are all equal and draw more (DAPO, Yu et al. 2025,
    eq. 11); every sampled completion still counts in the budget"""
    micro_batch_prompts: int = 2
    """prompts per forward/backward chunk; bounds memory, does not change the update"""


@dataclass(frozen=True)
class EvalConfig:
    """Held-out evaluation: val every N updates (sampled); val and test, sampled and greedy, at
    the start and the end. The leaderboard reports test; a sweep may select on val."""

    prompts: int = 100
    """held-out prompts scored per split (the first N of val and of test, the same every time)"""
    samples_per_prompt: int = 1
    """completions per held-out prompt"""
    every: int = 8
    """evaluate every N updates as well (0: before and after only)"""
    batch_prompts: int = 16
    """prompts per generation batch"""


@dataclass(frozen=True)
class CheckpointConfig:
    """When a run saves what it needs to resume exactly; never changes its results."""

    every: int = 8
    """save every N updates (0: only when training ends and at Ctrl-C); the latest one is kept"""
    keep: bool = False
    """keep the last checkpoint when the run completes (a smollm2-135m one is ≈ 1.6 GB)"""


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one run; `config.json` in a run directory is this, resolved."""

    task: str
    algo: str
    policy: str = "smollm2-135m"
    seed: int = 0
    device: str = "cpu"
    precision: Precision = "fp32"
    """forward passes in fp32 | bf16 (autocast: faster, not bit-identical; never pooled with
    fp32 runs in a report)"""
    out: str = "runs"
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    role: RunRole = "report"
    """report (a leaderboard row) | tune (a sweep's tuning trial, never a row)"""
    log: str = ""
    """experiment trackers that also get every metrics.jsonl row, comma-separated:
    tensorboard | wandb (harness/rundir/trackers.py); never changes results"""
    task_options: dict[str, Any] = field(default_factory=dict)
    algo_config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)


TOP_LEVEL_KEYS = ("policy", "seed", "device", "precision", "out", "log")
SECTIONS = {
    "budget": BudgetConfig,
    "rollout": RolloutConfig,
    "eval": EvalConfig,
    "checkpoint": CheckpointConfig,
}
# Settings that cannot change a run's results: left out of the run directory's name, so a
# resumed or re-run sweep finds the same directory whatever they are.
RESULT_NEUTRAL = ("out", "checkpoint", "log")
TRACKERS = ("tensorboard", "wandb")
"""tracker names of RunConfig.log; each needs the package (and pip extra) of its name"""


def tracker_names(log: str) -> list[str]:
    """The tracker names in RunConfig.log ('tensorboard,wandb'), in order, each once."""
    return list(dict.fromkeys(name.strip() for name in log.split(",") if name.strip()))


def load_config_file(path: Path) -> RunConfig:
    """Read a `config.json` (e.g. from a run directory) back into a RunConfig."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise BenchError(f"cannot read config file '{path}': {err}") from err
    try:
        return RunConfig(
            **{k: v for k, v in data.items() if k not in SECTIONS},
            **{name: cls(**data.get(name, {})) for name, cls in SECTIONS.items()},
        )
    except TypeError as err:
        raise BenchError(f"config file '{path}' does not match RunConfig: {err}") from err
