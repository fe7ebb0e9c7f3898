"""One scoring rule for a saved or just-trained reward model: the reward a run reads.

`learned.py` scores a run's completions with it and `training.py` scores a new model's card
probes with it, so a card's figures are the ones a policy meets. A pairs model's reward is
σ(s − score_center) (objective.score_center), a labels model's P(label 1).
"""

from collections.abc import Sequence
from typing import Any

from tasks.rewards.frozen_encoder import head_logits
from tasks.rewards.pair_tokens import pair_tokens


def is_frozen(card: dict[str, Any]) -> bool:
    """A head on a frozen encoder (`head.safetensors`), not a fine-tuned classifier."""
    return card["config"].get("encoder", "finetune") == "frozen"


def logits(
    model: Any,
    tokenizer: Any,
    card: dict[str, Any],
    contexts: Sequence[str | None],
    texts: Sequence[str],
) -> Any:
    """(n, 1) scores of a pairs model or (n, 2) logits of a labels model, in float32.

    model: the classifier, or (encoder, head) for a head on a frozen encoder.
    """
    length = card["config"]["max_length"]
    if is_frozen(card):
        encoder, head = model
        settings = card.get("head", {})
        return head_logits(encoder, head, tokenizer, settings, (contexts, texts), length)
    batch = pair_tokens(tokenizer, contexts, texts, length)
    return model(**batch.to(model.device)).logits.float()


def rewards(
    model: Any,
    tokenizer: Any,
    card: dict[str, Any],
    rows: tuple[Sequence[str | None], Sequence[str]],
    batch_size: int = 32,
) -> list[float]:
    """The reward of each (context, text) of rows = (contexts, texts), in batches, no grad."""
    import torch

    contexts, texts = rows
    center = card.get("score_center", 0.0)  # 0 in folders saved before it was recorded
    scores: list[float] = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            chunk = slice(start, start + batch_size)
            out = logits(model, tokenizer, card, contexts[chunk], texts[chunk])
            if card["kind"] == "pairs":  # σ(s − center): objective.score_center
                scores += torch.sigmoid(out[:, 0] - center).tolist()
            else:
                scores += torch.softmax(out, -1)[:, 1].tolist()
    return scores
