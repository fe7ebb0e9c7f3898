"""The one exception type that the CLI turns into a one-line error and exit code 2."""

import difflib
from collections.abc import Iterable


class BenchError(ValueError):
    """A user-facing error: the message names the bad value and the valid choices."""


def unknown_choice(kind: str, value: str, choices: Iterable[str]) -> BenchError:
    """Build the 'unknown X; did you mean Y? (Xs: a, b, c)' error for a bad name."""
    valid = sorted(choices)
    close = difflib.get_close_matches(value, valid, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return BenchError(f"unknown {kind} '{value}'{hint} ({plural(kind)}: {', '.join(valid)})")


def plural(noun: str) -> str:
    """An English plural of a kind's name: policy → policies, class → classes, task → tasks."""
    if noun.endswith("s"):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
        return noun[:-1] + "ies"
    return noun + "s"
