"""What each preset of the REINFORCE family pins, and its paper: torch-free, so `bench list` can
show the decompositions without loading a model library. `baselines/presets.py` builds the
registered algorithms from this table.
"""

from typing import Any

NO_KL = {"rollout.kl_coef": 0.0}  # the paper trains without a KL penalty


PRESETS: dict[str, dict[str, Any]] = {
    "rloo": {
        "base": "reinforce",
        "paper": "Ahmadian et al. 2024, Back to Basics (RLOO); β 0.05 as TRL's RLOOTrainer",
        "parts": {
            "rollout.advantage": "rloo",
            "rollout.loss_agg": "seq-mean-token-sum",
            "rollout.kl_placement": "reward",
            "rollout.kl_estimator": "k1",
            "rollout.kl_coef": 0.05,
        },
    },
    "grpo": {
        "base": "ppo",
        "paper": "Shao et al. 2024, DeepSeekMath §4.1: ε 0.2, β 0.04 (k3 in the loss), μ = 1",
        "parts": {
            "rollout.advantage": "group-norm",
            "rollout.loss_agg": "seq-mean-token-mean",
            "rollout.kl_placement": "loss",
            "rollout.kl_estimator": "k3",
            "rollout.kl_coef": 0.04,
            "algo.epochs": 1,
            "algo.minibatches": 1,
            "algo.clip_eps": 0.2,
        },
    },
    "dr-grpo": {
        "base": "ppo",
        "paper": "Liu et al. 2025, Understanding R1-Zero-Like Training (Dr. GRPO): no std and no "
        "length normalisation, β 0",
        "parts": {
            "rollout.advantage": "group-mean",
            "rollout.loss_agg": "seq-mean-token-sum-norm",
            **NO_KL,
            "algo.epochs": 1,
            "algo.minibatches": 1,
            "algo.clip_eps": 0.2,
        },
    },
    "reinforce++": {
        "base": "ppo",
        "paper": "Hu 2025, REINFORCE++: clipped surrogate (ε 0.2), per-token KL in the reward, "
        "returns-to-go whitened over the batch, token-mean loss",
        "parts": {
            "rollout.advantage": "batch-whiten",
            "rollout.loss_agg": "token-mean",
            "rollout.kl_placement": "reward",
            "rollout.kl_estimator": "k1",
            "rollout.kl_coef": 0.01,
            "algo.epochs": 1,
            "algo.minibatches": 1,
            "algo.clip_eps": 0.2,
        },
    },
    "remax": {
        "base": "reinforce",
        "paper": "Li et al. 2023, ReMax: the greedy completion's reward as the baseline (extra "
        "greedy decodes, counted as baseline samples)",
        "parts": {
            "rollout.advantage": "remax",
            "rollout.loss_agg": "seq-mean-token-sum",
            "rollout.kl_placement": "reward",
            "rollout.kl_estimator": "k1",
            "rollout.kl_coef": 0.01,
        },
    },
    "gspo": {
        "base": "ppo",
        "paper": "Zheng et al. 2025, GSPO: sequence ratio, clip 3e-4/4e-4, 4 minibatches, β 0",
        "parts": {
            "rollout.advantage": "group-norm",
            "rollout.loss_agg": "seq-mean-token-mean",
            **NO_KL,
            "algo.ratio_level": "sequence",
            "algo.clip_low": 3e-4,
            "algo.clip_high": 4e-4,
            "algo.epochs": 1,
            "algo.minibatches": 4,
        },
    },
    "dapo": {
        "base": "ppo",
        "paper": "Yu et al. 2025, DAPO: clip-higher 0.2/0.28, dynamic sampling, token-mean loss, "
        "β 0 (overlong reward shaping is not included)",
        "parts": {
            "rollout.advantage": "group-norm",
            "rollout.loss_agg": "token-mean",
            "rollout.dynamic_sampling": True,
            **NO_KL,
            "algo.clip_low": 0.2,
            "algo.clip_high": 0.28,
            "algo.epochs": 1,
            "algo.minibatches": 1,
        },
    },
}


def parts_line(name: str) -> str:
    """A preset's decomposition: its base update, then every part it pins (for `bench list`)."""
    preset = PRESETS[name]
    parts = (f"{key.split('.', 1)[1]}={value}" for key, value in preset["parts"].items())
    return " · ".join((f"{preset['base']} update", *parts))
