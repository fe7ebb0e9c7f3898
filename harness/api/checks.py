"""Checking a frozen config dataclass: each field's type, closed choices and range, in one line.

The run config's sections and every algorithm's `Config` use these, so a bad value anywhere is
reported the same way (`rollout.temperature must be > 0, got 0.0`) before anything is loaded.
"""

import dataclasses
import difflib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from harness.api.errors import BenchError


@dataclass(frozen=True)
class Check:
    """A range rule: `text` completes 'must be …' in the error message."""

    text: str
    ok: Callable[[Any], bool]


POSITIVE = Check("> 0", lambda v: v > 0)
NON_NEGATIVE = Check("≥ 0", lambda v: v >= 0)
AT_LEAST_ONE = Check("≥ 1", lambda v: v >= 1)
UNIT = Check("in [0, 1]", lambda v: 0 <= v <= 1)
FRACTION = Check("in (0, 1]", lambda v: 0 < v <= 1)
OPEN_UNIT = Check("in (0, 1)", lambda v: 0 < v < 1)
UNIT_BELOW_ONE = Check("in [0, 1)", lambda v: 0 <= v < 1)


def not_a_choice(key: str, value: Any, choices: tuple[Any, ...]) -> BenchError:
    """'rollout.advantage must be one of …; got 'rlo' (did you mean 'rloo'?)'."""
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    listed = ", ".join(str(c) for c in sorted(choices))
    return BenchError(f"{key} must be one of {listed}; got '{value}'{hint}")


def check_type(key: str, value: Any, annotation: Any) -> None:
    """Raise when `value` does not fit `annotation` (int, float, bool, str, Literal, X | None)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return
        annotation = next(a for a in options if a is not type(None))
    if typing.get_origin(annotation) is Literal:
        if value not in typing.get_args(annotation):
            raise not_a_choice(key, value, typing.get_args(annotation))
        return
    fits = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        str: lambda v: isinstance(v, str),
    }.get(annotation)
    if fits is not None and not fits(value):
        raise BenchError(f"{key} expects {annotation.__name__}, got {value!r}")


def check_fields(prefix: str, instance: Any, checks: Mapping[str, Check]) -> None:
    """Check every field of a dataclass instance: its type, then its rule in `checks` if any."""
    hints = typing.get_type_hints(type(instance))
    for field in dataclasses.fields(instance):
        key = f"{prefix}.{field.name}" if prefix else field.name
        value = getattr(instance, field.name)
        check_type(key, value, hints[field.name])
        rule = checks.get(field.name)
        if rule is not None and value is not None and not rule.ok(value):
            raise BenchError(f"{key} must be {rule.text}, got {value!r}")
