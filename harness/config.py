"""Run configuration: frozen dataclasses, `-o key=value` overrides and replayable JSON.

A run is fully described by one `RunConfig`. Everything the algorithms share (rollout size,
sampling, KL penalty, advantage estimator, evaluation) lives outside the algorithm's own
Config, so two runs that compare algorithms cannot silently differ in it.
"""

import dataclasses
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from harness.api.errors import BenchError, unknown_choice


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
    """Sampling, reward shaping and advantage settings shared by every algorithm."""

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
    (held-out gain stuck at +0.015 while the penalty was ~0.12; see README "Default settings")"""
    kl_placement: str = "reward"
    """where the KL penalty goes: reward (per token, Ziegler et al. 2019) | loss (β·KL term)"""
    kl_estimator: str = "k1"
    """per-token KL estimator of the penalty: k1 | k2 | k3 (Schulman 2020)"""
    kl_target: float | None = None
    """target per-sequence KL (nats) of the adaptive β controller; None keeps β fixed"""
    kl_adapt_rate: float = 0.1
    """K_β of the adaptive controller; 0.1 as in Ziegler et al. 2019, §2.2"""
    advantage: str = "rloo"
    """advantage estimator: rloo (Ahmadian et al. 2024) | batch-mean | ema | none | gae"""
    ema_decay: float = 0.9
    """decay of the ema baseline b ← d·b + (1−d)·mean(R) (reinforcement comparison)"""
    gamma: float = 1.0
    """GAE discount γ; 1.0 as in Ziegler et al. 2019 (lm-human-preferences)"""
    lam: float = 0.95
    """GAE λ; 0.95 as in Ziegler et al. 2019 (lm-human-preferences)"""
    value_coef: float = 0.1
    """weight of the value loss added to gradient-based losses with gae (vf_coef, Ziegler 2019)"""
    micro_batch_prompts: int = 2
    """prompts per forward/backward chunk; bounds memory, does not change the update"""


@dataclass(frozen=True)
class EvalConfig:
    """Held-out evaluation before training, every N updates and at the end."""

    split: str = "test"
    """held-out split of the task"""
    prompts: int = 100
    """held-out prompts scored (the first N of the split, the same before and after)"""
    samples_per_prompt: int = 1
    """completions per held-out prompt"""
    every: int = 8
    """evaluate every N updates as well (0: before and after only)"""
    batch_prompts: int = 16
    """prompts per generation batch"""


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one run; `config.json` in a run directory is this, resolved."""

    task: str
    algo: str
    policy: str = "smollm2-135m"
    seed: int = 0
    device: str = "cpu"
    out: str = "runs"
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    task_options: dict[str, Any] = field(default_factory=dict)
    algo_config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return dataclasses.asdict(self)


TOP_LEVEL_KEYS = ("policy", "seed", "device", "out")
SECTIONS = {"budget": BudgetConfig, "rollout": RolloutConfig, "eval": EvalConfig}
DEVICE_PATTERN = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


def coerce(text: str, annotation: Any, key: str) -> Any:
    """Convert a command-line string to the annotated type (int, float, bool, str, X | None)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if text.lower() in ("none", "null"):
            return None
        annotation = options[0]
    try:
        if annotation is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if annotation is int:
            return int(text)
        if annotation is float:
            return float(text)
    except ValueError as err:
        kind = getattr(annotation, "__name__", str(annotation))
        raise BenchError(f"option '{key}' expects {kind}, got '{text}'") from err
    return text


def option_types(target: type | Callable[..., Any]) -> dict[str, Any]:
    """Field name → type annotation of a dataclass or a factory function's keyword parameters."""
    if dataclasses.is_dataclass(target):
        hints = typing.get_type_hints(target)
        return {f.name: hints[f.name] for f in fields(target)}
    hints = typing.get_type_hints(target)
    return {
        name: hints.get(name, str)
        for name, param in inspect.signature(target).parameters.items()
        if param.kind is param.KEYWORD_ONLY or param.default is not param.empty
    }


def option_defaults(target: type | Callable[..., Any]) -> dict[str, Any]:
    """Default values of a dataclass's fields or a factory's keyword parameters."""
    if dataclasses.is_dataclass(target):
        return dataclasses.asdict(target())
    return {
        name: param.default
        for name, param in inspect.signature(target).parameters.items()
        if param.default is not param.empty
    }


def parse_override(item: str) -> tuple[str, str]:
    """Split one `key=value` item."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise BenchError(
            f"override '{item}' must look like key=value (e.g. -o rollout.kl_coef=0.1)"
        )
    return key.strip(), value.strip()


def apply_overrides(
    config: RunConfig,
    overrides: list[str],
    algo_config_type: type,
    task_factory: Callable[..., Any],
) -> RunConfig:
    """Apply `-o key=value` items; a bare key is allowed when exactly one section has it."""
    namespaces: dict[str, dict[str, Any]] = {
        "": {k: option_types(RunConfig)[k] for k in TOP_LEVEL_KEYS},
        **{name: option_types(cls) for name, cls in SECTIONS.items()},
        "algo": option_types(algo_config_type),
        "task": option_types(task_factory),
    }
    for item in overrides:
        key, value = parse_override(item)
        section, name = qualify(key, namespaces)
        typed = coerce(value, namespaces[section][name], key)
        config = set_option(config, section, name, typed)
    return config


def qualify(key: str, namespaces: Mapping[str, Mapping[str, Any]]) -> tuple[str, str]:
    """Find the section of `section.name` or of a bare `name`; raise with the valid keys."""
    valid = sorted(
        f"{section}.{name}" if section else name
        for section, names in namespaces.items()
        for name in names
    )
    section, dot, name = key.rpartition(".")
    if dot:
        if section in namespaces and name in namespaces[section]:
            return section, name
    else:
        owners = [s for s, names in namespaces.items() if key in names]
        if len(owners) == 1:
            return owners[0], key
        if len(owners) > 1:
            spelled = ", ".join(f"{s}.{key}" if s else key for s in owners)
            raise BenchError(f"option '{key}' is ambiguous; write one of: {spelled}")
    raise unknown_choice("option", key, valid)


def set_option(config: RunConfig, section: str, name: str, value: Any) -> RunConfig:
    """Return a copy of `config` with one option changed."""
    if section == "":
        return replace(config, **{name: value})
    if section == "algo":
        return replace(config, algo_config={**config.algo_config, name: value})
    if section == "task":
        return replace(config, task_options={**config.task_options, name: value})
    return replace(config, **{section: replace(getattr(config, section), **{name: value})})


def resolve_defaults(
    config: RunConfig, algo_config_type: type, task_factory: Callable[..., Any]
) -> RunConfig:
    """Fill every algorithm and task option with its default so config.json is complete."""
    unknown = set(config.algo_config) - set(option_types(algo_config_type))
    unknown |= set(config.task_options) - set(option_types(task_factory))
    if unknown:
        raise BenchError(f"unknown options in config: {', '.join(sorted(unknown))}")
    if not DEVICE_PATTERN.match(config.device):
        raise BenchError(f"unknown device '{config.device}' (devices: cpu, cuda, cuda:N, mps)")
    return replace(
        config,
        algo_config={**option_defaults(algo_config_type), **config.algo_config},
        task_options={**option_defaults(task_factory), **config.task_options},
    )


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
