"""Matplotlib figures (Agg canvas, no pyplot state) of one table, returned as PNG bytes."""

import io
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from harness.api.schema import JUDGE_PREFIX
from harness.metrics.stats import Interval, mean_interval
from reports.aggregate import Row, Table
from reports.load import Run
from reports.matched import KL_GRID_POINTS, REWARD_KEY, kl_grid, row_kl_curve

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
START_COLOR = "#7f7f7f"
CURVE_POINTS = 120
CI_WORDS = {"t": "95% Student-t CI over seeds", "bootstrap": "95% bootstrap CI over seeds"}
MARKED_POINTS = 30  # curves with at most this many points show each point as a marker
DIVERSITY = (("eval/distinct_1", "distinct-1 ↑"), ("eval/distinct_2", "distinct-2 ↑"))
DIVERSITY += (("eval/self_bleu", "self-BLEU ↓"),)
SAMPLES_AXIS = "samples_seen"
PASSES_AXIS = "token_passes"  # forward_tokens + backward_tokens of a curve point
AXES = {  # x key → (axis label, divisor)
    SAMPLES_AXIS: ("completions sampled", 1.0),
    PASSES_AXIS: ("forward + backward token passes (millions)", 1e6),
}


@dataclass(frozen=True)
class Plot:
    """One figure of the report: a short title, a caption and the PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes


def color(index: int) -> str:
    """The colour of the row at `index` (stable across every figure of a table)."""
    return COLORS[index % len(COLORS)]


def new_figure(title: str, xlabel: str, ylabel: str) -> tuple[Figure, object]:
    """A 6.4×4 in figure with one titled, labelled, lightly gridded axes."""
    figure = Figure(figsize=(6.4, 4.0), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=11)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    return figure, axes


def legend(axes: Axes) -> None:
    """A small legend, when anything was drawn with a label (a table of anchors may have none)."""
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8)


def png_bytes(figure: Figure) -> bytes:
    """Render a figure to PNG."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def axis_value(point: dict[str, float], axis: str) -> float:
    """A curve point's x: `samples_seen`, or forward + backward token passes (NaN if absent)."""
    if axis == PASSES_AXIS:
        return point.get("forward_tokens", np.nan) + point.get("backward_tokens", np.nan)
    return point.get(axis, np.nan)


def run_series(run: Run, key: str, axis: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of one run's curve points that have `key` and a finite x."""
    pairs = [(axis_value(p, axis), p[key]) for p in run.curve if key in p]
    pairs = [(x, y) for x, y in pairs if np.isfinite(x)]
    return np.array([x for x, _ in pairs]), np.array([y for _, y in pairs])


def mean_curve(
    runs: tuple[Run, ...], key: str, ci: str, axis: str = SAMPLES_AXIS
) -> tuple[np.ndarray, list[Interval]]:
    """Per-point mean and CI (method `ci`) over runs, on a grid every run covers (interpolated)."""
    series = [run_series(run, key, axis) for run in runs]
    series = [(x, y) for x, y in series if x.size]
    if not series:
        return np.array([]), []
    if all(x.size == 1 for x, _ in series):  # one update each: one point, at the mean x
        grid = np.array([np.mean([x[0] for x, _ in series])])
        series = [(grid, y) for _, y in series]
    if all(np.array_equal(x, series[0][0]) for x, _ in series):
        grid = series[0][0]
    else:
        grid = np.linspace(max(x[0] for x, _ in series), min(x[-1] for x, _ in series), 50)
    if grid.size > CURVE_POINTS:
        grid = grid[np.linspace(0, grid.size - 1, CURVE_POINTS).round().astype(int)]
    values = np.array([np.interp(grid, x, y) for x, y in series])
    return grid, [mean_interval(column.tolist(), ci) for column in values.T]


def curve_plot(table: Table, key: str, name: str, ylabel: str, axis: str = SAMPLES_AXIS) -> Plot:
    """`key` against completions sampled (or token passes): a line (mean) and band (95% CI)."""
    figure = curve_figure(table, key, ylabel, axis)
    caption = f"Training {key} per update: mean over seeds, band = {CI_WORDS[table.ci]}"
    caption += " (a bar at a single point)."
    if axis == PASSES_AXIS:
        caption += " x: cumulative forward + backward token passes (a FLOP proxy)."
    return Plot(name, figure.axes[0].get_title(), caption, png_bytes(figure))


def curve_figure(table: Table, key: str, ylabel: str, axis: str = SAMPLES_AXIS) -> Figure:
    """The curve figure of `curve_plot`: per row, the mean (marked points) and its CI band."""
    xlabel, divisor = AXES[axis]
    title = f"{table.task}: {ylabel} vs {xlabel.split(' (')[0]}"
    figure, axes = new_figure(title, xlabel, ylabel)
    for index, row in enumerate(table.rows):
        grid, intervals = mean_curve(row.runs, key, table.ci, axis)
        if intervals:
            label = f"{row.label} (n={len(row.runs)})"
            draw_curve(axes, grid / divisor, intervals, color(index), label)
    legend(axes)
    return figure


def draw_curve(
    axes: Axes, grid: np.ndarray, intervals: list[Interval], shade: str, label: str
) -> None:
    """Mean line with a band; its points marked when few, so a one-update run still shows."""
    means = [i.mean for i in intervals]
    low, high = [i.low for i in intervals], [i.high for i in intervals]
    marker = "o" if grid.size <= MARKED_POINTS else None
    axes.plot(grid, means, color=shade, label=label, lw=1.8, marker=marker, ms=5)
    if grid.size == 1:  # a band needs two points: the CI of a single point is an error bar
        errors = [[means[0] - low[0]], [high[0] - means[0]]]
        axes.errorbar(grid, means, yerr=errors, color=shade, capsize=4, lw=1.2, fmt="none")
    else:
        axes.fill_between(grid, low, high, color=shade, alpha=0.2, lw=0)


def pareto(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points no other point beats on both lower KL (x) and higher reward (y)."""
    front: list[tuple[float, float]] = []
    for x, y in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or y > front[-1][1]:
            front.append((x, y))
    return front


def before_training(table: Table) -> list[dict[str, float]]:
    """The trained runs' test metrics before training, unless a `start` anchor row shows them."""
    if any(row.anchor and row.algo == "start" for row in table.rows):
        return []
    return [run.before for row in table.rows if not row.anchor for run in row.runs]


def frontier_plot(table: Table) -> Plot:
    """Each run's final (exact KL, test reward); row means with CIs; text anchors as lines."""
    title = f"{table.task}: reward–KL frontier (test, after training)"
    figure, axes = new_figure(title, "exact KL to reference (per token) ↓", "test reward ↑")
    starts = before_training(table)
    if starts:
        start_kl = float(np.mean([s.get("eval/kl_exact", 0.0) for s in starts]))
        start_reward = float(np.mean([s["eval/reward"] for s in starts]))
        axes.scatter(
            [start_kl], [start_reward], marker="*", s=160, color=START_COLOR, label="start"
        )
    means = []
    for index, row in enumerate(table.rows):
        kl, reward = row.metrics.get("eval/kl_exact"), row.metrics["eval/reward"]
        if kl is None:  # a text anchor has no policy, hence no KL: a horizontal line
            axes.axhline(reward.mean, color=color(index), ls=":", lw=1.2, label=row.label)
            continue
        xs = [run.after.get("eval/kl_exact", np.nan) for run in row.runs]
        ys = [run.after["eval/reward"] for run in row.runs]
        axes.scatter(xs, ys, color=color(index), alpha=0.45, s=22)
        means.append((kl.mean, reward.mean))
        axes.errorbar(
            kl.mean, reward.mean, xerr=[[kl.mean - kl.low], [kl.high - kl.mean]],
            yerr=[[reward.mean - reward.low], [reward.high - reward.mean]],
            fmt="o", color=color(index), ms=7, capsize=3, label=row.label,
        )  # fmt: skip
    front = pareto(means)
    if len(front) > 1:
        axes.plot(*zip(*front, strict=True), ls="--", color="black", lw=0.8, label="frontier")
    legend(axes)
    caption = f"Small dots: single runs. Large dots: row means with {CI_WORDS[table.ci]}s."
    caption += " Dotted lines: text anchors (no KL)."
    return Plot("frontier", title, caption, png_bytes(figure))


def kl_curve_plot(table: Table, key: str = REWARD_KEY) -> Plot:
    """Each trained row's mean val reward (or a judge's score: `key`) against exact KL, on one
    KL grid, with its band."""
    what = "reward" if key == REWARD_KEY else key.removeprefix("eval/")
    title = f"{table.task}: val {what} vs KL during training"
    figure, axes = new_figure(title, "exact KL to reference (per token, val) ↓", f"val {what} ↑")
    grid = kl_grid([run for row in table.rows if not row.anchor for run in row.runs], key)
    for index, row in enumerate(table.rows):
        if row.anchor or grid.size == 0:
            continue
        xs, intervals = row_kl_curve(row.runs, grid, table.ci, key)
        if intervals:
            draw_curve(axes, xs, intervals, color(index), f"{row.label} (n={len(row.runs)})")
            axes.get_lines()[-1].set_marker("")  # grid points are readings, not evaluations
    if table.matched.usable:
        axes.axvline(table.matched.kl, color="black", ls=":", lw=1.0, label="matched KL")
    legend(axes)
    caption = (
        f"Each run's val evaluations (update 0 = start) joined in update order and read at"
        f" {KL_GRID_POINTS} KLs where it first crosses each; a row is drawn where all its runs"
        f" have a reading: mean, band = {CI_WORDS[table.ci]}. "
    )
    if key == REWARD_KEY:
        caption += "Higher and further left is better: the reward bought for each nat of drift."
        return Plot("kl_curve", title, caption, png_bytes(figure))
    caption += (
        f"{what} scores the same completions with a model the policy never trained on: a row"
        f" whose reward keeps rising with KL while {what} falls is over-optimising its reward."
    )
    return Plot(f"kl_{what}", title, caption, png_bytes(figure))


def judge_keys(table: Table) -> list[str]:
    """The judges (`eval/judge_*`) in the runs' val curves: each gets a figure against KL."""
    found = {key for row in table.rows for run in row.runs for p in run.eval_curve for key in p}
    return sorted(key for key in found if key.startswith(JUDGE_PREFIX))


def diversity_plot(table: Table) -> Plot:
    """Grouped bars of distinct-1, distinct-2 and self-BLEU per row (and before training)."""
    title = f"{table.task}: diversity of test completions"
    figure, axes = new_figure(title, "", "score")
    starts = before_training(table)
    bars: list[tuple[str, str, dict[str, Interval]]] = (
        [("start", START_COLOR, start_intervals(starts, table.ci))] if starts else []
    )
    bars += [(row.label, color(i), row.metrics) for i, row in enumerate(table.rows)]
    width = 0.8 / len(bars)
    for offset, (label, shade, metrics) in enumerate(bars):
        present = [(i, metrics[key]) for i, (key, _) in enumerate(DIVERSITY) if key in metrics]
        xs = [i + (offset - (len(bars) - 1) / 2) * width for i, _ in present]
        heights = [m.mean for _, m in present]
        errors = [[m.mean - m.low for _, m in present], [m.high - m.mean for _, m in present]]
        axes.bar(xs, heights, width, yerr=errors, color=shade, label=label, capsize=2)
    axes.set_xticks(range(len(DIVERSITY)), [name for _, name in DIVERSITY])
    axes.set_ylim(0, 1.05)
    legend(axes)
    caption = f"Means over seeds with {CI_WORDS[table.ci]}s; start = the policy before training."
    return Plot("diversity", title, caption, png_bytes(figure))


def start_intervals(starts: list[dict[str, float]], table_ci: str) -> dict[str, Interval]:
    """Intervals of the diversity metrics before training, over all runs of a table."""
    found = {}
    for key, _ in DIVERSITY:
        values = [s[key] for s in starts if key in s]
        if values:
            found[key] = mean_interval(values, table_ci)
    return found


def table_plots(table: Table) -> list[Plot]:
    """The figures of one table: reward vs samples and vs compute, KL, the frontier after
    training, the val reward–KL curves and each judge's (when the curves have judges: reward
    against judge as KL grows), diversity."""
    return [
        curve_plot(table, "train/reward", "reward", "training reward"),
        curve_plot(table, "train/reward", "compute", "training reward", PASSES_AXIS),
        curve_plot(table, "train/kl_exact", "kl", "exact KL to reference"),
        frontier_plot(table),
        kl_curve_plot(table),
        *(kl_curve_plot(table, key) for key in judge_keys(table)),
        diversity_plot(table),
    ]


def row_colors(rows: tuple[Row, ...]) -> dict[str, str]:
    """The colour each row has in the figures, for the HTML legend swatches."""
    return {row.label: color(index) for index, row in enumerate(rows)}
