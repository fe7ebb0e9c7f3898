"""Leaderboards as Markdown, CSV and JSON, and the cell formatting the HTML page shares."""

import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.api.choices import KL_GRADIENTS
from harness.metrics.stats import Interval
from reports.aggregate import CI_METHOD, MIN_SEEDS, Row, Table
from reports.pooling import RULE
from reports.significance import ALPHA, TEST_NAME


@dataclass(frozen=True)
class Column:
    """A metric column: its key, header, decimals and whether higher is better."""

    key: str
    header: str
    digits: int
    better: str = ""
    signed: bool = False


HEAD = (
    Column("eval/reward", "reward", 3, "↑"),
    Column("gain/reward", "Δ vs start", 3, "↑", signed=True),
)
TAIL = (
    Column("eval/kl_exact", "KL (exact)", 4, "↓"),
    Column("eval/distinct_1", "distinct-1", 3, "↑"),
    Column("eval/distinct_2", "distinct-2", 3, "↑"),
    Column("eval/self_bleu", "self-BLEU", 3, "↓"),
    Column("eval/length", "len", 1),
    Column("spent/samples", "samples", 0),
    Column("spent/seconds", "s/run", 1),
)
DAGGER = "†"


def columns(table: Table) -> list[Column]:
    """The metric columns of a table: reward, gain, the task's own metrics, KL, diversity, cost."""
    own = [Column(key, key.removeprefix("eval/"), 3, "↑") for key in table.task_metrics]
    return [*HEAD, *own, *TAIL]


def number(value: float, digits: int, signed: bool = False) -> str:
    """A number with fixed decimals (`+` shown when signed); NaN as n/a."""
    if not math.isfinite(value):
        return "n/a"
    return f"{value:{'+' if signed else ''}.{digits}f}"


def cell_parts(interval: Interval | None, column: Column) -> tuple[str, str, bool]:
    """(mean text, CI text or '', fewer-than-3-seeds flag) for one cell."""
    if interval is None:
        return "n/a", "", False
    mean = number(interval.mean, column.digits, column.signed)
    low = number(interval.low, column.digits, column.signed)
    high = number(interval.high, column.digits, column.signed)
    ci = "" if low == high == mean else f"[{low}, {high}]"
    return mean, ci, interval.n < MIN_SEEDS


def cell_text(interval: Interval | None, column: Column) -> str:
    """`0.251 [0.244, 0.258]`, with † when the cell rests on fewer than 3 seeds."""
    mean, ci, few = cell_parts(interval, column)
    return f"{mean}{DAGGER if few else ''}" + (f" {ci}" if ci else "")


def versus_best(row: Row) -> str:
    """`best`, `p=0.029 *` (significant) or `p=0.333 n.s.`."""
    if row.p_vs_best is None:
        return "best"
    return f"p={row.p_vs_best:.3f} " + ("*" if row.significant else "n.s.")


def table_title(table: Table) -> str:
    """`summarization (v1) · policy tiny · budget 64 samples · eval 16 test prompts · 3 seeds`."""
    conditions = table.conditions
    budget = [
        f"{conditions[key]} {key.split('.')[1]}"
        for key in ("budget.samples", "budget.tokens", "budget.updates", "budget.seconds")
        if conditions.get(key) is not None
    ]
    counts = sorted({len(row.runs) for row in table.rows})
    seeds = f"{counts[0]}–{counts[-1]}" if len(counts) > 1 else str(counts[0])
    parts = [
        f"{table.task} (v{table.task_version})",
        f"policy {conditions.get('policy', 'mixed')}",
        f"budget {' or '.join(budget) if budget else 'mixed'}",
        f"eval {conditions.get('eval.prompts', '?')} {conditions.get('eval.split', '?')} prompts",
        f"{seeds} seed{'' if seeds == '1' else 's'}/row",
    ]
    return " · ".join(parts)


def kl_line(table: Table) -> str:
    """`KL penalty: β 0.01, k1 in the reward; its gradient is that of the sequence KL(π‖π_ref)`."""
    conditions = table.conditions
    placement = conditions.get("rollout.kl_placement", "reward")
    estimator = conditions.get("rollout.kl_estimator", "k1")
    meaning = KL_GRADIENTS.get((placement, estimator), "not a supported KL option")
    target = conditions.get("rollout.kl_target")
    coef = f"β {conditions.get('rollout.kl_coef', 'mixed')}" + (
        f" adapted to {target} nats/sequence" if target is not None else ""
    )
    return f"KL penalty: {coef}, {estimator} in the {placement}; its gradient: {meaning}."


def method_lines() -> list[str]:
    """How the numbers were made, printed once at the top of every report."""
    return [
        f"Every number is a mean over seeds with its CI [low, high]: {CI_METHOD}.",
        f"Held-out reward decides the rank; 'vs best' is a {TEST_NAME} against the rank-1 row"
        f" (* p < {ALPHA}, n.s. otherwise).",
        f"{DAGGER} the cell rests on fewer than {MIN_SEEDS} seeds: its CI is not reliable.",
        f"Pooling: {RULE}",
    ]


def markdown(tables: list[Table], warnings: list[str]) -> str:
    """The whole leaderboard.md: method notes, warnings, then one table per task."""
    lines = ["# Leaderboard", "", *[f"- {line}" for line in method_lines()], ""]
    lines += [f"> **warning:** {text}  " for text in warnings] + ([""] if warnings else [])
    for table in tables:
        cols = columns(table)
        headers = ["rank", "algo", "seeds", *[f"{c.header} {c.better}".strip() for c in cols]]
        headers[4:4] = ["vs best"]
        lines += [f"## {table_title(table)}", "", kl_line(table), ""]
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|" + "|".join("---" for _ in headers) + "|")
        for row in table.rows:
            cells = [cell_text(row.metrics.get(c.key), c) for c in cols]
            cells.insert(1, versus_best(row))
            seeds = ",".join(str(run.seed) for run in row.runs)
            label = row.label.replace("|", "\\|")
            lines.append("| " + " | ".join([str(row.rank), label, seeds, *cells]) + " |")
        notes = [f"- **{row.label}**: {'; '.join(row.flags)}" for row in table.rows if row.flags]
        lines += ["", *notes, ""] if notes else [""]
    return "\n".join(lines)


def row_record(table: Table, row: Row) -> dict[str, Any]:
    """The flat CSV record of one row: identity, significance, flags, then every metric."""
    record: dict[str, Any] = {
        "task": table.task,
        "task_version": table.task_version,
        "rank": row.rank,
        "row": row.label,
        "algo": row.algo,
        "seeds": ";".join(str(run.seed) for run in row.runs),
        "p_vs_best": row.p_vs_best,
        "significant_vs_best": row.significant,
        "flags": "; ".join(row.flags),
    }
    record.update({f"setting:{key}": value for key, value in row.settings.items()})
    for key, interval in row.metrics.items():
        record.update({key: interval.mean, f"{key}_low": interval.low})
        record.update({f"{key}_high": interval.high, f"{key}_n": interval.n})
    return record


def csv_text(tables: list[Table]) -> str:
    """leaderboard.csv: one line per row of every table."""
    records = [row_record(table, row) for table in tables for row in table.rows]
    return pd.DataFrame.from_records(records).to_csv(index=False, float_format="%.10g")


def json_data(tables: list[Table], warnings: list[str]) -> dict[str, Any]:
    """leaderboard.json: method, warnings and every table with its rows, runs and intervals."""
    return {
        "method": {"ci": CI_METHOD, "test": TEST_NAME, "alpha": ALPHA, "pooling": RULE},
        "warnings": warnings,
        "tables": [table_record(table) for table in tables],
    }


def table_record(table: Table) -> dict[str, Any]:
    """One table as JSON: its conditions, the varied keys and its rows."""
    rows = [
        {
            "rank": row.rank,
            "row": row.label,
            "algo": row.algo,
            "algo_config": row.algo_config,
            "settings": row.settings,
            "seeds": [run.seed for run in row.runs],
            "runs": [str(run.path) for run in row.runs],
            "stop_reasons": [run.stop_reason for run in row.runs],
            "vs_best": {"p": row.p_vs_best, "significant": row.significant},
            "flags": list(row.flags),
            "metrics": {key: vars(interval) for key, interval in row.metrics.items()},
        }
        for row in table.rows
    ]
    return {
        "task": table.task,
        "task_version": table.task_version,
        "title": table_title(table),
        "conditions": table.conditions,
        "varied": list(table.varied),
        "task_metrics": list(table.task_metrics),
        "rows": rows,
    }


def json_text(tables: list[Table], warnings: list[str]) -> str:
    """leaderboard.json as text (NaN written as null)."""
    return json.dumps(json_data(tables, warnings), indent=2, default=str) + "\n"
