"""Context embeddings cached per process: the same bits cached or not, whatever else a call
holds (exact resume), the encoder run once per context, and one encoder per set of weights."""

import pytest
import torch

from tasks.rewards import embedding
from tasks.rewards.embedding import context_vectors, embed, embed_all, same_weights, texts_vectors
from tasks.rewards.frozen_encoder import CONTEXT_PARTS, head_logits, head_settings, make_head
from tasks.rewards.overlap import NAMES
from tasks.rewards.training import backbone_folder

FIRST = "A: hi, how was the trip?\nB: long, the train broke down twice\nA: oh no, where?"
SECOND = "A: do you cook?\nB: only pasta, honestly"


@pytest.fixture(scope="module")
def minilm():
    """(encoder, tokenizer) of the bundled all-MiniLM-L6-v2, as a run loads it."""
    from transformers import AutoModel, AutoTokenizer

    folder = backbone_folder("minilm")
    encoder = AutoModel.from_pretrained(folder).eval().requires_grad_(False)
    return same_weights(encoder), AutoTokenizer.from_pretrained(folder)


@pytest.fixture
def forwards(minilm):
    """A list that grows by the batch size at every forward pass of the encoder, for one test."""
    calls: list[int] = []
    handle = minilm[0].register_forward_hook(
        lambda module, args, kwargs, out: calls.append(len(out[0])), with_kwargs=True
    )
    yield calls
    handle.remove()


def test_a_context_is_its_own_batch_and_embedded_once(minilm, forwards):
    encoder, tokenizer = minilm
    embedding._CACHES.pop(encoder, None)
    calls = forwards
    alone = context_vectors(encoder, tokenizer, [FIRST], ("whole", "turns"), 128)
    # the whole context alone, then its three turns together: two forward passes
    assert calls == [1, 3]
    turns = ["hi, how was the trip?", "long, the train broke down twice", "oh no, where?"]
    assert list(alone) == [FIRST, *turns]
    expected = embed(encoder, tokenizer, turns, 128)
    assert all(torch.equal(alone[t], row) for t, row in zip(turns, expected, strict=True))
    # with another context before it, and again: the same bits, and no forward pass for FIRST
    calls.clear()
    both = context_vectors(encoder, tokenizer, [SECOND, FIRST, None, FIRST], ("turns",), 128)
    assert calls == [2]
    assert all(torch.equal(both[t], alone[t]) for t in turns)
    assert torch.equal(
        both["only pasta, honestly"],
        embed(encoder, tokenizer, ["do you cook?", "only pasta, honestly"], 128)[1],
    )


def test_head_scores_do_not_depend_on_the_cache(minilm):
    """Exact resume: a reward computed after a restart (empty cache) equals the one computed
    when the context had been embedded before, bit for bit."""
    encoder, tokenizer = minilm
    torch.manual_seed(0)
    for kind in CONTEXT_PARTS:
        settings = head_settings(kind)
        inputs = (
            3 * 384 if kind == "u*v,|u-v|,v" else (3 if kind == "copy+context" else 5) + len(NAMES)
        )
        head = make_head(settings, inputs, 1)
        rows = ([FIRST, FIRST, SECOND], ["where was it?", "oh no, where?", "me too"])
        embedding._CACHES.pop(encoder, None)
        embedding._CALLS.pop(encoder, None)
        cold = head_logits(encoder, head, tokenizer, settings, rows, 128)
        context_vectors(encoder, tokenizer, [SECOND], CONTEXT_PARTS[kind], 128)
        warm = head_logits(encoder, head, tokenizer, settings, rows, 128)
        assert torch.equal(cold, warm), kind


def test_a_list_of_texts_is_embedded_once(minilm, forwards):
    """The judge after the reward model, on the same completions: no second forward pass."""
    encoder, tokenizer = minilm
    embedding._CALLS.pop(encoder, None)
    texts = ["oh no, where?", "near Boston", "oh no, where?"]
    first = texts_vectors(encoder, tokenizer, texts, 128)
    assert forwards == [2]  # each distinct text once
    again = texts_vectors(encoder, tokenizer, texts, 128)
    assert forwards == [2] and again.keys() == first.keys()
    assert all(torch.equal(again[t], first[t]) for t in first)
    fresh = embed_all(encoder, tokenizer, texts, 128)
    assert all(torch.equal(fresh[t], first[t]) for t in first)
    forwards.clear()
    texts_vectors(encoder, tokenizer, texts[:1], 128)  # another list: computed
    assert forwards == [1]


def test_same_weights_share_one_encoder(minilm):
    from transformers import AutoModel

    encoder, _ = minilm
    copy = AutoModel.from_pretrained(backbone_folder("minilm")).eval().requires_grad_(False)
    assert copy is not encoder and same_weights(copy) is encoder
    with torch.no_grad():
        copy.pooler.dense.bias[0] += 1.0
    assert same_weights(copy) is copy
