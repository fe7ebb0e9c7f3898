"""Reward models on a frozen sentence encoder: a linear head over mean-pooled embeddings.

Why: fine-tuning MiniLM on 2,500 dialogue pairs took minutes on 2 CPU cores, once for the reward
model and once for its judge, before a first update. all-MiniLM-L6-v2 was itself trained to embed
a text close to its reply (Reimers & Gurevych 2019; its training pairs include conversations), so
the frozen encoder already separates a chat's real next turn from another chat's turn: one
forward pass per text, no gradient, then a linear head fitted in a second. On dialogue's held-out
pairs it scored 0.842 on 2,500 (0.820 on the 1,500 of task version 4) where the fine-tuned
cross-encoder scored 0.744. It is no good for IMDB sentiment (0.738 against 0.805 fine-tuned), so
the `encoder` option chooses per recipe.

Features of (context u, text v), both L2-normalised means of the last hidden states:
[u ⊙ v, |u − v|, v] (SBERT's pair features, with v itself so that a reply can score by its own
content); without a context, v alone. The head is Linear(features → 1) for pairs (a score) and
Linear(features → 2) for labels (logits), trained with the losses of `training.py`.
"""

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from tasks.rewards.objective import loss

HEAD = "head.safetensors"
HEAD_STEPS = 300  # full-batch AdamW steps: the loss has flattened by then on 2,000 rows
HEAD_LR = 1e-2  # a linear model on unit-norm features: a large step is stable
HEAD_WEIGHT_DECAY = 1e-3  # 1e-2 gave the same held-out accuracy on dialogue's pairs
HEAD_SETTINGS = {  # part of a recipe's cache key: editing the head retrains cached models
    "steps": HEAD_STEPS,
    "lr": HEAD_LR,
    "weight_decay": HEAD_WEIGHT_DECAY,
    "features": "u*v,|u-v|,v",
}
EMBED_BATCH = 64


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


def features(contexts: Any | None, texts: Any) -> Any:
    """(n, 3d) [u ⊙ v, |u − v|, v] of context and text embeddings, or (n, d) v alone."""
    import torch

    if contexts is None:
        return texts
    return torch.cat([contexts * texts, (contexts - texts).abs(), texts], dim=1)


def pair_features(
    encoder: Any,
    tokenizer: Any,
    contexts: Sequence[str | None],
    texts: Sequence[str],
    max_length: int,
) -> Any:
    """Features of (context, text) rows; contexts all None means the text alone.

    Each distinct context is embedded once (a rollout scores k samples of one prompt).
    """
    vectors = embed(encoder, tokenizer, texts, max_length)
    if all(c is None for c in contexts):
        return features(None, vectors)
    position = {c: i for i, c in enumerate(dict.fromkeys(contexts))}
    distinct = embed(encoder, tokenizer, [c or "" for c in position], max_length)
    return features(distinct[[position[c] for c in contexts]], vectors)


def fit_head(kind: str, first: Any, second: Any, seed: int) -> Any:
    """A linear head fitted full-batch with `objective.loss`: first (n, f) features of the chosen
    texts (pairs) or of the texts (labels); second (n, f) features of the rejected texts, or (n,)
    labels."""
    import torch

    torch.manual_seed(seed)
    head = torch.nn.Linear(first.shape[1], 1 if kind == "pairs" else 2)
    optimizer = torch.optim.AdamW(head.parameters(), lr=HEAD_LR, weight_decay=HEAD_WEIGHT_DECAY)
    for _ in range(HEAD_STEPS):
        outputs = head(second) if kind == "pairs" else second
        step_loss = loss(kind, head(first), outputs)
        optimizer.zero_grad()
        step_loss.backward()
        optimizer.step()
    return head.requires_grad_(False)


def fit_frozen(
    encoder: Any, tokenizer: Any, train: list, heldout: list, config: Any, progress: bool
):
    """(head, held-out outputs): the rows embedded once by the frozen encoder, a linear head
    fitted on the train rows' features, and its outputs on the held-out rows in the form
    `objective` reads them (first, second), as a fine-tuned model's are.

    train, heldout: `training.Record`s; config: the `training.RewardTrainConfig`.
    """
    import torch
    from rich.progress import Progress

    rows = train + heldout
    columns = {"text": [r.text for r in rows]}
    if config.kind == "pairs":
        columns["other"] = [r.other or "" for r in rows]
    if any(r.context is not None for r in rows):
        columns["context"] = [r.context or "" for r in rows]
    with Progress(disable=not progress, transient=True) as bar:
        total = sum(map(len, columns.values()))
        task = bar.add_task(f"embedding {len(rows)} rows (frozen encoder)", total=total)
        vectors = {
            name: embed(encoder, tokenizer, texts, config.max_length, partial(bar.advance, task))
            for name, texts in columns.items()
        }
    contexts = vectors.get("context")
    first = features(contexts, vectors["text"])
    if config.kind == "pairs":
        second = features(contexts, vectors["other"])
    else:
        second = torch.tensor([r.label for r in rows])
    cut = len(train)
    head = fit_head(config.kind, first[:cut], second[:cut], config.seed)
    held_second = head(second[cut:]) if config.kind == "pairs" else second[cut:]
    return head, (head(first[cut:]), held_second)


def save_head(head: Any, folder: Path) -> None:
    """The head's weight and bias as safetensors, next to the encoder's files."""
    from safetensors.torch import save_file

    save_file({"weight": head.weight.contiguous(), "bias": head.bias.contiguous()}, folder / HEAD)


def load_head(folder: Path) -> Any:
    """The saved head, sized by its weight, without gradients."""
    import torch
    from safetensors.torch import load_file

    weights = load_file(folder / HEAD)
    head = torch.nn.Linear(weights["weight"].shape[1], weights["weight"].shape[0])
    head.load_state_dict(weights)
    return head.requires_grad_(False)
