"""Per-seed values as dots beside a row's interval: a small inline SVG in an HTML cell.

A row's mean can hide what its seeds did (two of five seeds learning to stop early moves the
mean a little and the interval a lot); the dots show each seed on one scale per column, so the
rows of a table can be compared by eye.
"""

from harness.metrics.stats import Interval
from reports.aggregate import GAIN_METRIC, MATCHED_METRIC, RANK_METRIC, Table

DOTTED = (RANK_METRIC, GAIN_METRIC, MATCHED_METRIC)  # the columns whose cells carry dots
WIDTH, HEIGHT, PAD = 96, 14, 4


def column_range(table: Table, key: str) -> tuple[float, float]:
    """The smallest and largest value, low or high of column `key` over the table's rows."""
    numbers = [
        value
        for row in table.rows
        if key in row.metrics
        for value in (row.metrics[key].low, row.metrics[key].high, *row.metrics[key].values)
    ]
    return min(numbers), max(numbers)


def seed_dots(interval: Interval, table: Table, key: str) -> str:
    """An SVG: the interval as a line, the mean as a tick, each seed's value as a dot."""
    low, high = column_range(table, key)
    span = high - low or 1.0

    def x(value: float) -> float:
        return round(PAD + (value - low) / span * (WIDTH - 2 * PAD), 1)

    mid = HEIGHT / 2
    parts = [
        f'<line x1="{x(interval.low)}" y1="{mid}" x2="{x(interval.high)}" y2="{mid}" '
        'stroke="#7a8294" stroke-width="1.5"/>',
        f'<line x1="{x(interval.mean)}" y1="2" x2="{x(interval.mean)}" y2="{HEIGHT - 2}" '
        'stroke="#1d2330" stroke-width="1.5"/>',
    ]
    parts += [
        f'<circle cx="{x(value)}" cy="{mid}" r="2.3" fill="#1f77b4" fill-opacity="0.7"/>'
        for value in interval.values
    ]
    shown = ", ".join(f"{value:.3f}" for value in interval.values)
    return (
        f'<svg class="dots" width="{WIDTH}" height="{HEIGHT}" role="img">'
        f"<title>per seed: {shown}</title>{''.join(parts)}</svg>"
    )
