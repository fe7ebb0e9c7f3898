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


def forget(encoder) -> None:
    """An empty cache, as in a process that has just started (or resumed)."""
    embedding._CACHES.pop(encoder, None)
    embedding._CALLS.pop(encoder, None)


def test_a_context_is_its_own_batch_and_embedded_once(minilm, forwards):
    encoder, tokenizer = minilm
    forget(encoder)
    calls = forwards
    alone = context_vectors(encoder, tokenizer, [FIRST], ("whole", "turns"), 128)[FIRST]
    # the whole context alone, then its three turns together: two forward passes
    assert calls == [1, 3]
    turns = FIRST_TURNS
    assert list(alone) == [FIRST, *turns]
    expected = embed(encoder, tokenizer, turns, 128)
    assert all(torch.equal(alone[t], row) for t, row in zip(turns, expected, strict=True))
    # with another context before it, and again: the same bits, and no forward pass for FIRST
    calls.clear()
    both = context_vectors(encoder, tokenizer, [SECOND, FIRST, None, FIRST], ("turns",), 128)
    assert calls == [2] and list(both) == [SECOND, FIRST]
    assert all(torch.equal(both[FIRST][t], alone[t]) for t in turns)
    assert torch.equal(
        both[SECOND]["only pasta, honestly"],
        embed(encoder, tokenizer, ["do you cook?", "only pasta, honestly"], 128)[1],
    )


SHARED = "A: so where did it stop?\nB: oh no, where?"  # shares its last turn with FIRST
FIRST_TURNS = ["hi, how was the trip?", "long, the train broke down twice", "oh no, where?"]
SHARED_TURNS = ["so where did it stop?", "oh no, where?"]
ROWS = (
    [FIRST, FIRST, SECOND, SHARED, ""],
    ["where was it?", "oh no, where?", "me too", "somewhere in Ohio", "hello"],
)


@pytest.mark.parametrize("kind", list(CONTEXT_PARTS))
@pytest.mark.parametrize("warm", [[SECOND], [SHARED], [FIRST, SHARED], [""]])
def test_head_scores_do_not_depend_on_the_cache(minilm, kind, warm):
    """Exact resume: a reward computed after a restart (an empty cache) equals the one computed
    when some contexts had been embedded before, alone or with a context sharing a turn, bit for
    bit; and a row reads its own context's vector of a shared turn."""
    encoder, tokenizer = minilm
    torch.manual_seed(0)
    settings = head_settings(kind)
    inputs = 3 * 384 if kind == "u*v,|u-v|,v" else (3 if kind == "copy+context" else 5) + len(NAMES)
    head = make_head(settings, inputs, 1)
    forget(encoder)
    cold = head_logits(encoder, head, tokenizer, settings, ROWS, 128)
    forget(encoder)
    context_vectors(encoder, tokenizer, warm, CONTEXT_PARTS[kind], 128)
    warmed = head_logits(encoder, head, tokenizer, settings, ROWS, 128)
    assert torch.equal(cold, warmed)
    shared = context_vectors(encoder, tokenizer, [FIRST, SHARED], ("turns",), 128)
    last = "oh no, where?"  # each context keeps the vector from its own batch
    assert torch.equal(shared[SHARED][last], embed(encoder, tokenizer, SHARED_TURNS, 128)[1])
    assert torch.equal(shared[FIRST][last], embed(encoder, tokenizer, FIRST_TURNS, 128)[2])


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


def test_the_encoder_handed_out_last_outlives_its_holders(minilm):
    """A first use lets its trained reward model go before the run loads it again: the encoder,
    and with it the contexts it embedded, must still be the one a new load is given."""
    import gc
    import weakref

    from transformers import AutoModel

    def changed() -> torch.nn.Module:  # weights no other test's encoder has
        model = AutoModel.from_pretrained(backbone_folder("minilm")).eval().requires_grad_(False)
        with torch.no_grad():
            model.pooler.dense.bias[0] += 2.0
        return model

    trained = weakref.ref(same_weights(changed()))
    gc.collect()
    assert trained() is not None and same_weights(changed()) is trained()
