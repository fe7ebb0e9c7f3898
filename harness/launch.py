"""The Python API: build a run config from CLI-style settings, check it, run it.

    from harness.launch import build_config, run
    config = build_config("summarization", "reinforce", policy="tiny", samples=256,
                          overrides=["lr=1e-3"])
    run_dir = run(config)

`bench run` is exactly these two calls. Every value is checked before anything is loaded or
written (harness/config/checks.py), whichever way the config was made.
"""

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.api import registry
from harness.api.errors import BenchError
from harness.config.checks import validate
from harness.config.overrides import apply_overrides, resolve_defaults, set_option
from harness.config.run_config import BudgetConfig, RunConfig, load_config_file
from harness.data.task_files import task_factory


def build_config(
    task: str | None = None,
    algo: str | None = None,
    *,
    policy: str | None = None,
    samples: int | None = None,
    seed: int | None = None,
    out: str | None = None,
    device: str | None = None,
    overrides: Sequence[str] = (),
    config_file: Path | None = None,
) -> RunConfig:
    """Merge a config file, the named settings and `key=value` overrides; resolve and check.

    Settings left at None keep the config file's value (or the default).
    """
    if config_file is not None:
        base = load_config_file(config_file)
    elif task is None or algo is None:
        raise BenchError(
            "bench run needs a TASK and --algo ALGO (or --config FILE); see `bench list`"
        )
    else:
        base = RunConfig(task=task, algo=algo)
    flags = {
        "task": task,
        "algo": algo,
        "policy": policy,
        "seed": seed,
        "out": out,
        "device": device,
    }
    new_algo = config_file is None or (algo is not None and algo != base.algo)
    base = replace(base, **{k: v for k, v in flags.items() if v is not None})
    if samples is not None:
        base = replace(base, budget=replace(base.budget or BudgetConfig(), samples=samples))
    owners = option_owners(base)  # checks the task name, then the algorithm's
    if new_algo:  # a replayed config keeps its values
        base = apply_preset(base)
    return resolve(apply_overrides(base, list(overrides), *owners), owners)


def apply_preset(config: RunConfig) -> RunConfig:
    """Set the parts a preset algorithm pins (e.g. grpo's estimator and KL); `-o` comes after."""
    for key, value in registry.load("algorithms", config.algo).preset.items():
        section, _, name = key.rpartition(".")
        config = set_option(config, section, name, value)
    return config


def option_owners(config: RunConfig) -> tuple[type, Callable[..., Any]]:
    """The algorithm's Config type and the task factory: they own the `algo.`/`task.` options."""
    factory = task_factory(config.task)
    return registry.load("algorithms", config.algo).Config, factory


def resolve(config: RunConfig, owners: tuple[type, Callable[..., Any]] | None = None) -> RunConfig:
    """Fill every algorithm and task default, then check every value (BenchError on the first).

    Resolving a resolved config returns an equal one (defaults only fill what is missing), so
    `run` resolves whatever it is given, a `build_config` result included.
    owners: `option_owners(config)` when the caller has them already (task and algo unchanged).
    """
    from harness.policies.policy import policy_source  # imports torch: not at `bench --help`

    algo_config_type, factory = owners or option_owners(config)
    resolved = resolve_defaults(config, algo_config_type, factory)
    validate(resolved, algo_config_type, factory)
    check_pinned_parts(resolved)
    policy_source(resolved.policy)
    return resolved


def check_pinned_parts(config: RunConfig) -> None:
    """Refuse a changed part that an algorithm training on references would silently ignore.

    A preset's parts are defaults that `-o` may override, except where the algorithm cannot use
    the part at all (the supervised row has no advantages and no KL penalty).
    """
    algorithm = registry.load("algorithms", config.algo)
    if algorithm.trains_on != "references":
        return
    for key, pinned in algorithm.preset.items():
        section, _, name = key.partition(".")
        options = config.algo_config if section == "algo" else vars(getattr(config, section))
        value = options.get(name)
        if value != pinned:
            raise BenchError(
                f"{config.algo} trains on references and has no use for {key}={value} "
                f"(it would be ignored); leave {key} at {pinned}"
            )


def run(
    config: RunConfig, console: Console | None = None, resume: bool = False, export: bool = False
) -> Path:
    """Resolve and check `config`, then train and evaluate; returns the run directory.

    The one way into a run for `bench run`, sweep workers and Python callers alike.

    resume: work in the config's own directory: leave a finished run as it is, continue an
    unfinished one from its checkpoint. export: write the trained policy to RUN_DIR/policy (see
    `harness.run.runner.execute`).
    """
    from harness.run.runner import execute

    return execute(resolve(config), console or Console(), resume, export)
