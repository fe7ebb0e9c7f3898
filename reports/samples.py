"""Test generations of every row for the same few prompts, for the side-by-side view."""

from dataclasses import dataclass
from typing import Any

from harness.api.schema import REPORT_SPLIT
from reports.aggregate import Table
from reports.load import Run, read_jsonl

AFTER = f"eval_after_{REPORT_SPLIT}"  # samples/<name>.jsonl: sampled completions after training
BEFORE = f"eval_before_{REPORT_SPLIT}"


@dataclass(frozen=True)
class Generation:
    """One completion shown in the view: whose it is, its text and its reward."""

    label: str
    seed: int
    text: str
    reward: float | None


@dataclass(frozen=True)
class PromptView:
    """One test prompt with its references, the start policy's and each row's completion."""

    id: str
    prompt: str
    references: tuple[str, ...]
    generations: tuple[Generation, ...]


def first_by_id(run: Run, name: str) -> dict[str, dict[str, Any]]:
    """The first completion per prompt id in `samples/<name>.jsonl` of a run (file order)."""
    found: dict[str, dict[str, Any]] = {}
    for sample in read_jsonl(run.path / "samples" / f"{name}.jsonl"):
        if "id" in sample:
            found.setdefault(str(sample["id"]), sample)
    return found


def generation(label: str, run: Run, sample: dict[str, Any] | None) -> Generation:
    """A Generation from a sample line (a missing one reads as '(no completion saved)')."""
    if sample is None:
        return Generation(label, run.seed, "(no completion saved)", None)
    reward = sample.get("reward")
    value = float(reward) if isinstance(reward, int | float) else None
    return Generation(label, run.seed, str(sample.get("generation", "")), value)


def start_run(table: Table) -> Run | None:
    """The run whose before-training samples show the start policy: the first trained row's,
    or none when a `start` anchor row already shows them (or no row was trained)."""
    if any(row.anchor and row.algo == "start" for row in table.rows):
        return None
    return next((row.runs[0] for row in table.rows if not row.anchor), None)


def sample_views(table: Table, count: int = 4) -> list[PromptView]:
    """The first `count` test prompts (file order), each row's lowest seed side by side."""
    shown = [(row.label, row.runs[0]) for row in table.rows]
    after = {label: first_by_id(run, AFTER) for label, run in shown}
    start = start_run(table)
    before = first_by_id(start, BEFORE) if start is not None else {}
    ids = next((list(found) for found in after.values() if found), [])[:count]
    views = []
    for prompt_id in ids:
        source = next(found[prompt_id] for found in after.values() if prompt_id in found)
        rows = [generation(label, run, after[label].get(prompt_id)) for label, run in shown]
        if start is not None:
            rows.insert(
                0, generation("start policy (before training)", start, before.get(prompt_id))
            )
        references = source.get("references") or []
        views.append(
            PromptView(
                id=prompt_id,
                prompt=str(source.get("prompt", "")),
                references=tuple(str(text) for text in references),
                generations=tuple(rows),
            )
        )
    return views
