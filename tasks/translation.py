"""Translation: German → English sentence pairs from Debian's `trans-de-en` dictionary (offline).

The dictionary is parsed at run time from /usr/share/trans/de-en (never shipped here). Each line
is `German | variant | … :: English | variant | …`; the i-th German variant translates the i-th
English one. Example sentences are kept: both sides end in . ? or !, the German side has at
least four words and no `{…}`/`[…]` grammar tags; of `;`-separated alternatives the first is
used. A hub dataset (e.g. `wmt16`, hub_config `de-en`) or a local jsonl/csv file can be used
instead through `source`.
"""

import hashlib
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import sacrebleu

from harness.api.errors import BenchError
from harness.api.task import Example, Generation, Reward, TaskSpec
from harness.data.records import load_records
from harness.data.splits import md5_bucket, share_of
from tasks.rewards.lexical import bleu, chrf

VERSION = "2"  # 2: its `tiny` policy warm-starts for 400 steps, not 2,500 (runs must not pool)
DICTIONARY = Path("/usr/share/trans/de-en")
REWARDS = ("bleu", "chrf")
TERMINALS = (".", "?", "!")
SHARES = {"train": (0, 90), "val": (90, 95), "test": (95, 100)}  # percent buckets of a hash
MISSING = (
    "the German-English dictionary {path} is missing; install it with "
    "`apt-get install -y trans-de-en`, or use -o task.source=wmt16 -o task.hub_config=de-en "
    "(a hub dataset) or -o task.source=FILE.jsonl (columns de, en)"
)


#: trans-de-en: German sentence → English; reward sentence BLEU (or chrF)
def translation(
    source: str = "trans-de-en",
    reward: str = "bleu",
    train_size: int = 2000,
    max_new_tokens: int = 32,
    source_field: str = "de",
    target_field: str = "en",
    hub_config: str | None = None,
) -> TaskSpec:
    """The German → English translation task.

    source: 'trans-de-en' (Debian dictionary, embedded default; the path can be changed with
    BENCH_TRANS_DE_EN), a local .jsonl/.csv path (may contain {split}) or a hub id (rows with a
    'translation' dict or source_field/target_field columns). reward: bleu (sentence BLEU,
    effective order) or chrf. train_size caps the training prompts (0 = all).
    """
    if reward not in REWARDS:
        raise BenchError(f"unknown translation reward '{reward}' (rewards: {', '.join(REWARDS)})")
    score: Reward = bleu() if reward == "bleu" else chrf()

    def load_split(split: str) -> list[Example]:
        if source == "trans-de-en":
            pairs = dictionary_split(dictionary_path(), split)
        else:
            rows = load_records(source, split, hub_config)
            pairs = [row_pair(row, source_field, target_field) for row in rows]
        return [
            Example(id=key(de), prompt=render_prompt(de), references=(en,), source=de)
            for de, en in pairs
        ]

    return TaskSpec(
        name="translation",
        version=VERSION,
        description="trans-de-en: German sentence → English translation",
        load_split=load_split,
        reward=score,
        score_metrics=translation_metrics,
        generation=Generation(max_new_tokens=max_new_tokens),
        train_size=train_size,
    )


def render_prompt(german: str) -> str:
    """The instruction, the German sentence and the answer cue."""
    return f"Translate German to English.\n\nGerman: {german}\n\nEnglish:"


def key(text: str) -> str:
    """A stable id for a source sentence."""
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def dictionary_path() -> Path:
    """Where the trans-de-en dictionary is (BENCH_TRANS_DE_EN overrides the Debian path)."""
    path = Path(os.environ.get("BENCH_TRANS_DE_EN", DICTIONARY))
    if not path.exists():
        raise BenchError(MISSING.format(path=path))
    return path


def parse_line(line: str) -> list[tuple[str, str]]:
    """The kept (German, English) sentence pairs of one dictionary line."""
    if line.startswith("#") or " :: " not in line:
        return []
    german, _, english = line.rstrip("\n").partition(" :: ")
    pairs = []
    for de, en in zip(german.split(" | "), english.split(" | "), strict=False):
        de, en = first_alternative(de), first_alternative(en)
        if keep(de, en):
            pairs.append((de, en))
    return pairs


def first_alternative(variant: str) -> str:
    """The first of `;`-separated alternatives, stripped."""
    return variant.split("; ")[0].strip()


def keep(german: str, english: str) -> bool:
    """A full sentence pair: both end in .?!, German ≥ 4 words, no grammar tags."""
    if any(mark in text for text in (german, english) for mark in "{}[]"):
        return False
    return german.endswith(TERMINALS) and english.endswith(TERMINALS) and len(german.split()) >= 4


@cache
def dictionary_pairs(path: Path) -> tuple[tuple[str, str], ...]:
    """Every kept pair of the dictionary, deduplicated on the German side, in file order."""
    seen: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            for de, en in parse_line(line):
                seen.setdefault(de, en)
    return tuple(seen.items())


def split_of(german: str) -> str:
    """The split a pair belongs to, from a hash of its German side (stable across versions)."""
    return share_of(md5_bucket(german), SHARES)


def dictionary_split(path: Path, split: str) -> list[tuple[str, str]]:
    """The pairs of one split, in a hash order (a seeded shuffle that no file edit reorders)."""
    pairs = [pair for pair in dictionary_pairs(path) if split_of(pair[0]) == split]
    return sorted(pairs, key=lambda pair: key(pair[0]))


def row_pair(row: dict[str, Any], source_field: str, target_field: str) -> tuple[str, str]:
    """(German, English) from a hub/local row: a wmt-style 'translation' dict or two columns."""
    fields = row.get("translation", row)
    for name in (source_field, target_field):
        if name not in fields:
            raise BenchError(f"column '{name}' not in data (columns: {', '.join(sorted(fields))})")
    return str(fields[source_field]), str(fields[target_field])


def translation_metrics(
    examples: Sequence[Example], completions: Sequence[str]
) -> dict[str, float]:
    """Corpus BLEU, chrF and TER (sacrebleu, 0..100 scale as papers report them)."""
    hypotheses = list(completions)
    width = max(len(e.references) for e in examples) if examples else 1
    streams = [
        [e.references[i] if i < len(e.references) else e.references[0] for e in examples]
        for i in range(width)
    ]
    return {
        "bleu": sacrebleu.corpus_bleu(hypotheses, streams).score,
        "chrf": sacrebleu.corpus_chrf(hypotheses, streams).score,
        "ter": sacrebleu.corpus_ter(hypotheses, streams).score,
    }
