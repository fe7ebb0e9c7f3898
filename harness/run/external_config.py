"""What `bench eval` is asked, checked before any model loads or any folder is written.

An external row's RunConfig is a run's config that trains nothing: `algo` is the row's label
(`--name`, never a registered algorithm's name), `role` is `external`, `policy` the checkpoint,
and `algo_config` records the only setting of its own, the reference it is measured against.
Only what defines an evaluation may be set (`eval.*`, `task.*` and the sampling limits), so
that the row can share a table with runs trained from the same reference.
"""

import re
from dataclasses import dataclass, replace
from pathlib import Path

from harness.api import registry
from harness.api.errors import BenchError
from harness.config.checks import validate
from harness.config.overrides import (
    coerce,
    option_defaults,
    option_types,
    parse_override,
    qualify,
    set_option,
)
from harness.config.run_config import SECTIONS, RunConfig
from harness.data.task_files import task_factory

SAMPLING_KEYS = ("temperature", "max_new_tokens", "max_prompt_tokens")  # of rollout.*
RESERVED = ("start", "echo")  # anchor rows' names (and lead-N)
MODEL_FILES = ("config.json", "adapter_config.json")  # what makes a folder a model


@dataclass(frozen=True)
class ExternalRequest:
    """The arguments of `bench eval` (checked by `external_configs`)."""

    task: str
    policy: str
    reference: str | None = None
    name: str | None = None
    seeds: tuple[int, ...] = (0,)
    out: str = "runs"
    device: str = "cpu"
    precision: str = "fp32"
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoOptions:
    """An external row trains nothing: its only `algo_config` entry is its reference."""

    reference: str | None = None


def external_configs(request: ExternalRequest) -> list[RunConfig]:
    """One resolved, checked config per seed; BenchError (one line) on the first bad input."""
    factory = task_factory(request.task)  # an unknown task fails here, with did-you-mean
    name = row_name(request)
    check_model(request.policy, "--policy")
    if request.reference is not None:
        check_model(request.reference, "--reference")
    base = RunConfig(
        task=request.task, algo=name, policy=request.policy, device=request.device,
        out=request.out, role="external", algo_config={"reference": request.reference},
    )  # fmt: skip
    base = apply_evaluation_overrides(base, [f"precision={request.precision}",
                                             *request.overrides], factory)  # fmt: skip
    base = replace(base, task_options={**option_defaults(factory), **base.task_options})
    validate(base, NoOptions, factory)
    if len(set(request.seeds)) != len(request.seeds):
        raise BenchError(f"--seed repeats a value: {', '.join(map(str, request.seeds))}")
    return [replace(base, seed=seed) for seed in request.seeds]


def row_name(request: ExternalRequest) -> str:
    """The row label: `--name`, else the checkpoint's folder name or hub id; never a name that
    would pass the row off as something it is not (an algorithm or an anchor row)."""
    name = request.name or Path(request.policy.rstrip("/")).name or request.policy
    algorithms = registry.entries("algorithms")
    if name in algorithms or name in RESERVED or re.fullmatch(r"lead-\d+", name):
        taken = "a registered algorithm" if name in algorithms else "an anchor row"
        raise BenchError(
            f"--name '{name}' is {taken}'s name; an external row needs its own "
            "(e.g. --name my-rlhf-run)"
        )
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", name):
        raise BenchError(f"--name '{name}' must be letters, digits, '.', '_', '+' or '-'")
    return name


def check_model(name: str, flag: str) -> None:
    """A registered policy, a hub id, a model folder, a PEFT adapter folder (with `peft`) or,
    for --policy, a folder of checkpoint-N/ models; anything else is one line naming it."""
    from harness.policies.policy import policy_source  # imports torch: not at `bench --help`

    folder = Path(name).expanduser()
    if name.startswith((".", "/", "~")) and not folder.exists():
        raise BenchError(f"{flag} '{name}': no such folder")
    if folder.is_dir() and not (folder / "config.json").exists():
        if (folder / "adapter_config.json").exists():
            return check_adapter(folder, flag)
        if checkpoint_series(folder) and flag == "--policy":
            return None
        raise BenchError(
            f"{flag} '{name}' holds no model (no config.json or adapter_config.json)"
            + (" and no checkpoint-N/ folders" if flag == "--policy" else "")
        )
    if folder.exists() and not folder.is_dir():
        raise BenchError(f"{flag} '{name}' is a file, not a model folder")
    try:
        policy_source(name)
    except BenchError as error:
        raise BenchError(f"{flag}: {error}") from None
    return None


def check_adapter(folder: Path, flag: str) -> None:
    """A PEFT adapter folder needs `peft` to load onto its base model."""
    try:
        import peft  # noqa: F401
    except ImportError:
        raise BenchError(
            f"{flag} '{folder}' is a PEFT adapter; `pip install peft` to load it on its base"
        ) from None


def checkpoint_series(folder: Path) -> list[tuple[int, Path]]:
    """The `checkpoint-N/` subfolders holding a model, ordered by N as a number."""
    found = []
    for child in folder.iterdir() if folder.is_dir() else ():
        match = re.fullmatch(r"checkpoint-(\d+)", child.name)
        if match and child.is_dir() and any((child / m).exists() for m in MODEL_FILES):
            found.append((int(match.group(1)), child))
    return sorted(found)


def apply_evaluation_overrides(
    config: RunConfig, overrides: list[str], factory: object
) -> RunConfig:
    """Apply `-o` items that define an evaluation; any other key is refused, naming the valid."""
    namespaces = {
        "": {"precision": option_types(RunConfig)["precision"]},
        "eval": option_types(SECTIONS["eval"]),
        "rollout": {k: option_types(SECTIONS["rollout"])[k] for k in SAMPLING_KEYS},
        "task": option_types(factory),
    }  # fmt: skip
    for item in overrides:
        key, value = parse_override(item)
        section, name = qualify(key, namespaces)
        config = set_option(config, section, name, coerce(value, namespaces[section][name], key))
    return config
