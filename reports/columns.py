"""The leaderboard's columns and cell text, shared by the Markdown, CSV and HTML writers."""

import math
from dataclasses import dataclass

from harness.metrics.stats import Interval
from reports.aggregate import MATCHED_METRIC, PASSES_METRIC, Row, Table
from reports.flags import MIN_SEEDS
from reports.parts import parts_text
from reports.significance import BEST, START


@dataclass(frozen=True)
class Column:
    """A metric column: key, header, decimals, whether higher is better, shown-only-if-present.

    scale divides every value before it is printed (1e6: millions).
    """

    key: str
    header: str
    digits: int
    better: str = ""
    signed: bool = False
    scale: float = 1.0
    always: bool = True


HEAD = (  # rank, algo, seeds, then these; "vs best" follows the first one
    Column("eval/reward", "test reward (sampled)", 3, "↑"),
    Column("eval/greedy/reward", "test reward (greedy)", 3, "↑"),
    Column("gain/reward", "Δ vs start", 3, "↑", signed=True),
    Column(MATCHED_METRIC, "val reward @ matched KL", 3, "↑"),
)
DIVERSITY = (
    Column("eval/kl_exact", "KL (exact)", 4, "↓"),
    Column("eval/distinct_1", "distinct-1", 3, "↑"),
    Column("eval/distinct_2", "distinct-2", 3, "↑"),
    Column("eval/self_bleu", "self-BLEU", 3, "↓"),
)
HACKING = (  # reward-hacking signals: shown for every task whose runs record them
    Column("eval/novel_bigrams", "novel 2-grams", 3, always=False),
    Column("eval/copy_rate", "copy rate", 3, always=False),
    Column("eval/coverage", "coverage", 3, always=False),
    Column("eval/density", "density", 2, always=False),
    Column("eval/compression", "compression", 2, always=False),
    Column("eval/eos_share", "ends with EOS", 3, always=False),  # neither direction is better
    Column("eval/repeat_4gram", "repeat 4-grams", 3, "↓", always=False),
    Column("eval/entropy", "entropy", 3, always=False),
    Column("eval/msttr", "MSTTR", 3, "↑", always=False),
)
COST = (
    Column("eval/length", "len", 1),
    Column("spent/samples", "samples", 0),
    Column(PASSES_METRIC, "compute (M tok passes)", 3, scale=1e6),
    Column("spent/seconds", "s/run", 1),
)
DAGGER = "†"
ANCHOR_MARK = " (anchor)"
LEAD = ("rank", "algo", "parts", "seeds")  # the identity columns before the metrics
NO_PARTS = "—"  # an anchor row trains nothing, so it has no algorithm parts


def columns(table: Table) -> list[Column]:
    """A table's metric columns: rewards, task metrics, KL and diversity, hacking signals, cost."""
    own = [Column(key, key.removeprefix("eval/"), 3, "↑") for key in table.task_metrics]
    judges = sorted({key for row in table.rows for key in row.metrics if key.startswith("gain/j")})
    gains = [Column(key, f"Δ {key.removeprefix('gain/')}", 3, "↑", signed=True) for key in judges]
    every = [*HEAD[:3], *gains, *HEAD[3:], *own, *DIVERSITY, *HACKING, *COST]
    present = {key for row in table.rows for key in row.metrics}
    return [column for column in every if column.always or column.key in present]


def header(column: Column) -> str:
    """`test reward (sampled) ↑`."""
    return f"{column.header} {column.better}".strip()


def row_name(row: Row) -> str:
    """The row label as shown in a table: anchor rows carry ' (anchor)'."""
    return row.label + (ANCHOR_MARK if row.anchor else "")


def parts_cell(row: Row) -> str:
    """The row's algorithm parts in a few words (`group-norm · token-mean · no KL`)."""
    return parts_text(row.parts) or NO_PARTS


def number(value: float, digits: int, signed: bool = False) -> str:
    """A number with fixed decimals (`+` shown when signed); NaN as n/a."""
    if not math.isfinite(value):
        return "n/a"
    return f"{value:{'+' if signed else ''}.{digits}f}"


def cell_parts(interval: Interval | None, column: Column) -> tuple[str, str, bool]:
    """(mean text, CI text or '', fewer-than-3-seeds flag) for one cell."""
    if interval is None:
        return "n/a", "", False
    mean, low, high = (
        number(value / column.scale, column.digits, column.signed)
        for value in (interval.mean, interval.low, interval.high)
    )
    ci = "" if low == high == mean else f"[{low}, {high}]"
    return mean, ci, interval.n < MIN_SEEDS


def cell_text(interval: Interval | None, column: Column) -> str:
    """`0.251 [0.244, 0.258]`, with † when the cell rests on fewer than 3 seeds."""
    mean, ci, few = cell_parts(interval, column)
    return f"{mean}{DAGGER if few else ''}" + (f" {ci}" if ci else "")


def test_columns(table: Table) -> list[str]:
    """What the table's rows are tested against, in column order: best, start, each constant."""
    found = list(dict.fromkeys(test.against for test in table.tests))
    constants = [against for against in found if against not in (BEST, START)]
    return [BEST] + ([START] if START in found else []) + constants


def test_header(against: str) -> str:
    """`vs best`, `vs start`, `vs lead-9`."""
    return f"vs {against}"


def test_cell(row: Row, against: str) -> str:
    """`p=0.029 *` (Holm-adjusted), `p=0.333 n.s.`, `best` for the best row, `—` if not tested."""
    test = row.test(against)
    if test is not None:
        return test.cell()
    return "best" if against == BEST and row.p_vs_best is None else "—"
