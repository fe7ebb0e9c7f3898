"""Leaderboards as Markdown, CSV and JSON."""

import json
from typing import Any

import pandas as pd

from reports.aggregate import Row, Table
from reports.captions import (
    card_lines,
    kl_lines,
    method_lines,
    method_record,
    noise_lines,
    noise_record,
    run_cards,
    table_title,
)
from reports.cards import card_record
from reports.columns import (
    LEAD,
    cell_text,
    columns,
    header,
    parts_cell,
    row_name,
    test_cell,
    test_columns,
    test_header,
)
from reports.matched import matched_line
from reports.tuning import (
    HEADERS,
    WINNER,
    Tuning,
    budget_note,
    left_out_line,
    trial_cells,
    tuning_record,
)


def markdown_table(table: Table) -> list[str]:
    """The lines of one task: title, KL lines, the learned models' card line (when the runs
    recorded cards), the table, the matched-KL line and row notes."""
    cols, tested = columns(table), test_columns(table)
    headers = [*LEAD, *[header(c) for c in cols]]
    headers[len(LEAD) + 1 : len(LEAD) + 1] = [test_header(against) for against in tested]
    kl, cards = kl_lines(table), card_lines(table)
    lines = [f"## {table_title(table)}", "", *(kl if len(kl) == 1 else [f"- {x}" for x in kl]), ""]
    lines += [*cards, ""] if cards else []
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    for row in table.rows:
        cells = [cell_text(row.metrics.get(c.key), c) for c in cols]
        cells[1:1] = [test_cell(row, against) for against in tested]
        seeds = ",".join(str(run.seed) for run in row.runs)
        label, parts = (text.replace("|", "\\|") for text in (row_name(row), parts_cell(row)))
        lines.append("| " + " | ".join([str(row.rank), label, parts, seeds, *cells]) + " |")
    lines += ["", matched_line(table.matched), "", *noise_lines(table)]
    notes = [f"- **{row_name(row)}**: {'; '.join(row.flags)}" for row in table.rows if row.flags]
    return [*lines, *([""] + notes if notes else []), ""]


def markdown_tuning(tuning: Tuning) -> list[str]:
    """The Tuning section: per selection.json and task, one line per trial (none: no lines)."""
    if not tuning.selections:
        return []
    lines = ["## Tuning", ""]
    for selection in tuning.selections:
        lines += [f"From `{selection.file}`.", ""]
        for task, entries in selection.tasks.items():
            lines += [f"### {task}", "", budget_note(selection, task), ""]
            lines.append("| " + " | ".join([*HEADERS, WINNER]) + " |")
            lines.append("|" + "|".join("---" for _ in range(len(HEADERS) + 1)) + "|")
            for entry in entries:
                for trial in entry.trials:
                    cells = [cell.replace("|", "\\|") for cell in trial_cells(entry, trial)]
                    lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
    return lines


def markdown(tables: list[Table], warnings: list[str], tuning: Tuning | None = None) -> str:
    """The whole leaderboard.md: method notes, warnings, one table per task, then Tuning."""
    tuning = tuning or Tuning((), 0)
    lines = ["# Leaderboard", "", *[f"- {line}" for line in method_lines(tables[0].ci)], ""]
    lines += [f"> **warning:** {text}  " for text in warnings] + ([""] if warnings else [])
    left_out = left_out_line(tuning)
    lines += [f"*{left_out}.*", ""] if left_out else []
    for table in tables:
        lines += markdown_table(table)
    return "\n".join(lines + markdown_tuning(tuning))


def row_record(table: Table, row: Row) -> dict[str, Any]:
    """The flat CSV record of one row: identity, significance, flags, then every metric."""
    record: dict[str, Any] = {
        "task": table.task,
        "task_version": table.task_version,
        "rank": row.rank,
        "row": row.label,
        "algo": row.algo,
        "role": row.role,
        "parts": parts_cell(row),
        "seeds": ";".join(str(run.seed) for run in row.runs),
        "baseline_samples": row.baseline_samples,
        "p_vs_best": row.p_vs_best,
        "significant_vs_best": row.significant,
        **{
            f"test:{test.against}:{field}": getattr(test, field)
            for test in row.tests
            for field in ("test", "p", "p_holm")
        },
        "flags": "; ".join(row.flags),
        "matched_kl": table.matched.kl if table.matched.usable else None,
    }
    record.update({f"part:{key}": value for key, value in row.parts.items()})
    record.update({f"setting:{key}": value for key, value in row.settings.items()})
    for key, interval in row.metrics.items():
        record.update({key: interval.mean, f"{key}_low": interval.low})
        record.update({f"{key}_high": interval.high, f"{key}_n": interval.n})
        record[f"{key}_values"] = ";".join(f"{value:.10g}" for value in interval.values)
    return record


def csv_text(tables: list[Table]) -> str:
    """leaderboard.csv: one line per row of every table."""
    records = [row_record(table, row) for table in tables for row in table.rows]
    return pd.DataFrame.from_records(records).to_csv(index=False, float_format="%.10g")


def json_data(
    tables: list[Table], warnings: list[str], tuning: Tuning | None = None
) -> dict[str, Any]:
    """leaderboard.json: method, warnings, every table with its rows, runs and intervals, and
    the tuning trials (selection.json)."""
    return {
        "method": method_record(tables[0].ci),
        "warnings": warnings,
        "tables": [table_record(table) for table in tables],
        "tuning": tuning_record(tuning or Tuning((), 0)),
    }


def table_record(table: Table) -> dict[str, Any]:
    """One table as JSON: its conditions, the varied keys, matched KL and its rows."""
    rows = [
        {
            "rank": row.rank,
            "row": row.label,
            "algo": row.algo,
            "role": row.role,
            "algo_config": row.algo_config,
            "parts": row.parts,
            "parts_text": parts_cell(row),
            "baseline_samples": row.baseline_samples,
            "settings": row.settings,
            "seeds": [run.seed for run in row.runs],
            "runs": [run.name for run in row.runs],
            "stop_reasons": [run.stop_reason for run in row.runs],
            "vs_best": {"p": row.p_vs_best, "significant": row.significant},
            "tests": [vars(test) | {"significant": test.significant} for test in row.tests],
            "flags": list(row.flags),
            "metrics": {key: vars(interval) for key, interval in row.metrics.items()},
        }
        for row in table.rows
    ]
    return {
        "task": table.task,
        "task_version": table.task_version,
        "title": table_title(table),
        "kl": kl_lines(table),
        "conditions": table.conditions,
        "varied": list(table.varied),
        "task_metrics": list(table.task_metrics),
        "ci": table.ci,
        "noise": noise_record(table),
        "matched_kl": {
            "kl": table.matched.kl,
            "range": [table.matched.low, table.matched.high],
            "usable": table.matched.usable,
            "why": table.matched.why,
            "line": matched_line(table.matched),
        },
        "rows": rows,
        **card_fields(table),
    }


def card_fields(table: Table) -> dict[str, Any]:
    """`reward_cards` of a table whose runs recorded learned models: the caption line and each
    distinct card with its run count; {} otherwise, so a report without cards is unchanged."""
    lines = card_lines(table)
    if not lines:
        return {}
    return {"reward_cards": {"line": lines[0], "models": card_record(run_cards(table))}}


def json_text(tables: list[Table], warnings: list[str], tuning: Tuning | None = None) -> str:
    """leaderboard.json as text (NaN written as null)."""
    return json.dumps(json_data(tables, warnings, tuning), indent=2, default=str) + "\n"
