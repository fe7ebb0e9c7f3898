"""Reward-model cards: held-out accuracy and, per probe family, how often the real text wins.

A learned reward is only as good as what it was shown: dialogue's task-version-4 model scored
0.820 on its held-out pairs and still paid more for an echo of the prompt than for the real
reply. So a recipe's card also scores probes (`probes.py`, or sentiment's own) on prompts no
model trained on, and records per family the share of prompts where the real text outscores
the probe (strictly: a tie is not a win), how many prompts had that probe, and whether the
family was held out of the model's training data. `figures` is a pure function of the scores,
so a card can be checked by a hand count; `bench reward card NAME` prints it.
"""

import hashlib
import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Scorer = Callable[[Sequence[str | None], Sequence[str]], list[float]]  # (contexts, texts)
WEIGHTS = ("*.safetensors",)  # what a fingerprint hashes: the model's weights, not its card


@dataclass(frozen=True)
class Probe:
    """One prompt of a card: the context a model reads (None: the text alone), the real text,
    and (family, probe text) pairs; a prompt may lack a family (e.g. a generic real reply)."""

    context: str | None
    real: str
    probes: tuple[tuple[str, str], ...]


def flat_rows(probes: Sequence[Probe]) -> tuple[list[str | None], list[str]]:
    """(contexts, texts) to score: each prompt's real text, then its probe texts, in order."""
    contexts: list[str | None] = []
    texts: list[str] = []
    for probe in probes:
        contexts += [probe.context] * (1 + len(probe.probes))
        texts += [probe.real, *(text for _, text in probe.probes)]
    return contexts, texts


def figures(
    probes: Sequence[Probe], scores: Sequence[float], held_out: Collection[str]
) -> dict[str, dict[str, Any]]:
    """family → {real_beats_probe, n, held_out}, from `scores` in `flat_rows` order.

    real_beats_probe: the share of the n prompts with that family where the real text scored
    strictly above the probe.
    """
    wins: dict[str, list[bool]] = {}
    at = 0
    for probe in probes:
        real = scores[at]
        for offset, (family, _) in enumerate(probe.probes, start=1):
            wins.setdefault(family, []).append(real > scores[at + offset])
        at += 1 + len(probe.probes)
    if at != len(scores):
        raise ValueError(f"{len(scores)} scores for {at} probe texts")
    return {
        family: {
            "real_beats_probe": sum(won) / len(won),
            "n": len(won),
            "held_out": family in held_out,
        }
        for family, won in wins.items()
    }


def probe_figures(
    probes: Sequence[Probe], score: Scorer, held_out: Collection[str]
) -> dict[str, dict[str, Any]]:
    """Score every real and probe text once with `score` and count the wins per family."""
    contexts, texts = flat_rows(probes)
    return figures(probes, score(contexts, texts), held_out)


def summary(card: dict[str, Any]) -> dict[str, Any]:
    """What `bench reward card --json` prints: the held-out accuracy and the probe families."""
    return {"accuracy": card["heldout_accuracy"], "families": card.get("probes", {})}


def fingerprint(folder: Path) -> str:
    """sha256 (16 hex digits) of the model's weight files (names and bytes, in name order):
    the same weights give the same fingerprint whatever their card says."""
    digest = hashlib.sha256()
    for path in sorted(p for pattern in WEIGHTS for p in folder.glob(pattern)):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def run_record(folder: Path, card: dict[str, Any]) -> dict[str, Any]:
    """What a run's result.json keeps of a reward model: its fingerprint, name, accuracy and
    probe families (the figures a leaderboard caption shows)."""
    return {"name": card["name"], "fingerprint": fingerprint(folder), **summary(card)}


def read_card(folder: Path) -> dict[str, Any]:
    """The reward_card.json of a saved model folder."""
    return json.loads((folder / "reward_card.json").read_text())
