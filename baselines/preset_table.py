"""What each preset of the REINFORCE family pins, and its paper: torch-free, so `bench list` can
show the decompositions without loading a model library. `baselines/presets.py` builds the
registered algorithms from this table; the preset table of docs/algorithms.md and its list of
what an ablation changes are generated from it (`python -m baselines.preset_table`).
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
        "paper": "Shao et al. 2024, DeepSeekMath §4.1: ε 0.2, β 0.04 (k3 in the loss); 1 epoch × "
        "1 minibatch as GRPO's μ = 1 (one step per rollout, at θ = θ_old, so the clip cannot bind)",
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
        "length normalisation, β 0; 1 × 1 as GRPO's μ = 1",
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
        "returns-to-go whitened over the batch, token-mean loss; 8 gradient steps per rollout as "
        "in OpenRLHF's train_reinforce_llama_ray.sh (rollout 1024, train batch 128, 1 epoch): "
        "1 epoch × 8 minibatches of 1 prompt each at 8 prompts per update",
        "parts": {
            "rollout.advantage": "batch-whiten",
            "rollout.loss_agg": "token-mean",
            "rollout.kl_placement": "reward",
            "rollout.kl_estimator": "k1",
            "rollout.kl_coef": 0.01,
            "algo.epochs": 1,
            "algo.minibatches": 8,
            "algo.clip_eps": 0.2,
        },
    },
    "remax": {
        "base": "reinforce",
        "paper": "Li et al. 2023, ReMax: the greedy completion's return as the baseline, with "
        "the samples' KL shaping (extra greedy decodes, counted as baseline samples)",
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
        "β 0 (overlong reward shaping is not included); 16 gradient steps per rollout (§4.1: 512 "
        "prompts, mini-batch 512 completions of 16 per prompt): minibatches split by prompts, so "
        "at 8 prompts per update 2 epochs × 8 minibatches of 1 prompt",
        "parts": {
            "rollout.advantage": "group-norm",
            "rollout.loss_agg": "token-mean",
            "rollout.dynamic_sampling": True,
            **NO_KL,
            "algo.clip_low": 0.2,
            "algo.clip_high": 0.28,
            "algo.epochs": 2,
            "algo.minibatches": 8,
        },
    },
}


def parts_line(name: str) -> str:
    """A preset's decomposition: its base update, then every part it pins (for `bench list`)."""
    preset = PRESETS[name]
    parts = (f"{key.split('.', 1)[1]}={value}" for key, value in preset["parts"].items())
    return " · ".join((f"{preset['base']} update", *parts))


# docs/algorithms.md's table and ablation list are generated from here (`python -m
# baselines.preset_table`), and tests/test_preset_docs.py checks that the page says the same.
BASE_LABELS = {  # a base's update as the table names it, and its paper
    "reinforce": ("REINFORCE", "Williams 1992"),
    "ppo": ("PPO clip", "Schulman et al. 2017"),
}
COLUMNS = ("update", "estimator", "aggregation", "ratio · clip", "KL", "epochs × minibatches")
ABLATIONS = (
    ("ppo", "grpo"),
    ("grpo", "dr-grpo"),
    ("grpo", "gspo"),
    ("grpo", "dapo"),
    ("rloo", "remax"),
)  # docs/algorithms.md's "what an ablation isolates", one line each


def settings(name: str) -> dict[str, Any]:
    """Every `rollout.*` and `algo.*` value of a base or preset: base defaults, then its pins.

    Imports the base algorithm (and so torch), unlike the rest of this module.
    """
    from dataclasses import asdict

    from harness.api import registry
    from harness.config.run_config import RolloutConfig

    base = PRESETS[name]["base"] if name in PRESETS else name
    defaults = asdict(registry.load("algorithms", base).Config())
    values = {f"rollout.{key}": value for key, value in asdict(RolloutConfig()).items()}
    values |= {f"algo.{key}": value for key, value in defaults.items()}
    return {"base": base, **values, **PRESETS.get(name, {"parts": {}})["parts"]}


def number(value: float) -> str:
    """A setting as docs/algorithms.md writes it: 0.2, 0.04, 3e-4."""
    short = f"{value:.0e}".replace("e-0", "e-")
    return short if value < 1e-3 and float(short) == value else f"{value:g}"


def cells(name: str) -> tuple[str, ...]:
    """docs/algorithms.md's table COLUMNS for a base or preset, computed from its settings."""
    values = settings(name)
    update = BASE_LABELS[values["base"]][0]
    if values["rollout.dynamic_sampling"]:
        update += " + dynamic sampling"
    coef = values["rollout.kl_coef"]
    kl = f"{values['rollout.kl_placement']}, {values['rollout.kl_estimator']}, {number(coef)}"
    if values["base"] == "reinforce":
        clip, steps = "–", "1 step"
    else:
        eps = values["algo.clip_eps"]
        low, high = (values[f"algo.clip_{side}"] or eps for side in ("low", "high"))
        bounds = number(low) if low == high else f"{number(low)}/{number(high)}"
        clip = f"{values['algo.ratio_level']} · {bounds}"
        steps = f"{values['algo.epochs']} × {values['algo.minibatches']}"
    return (
        update,
        f"`{values['rollout.advantage']}`",
        f"`{values['rollout.loss_agg']}`",
        clip,
        kl if coef else "none (β 0)",
        steps,
    )


def table_row(name: str) -> str:
    """A base's or preset's row of docs/algorithms.md's table, its paper's short citation last."""
    paper = PRESETS[name]["paper"].split(",")[0] if name in PRESETS else BASE_LABELS[name][1]
    return "| " + " | ".join((f"`{name}`", *cells(name), paper)) + " |"


def differences(a: str, b: str) -> list[tuple[str, str, str]]:
    """(column, a's cell, b's cell) for each of COLUMNS in which `a` and `b` differ."""
    return [row for row in zip(COLUMNS, cells(a), cells(b), strict=True) if row[1] != row[2]]


def ablation_line(a: str, b: str) -> str:
    """What going from `a` to `b` changes, as docs/algorithms.md's ablation list says it."""
    changes = "; ".join(f"{column} {x} → {y}" for column, x, y in differences(a, b))
    return f"`{a}` → `{b}`: {changes}."


def markdown() -> str:
    """docs/algorithms.md's generated lines: the bases' and presets' rows, the ablation list."""
    rows = [table_row(name) for name in (*BASE_LABELS, *PRESETS)]
    return "\n".join([*rows, "", *(f"- {ablation_line(a, b)}" for a, b in ABLATIONS)])


if __name__ == "__main__":
    print(markdown())
