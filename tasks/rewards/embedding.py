"""A frozen encoder's embeddings, and each chat context's computed once per process.

Why a cache: a run scores the same val and test contexts at every evaluation (a tiny dialogue run
has eight: before and after training, val and test, sampled and greedy), for the reward model, for
its judge and for `reference_reward`. Re-embedding them was most of such a run's evaluation time
(≈ 64 of 89 s, docs/performance.md). The reward model and the judge read the same frozen MiniLM,
so `same_weights` gives both one encoder object, and with it one cache.

Why a batch per context: a row of a batched forward pass depends on the rest of its batch by
float rounding. Exact resume needs bit-equal rewards whether or not a context was embedded before
the restart, so `context_vectors` embeds a context's turns in a batch of their own (and the whole
context alone) and hands each context its own vectors: they are a function of that context, the
weights and the tokenizer only, cached or not. A text's vector, as before the cache, depends on the
texts scored with it, which a resumed run scores again together.
"""

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any
from weakref import WeakKeyDictionary, WeakValueDictionary

from tasks.rewards.probes import context_turns

EMBED_BATCH = 64
CAPACITY = 8192  # (context, part) entries per encoder, all parts together (≈ 1.5 KB a string)
TEXT_CALLS = 256  # lists of texts remembered per encoder (a reward's batch: 32 texts, ≈ 50 KB)
Vectors = dict[str, Any]  # text → its (d,) embedding

_ENCODERS: "WeakValueDictionary[str, Any]" = WeakValueDictionary()  # digest → a loaded encoder
_CACHES: "WeakKeyDictionary[Any, OrderedDict]" = WeakKeyDictionary()  # encoder → its contexts
_CALLS: "WeakKeyDictionary[Any, OrderedDict]" = WeakKeyDictionary()  # encoder → recent text lists
_TOKENIZERS: "WeakKeyDictionary[Any, str]" = WeakKeyDictionary()  # tokenizer → its fingerprint
_KEPT: list[Any] = []  # the encoder `same_weights` handed out last, held: see there


def embed(
    encoder: Any,
    tokenizer: Any,
    texts: Sequence[str],
    max_length: int,
    advance: Callable[[int], None] = lambda rows: None,
) -> Any:
    """(n, d) L2-normalised mean-pooled last hidden states, in length-sorted batches.

    Sorting by length keeps padding (and the time spent on it) small; each row is independent
    of its batch up to float rounding, so the order changes nothing else. advance(rows) is
    called after each batch (a progress bar's).
    """
    import torch

    out = torch.empty(len(texts), encoder.config.hidden_size)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.inference_mode():
        for start in range(0, len(order), EMBED_BATCH):
            rows = order[start : start + EMBED_BATCH]
            batch = tokenizer(
                [texts[i] for i in rows],
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            ).to(encoder.device)
            hidden = encoder(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1)
            out[rows] = torch.nn.functional.normalize(mean, dim=-1).float().cpu()
            advance(len(rows))
    return out


def embed_all(
    encoder: Any,
    tokenizer: Any,
    strings: Sequence[str],
    max_length: int,
    advance: Callable[[int], None] = lambda rows: None,
) -> Vectors:
    """Each distinct string's embedding, computed once."""
    distinct = list(dict.fromkeys(strings))
    vectors = embed(encoder, tokenizer, distinct, max_length, advance)
    return dict(zip(distinct, vectors, strict=True))


def part_strings(context: str, part: str) -> list[str]:
    """The strings of a context's part: the context itself, or its turns ("" for none)."""
    return [context] if part == "whole" else (context_turns(context) or [""])


def context_vectors(
    encoder: Any,
    tokenizer: Any,
    contexts: Iterable[str | None],
    parts: Sequence[str],
    max_length: int,
) -> dict[str, Vectors]:
    """context → the embeddings of its `parts`' strings ("whole": itself, "turns": its lines),
    for each distinct context; each part embedded in a batch of its own and kept (the `CAPACITY`
    most recently used per encoder)."""
    tokens = tokenizer_fingerprint(tokenizer)

    def embedded(context: str, part: str) -> Callable[[], Vectors]:
        return lambda: embed_all(encoder, tokenizer, part_strings(context, part), max_length)

    found: dict[str, Vectors] = {}
    for context in dict.fromkeys(c for c in contexts if c is not None):
        own: Vectors = {}
        for part in parts:
            key = (tokens, max_length, part, context)
            own.update(remembered(_CACHES, encoder, key, CAPACITY, embedded(context, part)))
        found[context] = own
    return found


def texts_vectors(encoder: Any, tokenizer: Any, texts: Sequence[str], max_length: int) -> Vectors:
    """`embed_all`, remembered per encoder for the `TEXT_CALLS` most recent distinct lists.

    The judge scores the completions the reward model has just scored, `reference_reward` the
    same references at every evaluation, and a card's two models the same probes, in the same
    chunks. The key is the whole list, so a remembered answer is the bits the call would compute.
    """
    distinct = tuple(dict.fromkeys(texts))
    if not distinct:
        return {}
    key = (tokenizer_fingerprint(tokenizer), max_length, distinct)
    compute = partial(embed_all, encoder, tokenizer, distinct, max_length)
    return dict(remembered(_CALLS, encoder, key, TEXT_CALLS, compute))


def remembered(
    store: "WeakKeyDictionary[Any, OrderedDict]",
    encoder: Any,
    key: tuple,
    capacity: int,
    compute: Callable[[], Vectors],
) -> Vectors:
    """store[encoder][key], computed when absent; the `capacity` most recently used entries of
    the encoder are kept (an LRU: the context cache and the texts memo)."""
    entries = store.setdefault(encoder, OrderedDict())
    if key in entries:
        entries.move_to_end(key)
    else:
        entries[key] = compute()
        if len(entries) > capacity:
            entries.popitem(last=False)
    return entries[key]


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """A hash of what a tokenizer does (its class and, for a fast one, its whole definition; else
    its vocabulary), computed once per tokenizer object: the caches' keys carry it, so two
    folders with the same tokenizer share entries and different ones never do."""
    if tokenizer not in _TOKENIZERS:
        backend = getattr(tokenizer, "backend_tokenizer", None)
        spec = backend.to_str() if backend is not None else repr(sorted(tokenizer.get_vocab()))
        text = f"{type(tokenizer).__name__} {spec}"
        _TOKENIZERS[tokenizer] = hashlib.sha256(text.encode()).hexdigest()
    return _TOKENIZERS[tokenizer]


def same_weights(encoder: Any) -> Any:
    """An encoder this process has loaded, and still holds, with the same class, configuration,
    attention implementation and weights on the same device (this one if none): the reward model
    and the judge then share one context cache and one copy in memory.

    The one handed out last is also held here. A task's first use trains its reward model, lets
    it go, trains the judge and loads both again for the run; unheld, the reward model's encoder
    and its caches (the card's val contexts and probe texts, which the judge's card and the run's
    evaluations read again) were freed in between and computed again: ≈ 21 s of dialogue's first
    use, in pairs (docs/performance.md). Holding one costs its weights' memory (MiniLM: 90 MB)
    until another replaces it."""
    import torch

    config = encoder.config
    digest = hashlib.sha256(type(encoder).__name__.encode())
    digest.update(config.to_json_string().encode())
    digest.update(f"{getattr(config, '_attn_implementation', '')} {encoder.device}".encode())
    for name, tensor in encoder.state_dict().items():
        digest.update(f"{name} {tensor.dtype} {tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    _KEPT[:] = [_ENCODERS.setdefault(digest.hexdigest(), encoder)]
    return _KEPT[0]
