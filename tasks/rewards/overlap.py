"""How much of a reply is copied from its context: word-level features a reward head reads.

An embedding says how close a reply is to its context; it cannot say whether the reply answers
the context or repeats it (an echo is the closest text of all). These features can: the share of
the reply's words and bigrams found in the context's last turn and in any of its turns, the
longest span copied from one turn, lengths, and how much the reply repeats itself. There is no
exact-copy flag: with one, the judge's head learned "identical = bad" and a span of a turn (the
held-out `partial_copy` probes) beat the real reply on 43 % of val prompts; without it, "copied
words = bad" generalised to them. Word tokens are `harness.metrics.hacking.words` (lower-cased
\\w+), the units of the evaluation's copy_rate. No feature tests for a span of a turn as such:
the held-out `partial_copy` probe family measures whether the model generalises from whole-turn
copies.
"""

import math
from collections.abc import Sequence

from harness.metrics.hacking import copy_rate, words
from tasks.rewards.probes import context_turns

NAMES = (
    "word_share_last",
    "word_share_any",
    "bigram_share_last",
    "bigram_share_any",
    "copy_rate_last",
    "copy_rate_any",
    "log_words",
    "log_words_vs_last",
    "self_repeat",
    "empty",
)
LOG_SCALE = 4.0  # log(1 + words) / 4: about 1 for a 40-word turn, like the shares


def bigrams(tokens: Sequence[str]) -> list[tuple[str, str]]:
    """Adjacent word pairs, in order, with multiplicity."""
    return list(zip(tokens, tokens[1:], strict=False))


def share(items: Sequence[object], found: set) -> float:
    """The share of items (with multiplicity) in `found`; 0 for no items."""
    return sum(item in found for item in items) / len(items) if items else 0.0


def self_repeat(pairs: Sequence[tuple[str, str]]) -> float:
    """The share of a reply's bigrams that already occurred earlier in it (a phrase said twice:
    about a half)."""
    seen: set[tuple[str, str]] = set()
    again = 0
    for pair in pairs:
        again += pair in seen
        seen.add(pair)
    return again / len(pairs) if pairs else 0.0


def overlap_features(context: str, reply: str) -> list[float]:
    """The NAMES features of one (context, reply); the context's turns are its lines."""
    turns = context_turns(context) or [""]
    turn_words = [words(turn) for turn in turns]
    last = turn_words[-1]
    mine = words(reply)
    pairs = bigrams(mine)
    any_words = {w for tokens in turn_words for w in tokens}
    any_pairs = {p for tokens in turn_words for p in bigrams(tokens)}
    copied = [copy_rate(turn, reply) or 0.0 for turn in turns]
    size = math.log1p(len(mine)) / LOG_SCALE
    return [
        share(mine, set(last)),
        share(mine, any_words),
        share(pairs, set(bigrams(last))),
        share(pairs, any_pairs),
        copied[-1],
        max(copied),
        size,
        size - math.log1p(len(last)) / LOG_SCALE,
        self_repeat(pairs),
        float(not mine),
    ]
