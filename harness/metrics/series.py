"""A text picture of a series, torch-free: the run's summary line and `bench show` both use it."""

from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 40) -> str:
    """Block-character sparkline of a series, averaged into at most `width` bins."""
    if not values:
        return ""
    bins = min(width, len(values))
    means = []
    for i in range(bins):
        chunk = values[i * len(values) // bins : (i + 1) * len(values) // bins]
        means.append(sum(chunk) / len(chunk))
    low, high = min(means), max(means)
    span = (high - low) or 1.0
    return "".join(BLOCKS[int((m - low) / span * (len(BLOCKS) - 1))] for m in means)
