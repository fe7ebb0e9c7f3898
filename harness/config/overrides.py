"""`-o key=value` overrides: find the section of a key, coerce the text to the field's type.

Bare keys work when exactly one section has them; the algorithm's Config (`algo.`) and the
task factory's keyword arguments (`task.`) are sections like the run config's own.
"""

import dataclasses
import inspect
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from typing import Any

from harness.api.errors import BenchError, unknown_choice
from harness.config.run_config import SECTIONS, TOP_LEVEL_KEYS, RunConfig


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
            number = float(text)
            if math.isfinite(number):  # nan, inf, -inf, 1e999: no spelling of them starts a run
                return number
    except ValueError as err:
        kind = getattr(annotation, "__name__", str(annotation))
        raise BenchError(f"option '{key}' expects {kind}, got '{text}'") from err
    if annotation is float:
        raise BenchError(f"option '{key}' expects a finite number, got '{text}'")
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


RETIRED = {  # options that were removed, with why, so an old command fails with a reason
    "eval.split": "eval.split was removed: runs evaluate val during training and val and test "
    "at the start and the end; the leaderboard reports test",
}


def qualify(key: str, namespaces: Mapping[str, Mapping[str, Any]]) -> tuple[str, str]:
    """Find the section of `section.name` or of a bare `name`; raise with the valid keys."""
    if key in RETIRED:
        raise BenchError(RETIRED[key])
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
    return replace(
        config,
        algo_config={**option_defaults(algo_config_type), **config.algo_config},
        task_options={**option_defaults(task_factory), **config.task_options},
    )
