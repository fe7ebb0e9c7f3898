"""The summarization task: aclsum splits, prompts, references, and the local-file path."""

import json

import pytest

from harness.api.errors import BenchError
from tasks.summarization import detokenize, summarization


def test_aclsum_splits_are_real_and_disjoint():
    task = summarization(target="summary")
    splits = {name: task.examples(name) for name in ("train", "val", "test")}
    assert {name: len(rows) for name, rows in splits.items()} == {
        "train": 100,
        "val": 50,
        "test": 100,
    }
    ids = [{e.id for e in rows} for rows in splits.values()]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    first = splits["train"][0]
    assert first.prompt.endswith("Summary:") and "Abstract:" in first.prompt
    assert first.references[0].startswith("A generally accessible NER system")
    assert task.version == "1" and task.reward.name == "rouge(rougeL)"


def test_default_target_is_the_title():
    example = summarization().examples("train")[0]
    assert example.prompt.endswith("Title:") and example.references[0].startswith("Exploring")


def test_targets_select_the_reference():
    title = summarization(target="title").examples("train")[0].references[0]
    outcome = summarization(target="outcome").examples("train")[0].references[0]
    assert len(title.split()) < 20 and outcome.startswith("The proposed method outperforms")


def test_source_is_cut_to_max_words():
    prompt = summarization(max_source_words=5).examples("test")[0].prompt
    abstract = prompt.split("Abstract: ")[1].split("\n")[0]
    assert len(abstract.split()) == 6 and abstract.endswith("…")


def test_detokenize():
    assert detokenize("we ( i.e. , you ) do n't stop .") == "we (i.e., you) don't stop."


def test_local_jsonl_through_datasets(tmp_path):
    rows = [
        {"id": f"r{i}", "article": f"text number {i}", "highlights": f"sum {i}"} for i in range(20)
    ]
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = summarization(source=str(path))
    train, val, test = (task.examples(s) for s in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (16, 2, 2)
    assert test[-1].id == "r19" and test[-1].references == ("sum 19",)
    assert "text number 19" in test[-1].prompt


def test_local_files_per_split_and_csv(tmp_path):
    for split in ("train", "test"):
        (tmp_path / f"{split}.csv").write_text(f"doc,ref\n{split} text,{split} ref\n")
    task = summarization(
        source=str(tmp_path / "{split}.csv"), text_field="doc", summary_field="ref"
    )
    assert task.examples("test")[0].references == ("test ref",)
    with pytest.raises(BenchError, match="does not exist"):
        task.examples("val")


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "summary": "b"}\n' * 10)
    with pytest.raises(
        BenchError, match="column 'article' not in data \\(columns: summary, text\\)"
    ):
        summarization(source=str(path)).examples("train")


def test_bad_target_names_choices():
    with pytest.raises(BenchError, match="unknown target 'abstract'.*challenge"):
        summarization(target="abstract")
