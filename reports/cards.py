"""The learned models behind a table's numbers (result.json `reward_cards`) and how far to trust
them: the caption line of a table whose runs read a reward model or a learned judge.

A learned reward can be won without doing the task (dialogue's first model paid more for an echo
of the prompt than for the real reply), so a reader needs the card beside the table: held-out
accuracy and, per probe family, how often the real text beats the probe. Rows compare fairly only
if every run read one and the same model: the line warns when the runs of one table recorded
different fingerprints for one role.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SHORT = 8  # hex digits of a fingerprint shown (the record keeps 16)


@dataclass(frozen=True)
class Family:
    """One probe family of a card: the share of prompts where the real text beat the probe."""

    name: str
    real_beats_probe: float
    n: int
    held_out: bool  # in none of the model's training data: the honest test of generalisation


@dataclass(frozen=True)
class Card:
    """What a run recorded of one learned model (tasks/rewards/cards.py `run_record`)."""

    role: str  # "reward", or the judge's metric name (e.g. "judge_rm")
    name: str
    fingerprint: str
    accuracy: float | None  # held-out accuracy on ordinary pairs
    families: tuple[Family, ...]


def number(value: Any) -> float | None:
    """A JSON number as float (None for anything else, booleans included)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def read_family(name: str, entry: Any) -> Family | None:
    """One family of a card record (None unless it has a numeric share and count)."""
    if not isinstance(entry, dict):
        return None
    share, n = number(entry.get("real_beats_probe")), number(entry.get("n"))
    if share is None or n is None:
        return None
    return Family(name, share, int(n), entry.get("held_out") is True)


def read_cards(raw: Any) -> tuple[Card, ...]:
    """The cards of a result.json's `reward_cards` (absent before schema 5: none); entries that
    are not objects are left out, a missing name or fingerprint is shown as '?'."""
    if not isinstance(raw, dict):
        return ()
    cards = []
    for role, record in raw.items():
        if not isinstance(record, dict):
            continue
        found = record.get("families")
        entries = found.items() if isinstance(found, dict) else ()
        families = [read_family(str(name), entry) for name, entry in entries]
        cards.append(
            Card(
                role=str(role),
                name=str(record.get("name", "?")),
                fingerprint=str(record.get("fingerprint", "?")),
                accuracy=number(record.get("accuracy")),
                families=tuple(family for family in families if family is not None),
            )
        )
    return tuple(cards)


def distinct_cards(per_run: Sequence[tuple[Card, ...]]) -> list[tuple[Card, int]]:
    """Each (role, fingerprint) the runs recorded, with its first card and how many runs did:
    roles in the order first seen (a run writes "reward" first), a role's fingerprints together."""
    counts: dict[tuple[str, str], tuple[Card, int]] = {}
    for cards in per_run:
        for card in cards:
            first, n = counts.get((card.role, card.fingerprint), (card, 0))
            counts[(card.role, card.fingerprint)] = (first, n + 1)
    roles = list(dict.fromkeys(role for role, _ in counts))
    return sorted(counts.values(), key=lambda found: roles.index(found[0].role))


def card_words(card: Card, runs: int | None) -> str:
    """`reward = dialogue-rm #1a2b3c4d: accuracy 0.842; echo 0.930 (n=100), …` (with `runs`:
    how many of the table's runs recorded this fingerprint)."""
    accuracy = "n/a" if card.accuracy is None else f"{card.accuracy:.3f}"
    shown = f" in {runs} run{'s' if runs != 1 else ''}" if runs is not None else ""
    families = ", ".join(
        f"{f.name} {f.real_beats_probe:.3f} (n={f.n}{', held out' if f.held_out else ''})"
        for f in card.families
    )
    head = f"{card.role} = {card.name} #{card.fingerprint[:SHORT]}{shown}: accuracy {accuracy}"
    return f"{head}; {families}" if families else head


def fingerprint_warning(role: str, found: list[tuple[Card, int]]) -> str:
    """`⚠ reward: this table's runs recorded 2 fingerprints (#… in 2 runs, #… in 1 run): …` for
    a role whose runs read more than one model (`found`: that role's cards and run counts)."""
    listed = ", ".join(
        f"#{card.fingerprint[:SHORT]} in {n} run{'s' if n != 1 else ''}" for card, n in found
    )
    return (
        f"⚠ {role}: this table's runs recorded {len(found)} fingerprints ({listed}): they did not"
        f" share one {role} model, so their rows are not scored alike."
    )


def card_line(per_run: Sequence[tuple[Card, ...]]) -> str:
    """The caption line of a table from each run's cards ('' when no run recorded one); a role
    with several fingerprints shows each card with its run count, and a warning."""
    found = distinct_cards(per_run)
    if not found:
        return ""
    prints = Counter(card.role for card, _ in found)
    models = ". ".join(card_words(card, n if prints[card.role] > 1 else None) for card, n in found)
    warnings = [
        fingerprint_warning(role, [(card, n) for card, n in found if card.role == role])
        for role, count in prints.items()
        if count > 1
    ]
    line = (
        "Learned models, by their cards (held-out accuracy; per probe family, the share of card"
        f" prompts where the real text outscores the probe): {models}."
    )
    return " ".join([line, *warnings])


def card_record(per_run: Sequence[tuple[Card, ...]]) -> list[dict[str, Any]]:
    """leaderboard.json's `reward_cards`: each distinct card with how many runs recorded it."""
    return [
        {
            "role": card.role,
            "name": card.name,
            "fingerprint": card.fingerprint,
            "accuracy": card.accuracy,
            "families": {
                f.name: {"real_beats_probe": f.real_beats_probe, "n": f.n, "held_out": f.held_out}
                for f in card.families
            },
            "runs": n,
        }
        for card, n in distinct_cards(per_run)
    ]
