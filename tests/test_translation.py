"""Translation: trans-de-en parser, deterministic split, rewards and metrics vs sacrebleu."""

import json
from pathlib import Path

import pytest
import sacrebleu

from harness.api.errors import BenchError
from harness.api.task import Example
from tasks.translation import (
    DICTIONARY,
    dictionary_pairs,
    dictionary_split,
    parse_line,
    split_of,
    translation,
    translation_metrics,
)

LINES = [
    "# comment line :: not data\n",
    "Abfall {m} | Bitte nehmen Sie Ihren Abfall mit! | Das ist Müll. :: litter | Please take "
    "your rubbish home! | That is rubbish.\n",
    "Ich muss diesen Termin absagen.; Ich sage ab. | Er kommt [ugs.] heute nicht. :: I have to "
    "cancel this appointment.; I cancel. | He is not coming today.\n",
]


def test_parse_line_keeps_sentence_pairs_and_first_alternatives():
    assert parse_line(LINES[0]) == []
    # the headword has no terminal, "Das ist Müll." has 3 German words
    assert parse_line(LINES[1]) == [
        ("Bitte nehmen Sie Ihren Abfall mit!", "Please take your rubbish home!")
    ]
    # first alternative only; a [tag] drops the pair
    assert parse_line(LINES[2]) == [
        ("Ich muss diesen Termin absagen.", "I have to cancel this appointment.")
    ]


def test_local_dictionary_file_and_split_are_deterministic(tmp_path, monkeypatch):
    path = tmp_path / "de-en"
    rows = [f"Das ist der Satz Nummer {i}. :: This is sentence number {i}.\n" for i in range(300)]
    path.write_text("".join(rows))
    monkeypatch.setenv("BENCH_TRANS_DE_EN", str(path))
    task = translation(train_size=0)
    splits = {s: task.examples(s) for s in ("train", "val", "test")}
    assert sum(len(v) for v in splits.values()) == 300
    ids = [e.id for v in splits.values() for e in v]
    assert len(set(ids)) == 300  # disjoint
    assert [e.id for e in translation().examples("val")] == [e.id for e in splits["val"]]
    assert all(split_of(p[0]) == "val" for p in dictionary_split(path, "val"))
    assert len(translation(train_size=10).examples("train")) == 10
    first = splits["val"][0]
    assert first.prompt.startswith("Translate German to English.") and first.prompt.endswith(
        "English:"
    )


def test_missing_dictionary_is_one_line_with_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_TRANS_DE_EN", str(tmp_path / "nope"))
    with pytest.raises(BenchError) as err:
        translation().examples("val")
    message = str(err.value)
    assert (
        "apt-get install -y trans-de-en" in message and "wmt16" in message and "\n" not in message
    )


def test_local_jsonl_source(tmp_path):
    data = tmp_path / "pairs.jsonl"
    rows = [{"de": f"Hallo Welt {i}.", "en": f"Hello world {i}."} for i in range(20)]
    data.write_text("\n".join(json.dumps(r) for r in rows))
    task = translation(source=str(data))
    assert [e.references[0] for e in task.examples("test")] == [
        "Hello world 18.",
        "Hello world 19.",
    ]


def test_rewards_and_metrics_match_sacrebleu():
    examples = [Example("a", "p", ("The cat sat on the mat.",)), Example("b", "p", ("I am here.",))]
    hyps = ["The cat sat on a mat.", "I am here."]
    bleu = translation(reward="bleu").reward(examples, hyps)
    expected = sacrebleu.BLEU(effective_order=True).sentence_score(
        hyps[0], [examples[0].references[0]]
    )
    assert bleu[0] == pytest.approx(expected.score / 100, abs=1e-9) and bleu[1] == pytest.approx(
        1.0
    )
    chrf = translation(reward="chrf").reward(examples, hyps)
    assert chrf[1] == pytest.approx(1.0) and 0 < chrf[0] < 1
    metrics = translation_metrics(examples, hyps)
    refs = [[e.references[0] for e in examples]]
    assert metrics["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, refs).score, abs=1e-9)
    assert metrics["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, refs).score, abs=1e-9)
    assert metrics["ter"] == pytest.approx(100 / 9, abs=1e-6)  # one substitution in 9 words
    with pytest.raises(BenchError, match="rewards: bleu, chrf"):
        translation(reward="rouge")


@pytest.mark.skipif(not Path(DICTIONARY).exists(), reason="trans-de-en is not installed")
def test_debian_dictionary_gives_about_18000_pairs():
    pairs = dictionary_pairs(DICTIONARY)
    assert 15_000 < len(pairs) < 21_000
    assert all(de.endswith((".", "?", "!")) and len(de.split()) >= 4 for de, _ in pairs[:500])
