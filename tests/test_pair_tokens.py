"""The reward models' pair encoding: unchanged for replies that fit, no crash for long ones."""

import pytest

from tasks.rewards.pair_tokens import pair_tokens
from tasks.rewards.training import backbone_folder

MAX_LENGTH = 128


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(backbone_folder("minilm"))


def test_replies_that_fit_are_encoded_as_only_first_does(tokenizer) -> None:
    contexts = ["how was your weekend? " * 40, "hi"]
    texts = ["it was great, we went hiking", "word " * 124]  # 124 tokens: the most that fits
    expected = tokenizer(
        contexts, texts, truncation="only_first", max_length=MAX_LENGTH, padding=True
    )
    batch = pair_tokens(tokenizer, contexts, texts, MAX_LENGTH)
    assert batch["input_ids"].tolist() == expected["input_ids"]


def test_a_reply_longer_than_the_model_keeps_its_first_tokens(tokenizer) -> None:
    """only_first raised 'Sequence to truncate too short' here; now the reply is cut."""
    with pytest.raises(Exception, match="too short"):
        tokenizer(["hello there"], ["word " * 200], truncation="only_first", max_length=128)
    batch = pair_tokens(tokenizer, ["hello there"], ["word " * 200], MAX_LENGTH)
    ids = batch["input_ids"][0].tolist()
    word = tokenizer.convert_tokens_to_ids("word")
    assert len(ids) == MAX_LENGTH
    assert ids.count(word) == MAX_LENGTH - 4  # [CLS] one context token [SEP] reply [SEP]
    assert ids[1] == tokenizer.convert_tokens_to_ids("hello")


def test_rows_without_context_are_texts_alone(tokenizer) -> None:
    batch = pair_tokens(tokenizer, [None], ["a fine movie"], MAX_LENGTH)
    assert batch["input_ids"].tolist() == tokenizer(["a fine movie"])["input_ids"]
