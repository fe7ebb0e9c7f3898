"""The token batch a fine-tuned reward model reads: (context, reply) pairs, or replies alone.

Training and scoring share this one function, so a model is scored on exactly the encoding it
was trained on. The context gives way first (`only_first`): the reply is what is judged. A reply
that alone would not fit (a long `task.max_new_tokens`) keeps its first tokens and the context
keeps one; before, the tokenizer raised "Sequence to truncate too short". Replies that fit are
encoded exactly as before.
"""

from collections.abc import Sequence
from typing import Any


def pair_tokens(
    tokenizer: Any, contexts: Sequence[str | None], texts: Sequence[str], max_length: int
) -> Any:
    """Padded pt batch of (context, text) pairs, or of texts alone when no row has a context."""
    if not any(c is not None for c in contexts):
        return tokenizer(
            list(texts), truncation=True, max_length=max_length, padding=True, return_tensors="pt"
        )
    return tokenizer(
        [c or "" for c in contexts],
        fitted_replies(tokenizer, texts, max_length),
        truncation="only_first",
        max_length=max_length,
        padding=True,
        return_tensors="pt",
    )


def fitted_replies(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[str]:
    """Each text cut after the token that leaves room for the pair's special tokens and one
    context token (the most `only_first` accepts)."""
    limit = max_length - tokenizer.num_special_tokens_to_add(pair=True) - 1
    spans = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
    return [
        text if len(offsets) <= limit else text[: offsets[limit - 1][1]]
        for text, offsets in zip(texts, spans["offset_mapping"], strict=True)
    ]
