"""Grid edges: which winners sit at an edge of the values tried, and where the next trial goes.

An edge winner: for a grid key with at least two numeric values, the winner's value is the
smallest (bottom edge) or the largest (top edge) of the values its algorithm tried; a value
beyond that edge was never tried and may do better. Strings, booleans and null are categorical
and never an edge.

`tune.extend_edges: N` adds N trials per algorithm after its grid, one per round, for every
algorithm alike (equal tuning effort, DESIGN "Fair comparison"). Each round starts from the
algorithm's current winner over everything it tried:

  - at an edge     → the point beyond it: the step at that edge repeated (× the ratio of the two
                     outermost values on a log scale, ± their difference on a linear one); so an
                     extension goes on while its newest point wins;
  - inside         → refine: the point halfway (geometric mean on a log scale, arithmetic on a
                     linear one) between the winner and its better-scoring neighbour (a failed
                     trial scores lowest; on a tie, the smaller neighbour);
  - at an edge whose beyond point is not a valid setting (lr 0, say) → refine towards its
                     one neighbour.

Scale: a grid of three or more equally spaced values is linear; any other grid of positive
values (equal ratios such as 1e-5, 1e-4, 1e-3; the 1-3-10 pattern; two values) is a log scale;
a grid with a value ≤ 0 that is not equally spaced has no step and is refused at spec load, as
are categorical and integer grids (an integer key cannot always be refined between neighbours,
and every algorithm must get its N trials). A new value is rounded to 3 significant digits, or
more where that would leave the interval it must fall in.

Pure functions with no imports from the harness: `bench report` (torch-free) reads them too.
"""

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Literal

Side = Literal["top", "bottom"]
Scale = Literal["log", "linear"]
Move = Literal["top", "bottom", "refine"]
SIGNIFICANT = 3  # digits of a new value: 3.33e-4 reads as typed; more only when needed
SPACING_TOLERANCE = 1e-6  # relative: differences within it are equal


def is_number(value: Any) -> bool:
    """True for a finite int or float that is not a boolean (a value that can have an edge)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def winner_edges(tried: Sequence[Mapping[str, Any]], winner: Mapping[str, Any]) -> dict[str, Side]:
    """Grid key → `top` or `bottom` for each key whose winning value is at that edge of the
    numeric values tried (keys with fewer than two numeric values have no edge)."""
    edges: dict[str, Side] = {}
    for key, value in winner.items():
        values = {s[key] for s in tried if key in s and is_number(s[key])}
        if not is_number(value) or len(values) < 2:
            continue
        if value == max(values):
            edges[key] = "top"
        elif value == min(values):
            edges[key] = "bottom"
    return edges


def scale_of(values: Collection[float]) -> Scale | None:
    """`linear` for 3+ equally spaced values, else `log` when all are positive, else None (no
    step to repeat: refused at spec load)."""
    ordered = sorted(values)
    gaps = [high - low for low, high in zip(ordered, ordered[1:], strict=False)]
    equal = all(math.isclose(gap, gaps[0], rel_tol=SPACING_TOLERANCE) for gap in gaps)
    if equal and len(ordered) >= 3:
        return "linear"
    if ordered[0] > 0:
        return "log"
    return "linear" if equal else None


def extension_problem(values: Sequence[Any]) -> str | None:
    """Why a grid axis cannot be extended beyond its edges (None: it can)."""
    shown = ", ".join(map(str, values))
    if not all(is_number(value) for value in values):
        text = [v for v in values if isinstance(v, str) and number_text(v)]
        hint = f"; YAML reads {text[0]} as text: write it with a dot, e.g. 1.0e-5" if text else ""
        return f"its values ({shown}) are categorical, and a categorical value has no edge{hint}"
    if all(isinstance(value, int) for value in values):
        return f"its values ({shown}) are integers, which cannot always be refined"
    if len(values) < 2:
        return f"it has one value ({shown}), so no step to repeat beyond it"
    if scale_of(values) is None:
        return f"its values ({shown}) are neither equally spaced nor all positive: no step"
    return None


def number_text(text: str) -> bool:
    """True for a string that reads as a number (`1e-5`: YAML 1.1 wants `1.0e-5`)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def next_point(
    tried: Mapping[float, float | None],
    winner: float,
    scale: Scale,
    allowed: Callable[[float], bool],
) -> tuple[float, Move]:
    """The value of the next extra trial and where it lies, from every value tried (→ its
    score; None: failed) and the current winner (the rules in this module's docstring)."""
    values = sorted(tried)
    at = values.index(winner)
    outward: list[tuple[Move, float, float]] = []
    if at == len(values) - 1:
        outward.append(("top", values[-2], values[-1]))
    if at == 0:
        outward.append(("bottom", values[1], values[0]))
    for move, inner, edge in outward:
        beyond = step(inner, edge, scale)
        low, high = (edge, math.inf) if move == "top" else (-math.inf, edge)
        value = rounded(beyond, low, high)
        if allowed(value):
            return value, move
    neighbours = [values[i] for i in (at - 1, at + 1) if 0 <= i < len(values)]
    best = max(neighbours, key=lambda v: -math.inf if tried[v] is None else tried[v])
    low, high = sorted((winner, best))
    return rounded(middle(low, high, scale), low, high), "refine"


def step(inner: float, edge: float, scale: Scale) -> float:
    """The point beyond `edge`, one step of the gap between `inner` and `edge` further."""
    return edge * (edge / inner) if scale == "log" else edge + (edge - inner)


def middle(low: float, high: float, scale: Scale) -> float:
    """The point halfway between two values on the grid's scale."""
    return math.sqrt(low * high) if scale == "log" else (low + high) / 2


def rounded(value: float, low: float, high: float) -> float:
    """`value` to SIGNIFICANT digits, or more, so that it stays strictly between low and high."""
    for digits in range(SIGNIFICANT, 18):
        short = float(f"{value:.{digits}g}")
        if low < short < high:
            return short
    return value
