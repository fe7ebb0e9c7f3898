"""Summarization: a paper abstract → its challenge/approach/outcome summary (aclsum, offline).

The same task reads a hub dataset (e.g. `abisee/cnn_dailymail`, hub_config 3.0.0) or a local
jsonl/csv file through `datasets`, selected by `source`.
"""

import json
import re
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from harness.api.errors import BenchError
from harness.api.task import Example, Generation, TaskSpec
from harness.data.records import load_records
from tasks.rewards.lexical import rouge, rouge_metrics

VERSION = "1"
ASPECTS = ("challenge", "approach", "outcome")
TARGETS = ("summary", *ASPECTS, "title")
INSTRUCTIONS = {
    "summary": "Summarize the abstract in three sentences: the challenge, the approach and the "
    "outcome.",
    "challenge": "In one sentence, state the problem this paper addresses.",
    "approach": "In one sentence, state the approach this paper takes.",
    "outcome": "In one sentence, state the main result of this paper.",
    "title": "Write the title of this paper.",
}
CUES = {"summary": "Summary:", "title": "Title:"}  # the aspects answer after "Answer:"


#: aclsum: paper abstract → title | 3-aspect summary; reward rouge(rougeL)
def summarization(
    source: str = "aclsum",
    target: str = "title",
    reward: str = "rougeL",
    max_source_words: int = 80,
    max_new_tokens: int = 32,
    text_field: str = "article",
    summary_field: str = "highlights",
    hub_config: str | None = None,
) -> TaskSpec:
    """The summarization task.

    source: 'aclsum' (embedded), a local .jsonl/.csv path (may contain {split}), or a hub id.
    target: for aclsum, what to write: title (default: extreme summarization, short outputs, so
    the default run learns measurably within minutes on a CPU), summary (the 3 aspects joined,
    ~67 words: raise max_new_tokens to ~96), challenge, approach, outcome. reward: the ROUGE
    variant used as reward. text_field/summary_field name the columns of a local or hub source.
    """
    if target not in TARGETS:
        raise BenchError(f"unknown target '{target}' (targets: {', '.join(TARGETS)})")
    kind = target if source == "aclsum" else "summary"
    instruction, cue = INSTRUCTIONS[kind], CUES.get(kind, "Answer:")

    def load_split(split: str) -> list[Example]:
        if source == "aclsum":
            pairs = [aclsum_pair(row, target) for row in aclsum_rows(split)]
        else:
            rows = load_records(source, split, hub_config)
            pairs = [field_pair(row, text_field, summary_field, i) for i, row in enumerate(rows)]
        return [
            Example(
                key,
                render_prompt(instruction, cue, text, max_source_words),
                (ref,),
                source=" ".join(text.split()[:max_source_words]),
            )
            for key, text, ref in pairs
        ]

    return TaskSpec(
        name="summarization",
        version=VERSION,
        description=f"aclsum: paper abstract → {target}",
        load_split=load_split,
        reward=rouge(reward),
        score_metrics=rouge_metrics,
        generation=Generation(max_new_tokens=max_new_tokens),
        extractive=True,
    )


def render_prompt(instruction: str, cue: str, text: str, max_words: int) -> str:
    """Instruction, then the source cut to `max_words` words, then the answer cue."""
    words = text.split()
    clipped = " ".join(words[:max_words]) + (" …" if len(words) > max_words else "")
    return f"{instruction}\n\nAbstract: {clipped}\n\n{cue}"


@cache
def aclsum_rows(split: str) -> tuple[dict[str, Any], ...]:
    """Rows of the aclsum package's jsonl file for a split (located without importing aclsum)."""
    spec = find_spec("aclsum")
    if spec is None or spec.origin is None:
        raise BenchError("the aclsum data set is missing; install it with: pip install aclsum")
    path = Path(spec.origin).parent / "dataset" / f"{split}.jsonl"
    with path.open() as handle:
        return tuple(json.loads(line) for line in handle if line.strip())


def aclsum_pair(row: dict[str, Any], target: str) -> tuple[str, str, str]:
    """(id, abstract, reference) for one aclsum paper."""
    abstract = detokenize(" ".join(row["sentences"]["abstract"]))
    if target == "summary":
        reference = " ".join(row["summary"][aspect].strip() for aspect in ASPECTS)
    elif target == "title":
        reference = row["title"].strip()
    else:
        reference = row["summary"][target].strip()
    return row["id"], abstract, reference


def field_pair(
    row: dict[str, Any], text_field: str, summary_field: str, index: int
) -> tuple[str, str, str]:
    """(id, text, reference) from a generic row; names the missing column when there is one."""
    for name in (text_field, summary_field):
        if name not in row:
            raise BenchError(f"column '{name}' not in data (columns: {', '.join(sorted(row))})")
    return str(row.get("id", index)), str(row[text_field]), str(row[summary_field])


def detokenize(text: str) -> str:
    """Undo aclsum's pre-tokenization (spaces before punctuation, split contractions)."""
    text = re.sub(r" ([.,;:!?%)\]}])", r"\1", text)
    text = re.sub(r"([(\[{]) ", r"\1", text)
    return re.sub(r" (n't|'s|'re|'ve|'ll|'d)\b", r"\1", text)
