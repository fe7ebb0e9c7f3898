"""Reward models on a frozen sentence encoder: a head over embeddings and copy features.

Why: fine-tuning MiniLM on 2,500 dialogue pairs took minutes on 2 CPU cores, once for the reward
model and once for its judge, before a first update. all-MiniLM-L6-v2 was itself trained to embed
a text close to its reply (Reimers & Gurevych 2019; its training pairs include conversations), so
the frozen encoder already separates a chat's real next turn from another chat's turn: one
forward pass per text, no gradient, then a small head fitted in seconds. It is no good for IMDB
sentiment (0.738 against 0.805 fine-tuned), so the `encoder` option chooses per recipe.

Feature sets (`features` in the card's head settings; u, v: L2-normalised mean-pooled last hidden
states of the context and the text, e_i: of the context's turns, one per line):
- `u*v,|u-v|,v` (dialogue task versions 2-4): SBERT's pair features with v itself, a linear
  head; without a context, v alone. It cannot tell a reply from a copy of the context: the
  copy is the closest text of all (the echo won on 87 % of val prompts).
- `copy+context` (task version 5, the reward model): cos(u, v), cos(e_last, v), max_i
  cos(e_i, v) and the word-overlap features of `overlap.py`, a one-hidden-layer MLP head. Raw
  embedding dimensions added to these lowered held-out accuracy (they overfit 1,200 chats).
- `copy+turns` (task version 5, the judge): no embedding of the whole context; cos of v with
  the mean of the turns' embeddings and with each of the last three turns, their max, and the
  same overlap features.
The head is trained with the losses of `objective.py` (Bradley–Terry on pairs, CE on labels).
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tasks.rewards.embedding import Vectors, context_vectors, embed_all, part_strings, texts_vectors
from tasks.rewards.objective import loss
from tasks.rewards.overlap import NAMES as OVERLAP_NAMES
from tasks.rewards.overlap import overlap_features
from tasks.rewards.probes import context_turns

HEAD = "head.safetensors"
LINEAR = "u*v,|u-v|,v"
FEATURE_SETS = (LINEAR, "copy+context", "copy+turns")
HEADS = {  # part of a recipe's cache key: editing a head retrains cached models
    # full-batch AdamW; a linear model on unit-norm features: a large step is stable, 1e-2
    # weight decay gave the same held-out accuracy on dialogue's pairs
    LINEAR: {"steps": 300, "lr": 1e-2, "weight_decay": 1e-3, "features": LINEAR},
    # 16 hidden units: 64 gave the same figures on task version 5's held-out chats
    "copy+context": {"steps": 500, "lr": 1e-2, "weight_decay": 1e-3, "hidden": 16},
    "copy+turns": {"steps": 500, "lr": 1e-2, "weight_decay": 1e-3, "hidden": 16},
}
CONTEXT_PARTS = {LINEAR: ("whole",), "copy+context": ("whole", "turns"), "copy+turns": ("turns",)}


def head_settings(features: str) -> dict[str, Any]:
    """The head of a feature set, with the set's name and, for a copy set, the overlap features
    it reads (what a card records as `head`, and part of a recipe's cache key)."""
    overlap = {} if features == LINEAR else {"overlap": list(OVERLAP_NAMES)}
    return {**HEADS[features], "features": features, **overlap}


def needed(kind: str, contexts: Sequence[str | None], texts: Sequence[str]) -> list[str]:
    """Every distinct string feature set `kind` embeds for these rows (each once)."""
    wanted = dict.fromkeys(texts)
    for context in dict.fromkeys(c for c in contexts if c is not None):
        for part in CONTEXT_PARTS[kind]:
            wanted.update(dict.fromkeys(part_strings(context, part)))
    return list(wanted)


def features(contexts: Any | None, texts: Any) -> Any:
    """(n, 3d) [u ⊙ v, |u − v|, v] of context and text embeddings, or (n, d) v alone."""
    import torch

    if contexts is None:
        return texts
    return torch.cat([contexts * texts, (contexts - texts).abs(), texts], dim=1)


def copy_row(kind: str, context: str, text: str, vectors: Vectors, own: Vectors) -> list[float]:
    """One row of a copy feature set: embedding cosines, then `overlap.overlap_features`.
    vectors: the text's embedding by text; own: the context's (its turns, itself) by string."""
    import torch

    v = vectors[text]
    turns = torch.stack([own[turn] for turn in context_turns(context) or [""]])
    cos = turns @ v
    if kind == "copy+context":
        sims = [float(own[context] @ v), float(cos[-1]), float(cos.max())]
    else:
        mean = torch.nn.functional.normalize(turns.mean(0), dim=0)
        last3 = [float(cos[-k]) if len(cos) >= k else 0.0 for k in (1, 2, 3)]
        sims = [float(mean @ v), *last3, float(cos.max())]
    return sims + overlap_features(context, text)


def rows_features(
    kind: str,
    contexts: Sequence[str | None],
    texts: Sequence[str],
    vectors: Vectors,
    by_context: dict[str, Vectors] | None = None,
) -> Any:
    """(n, f) features of (context, text) rows (feature set `kind`) from embeddings by text.

    by_context: each context's own embeddings (`embedding.context_vectors`), so that a row reads
    its context's vectors whatever other contexts share a turn with it; None: `vectors` has them.
    """
    import torch

    def own(context: str) -> Vectors:
        return vectors if by_context is None else by_context.get(context, vectors)

    v = torch.stack([vectors[t] for t in texts])
    if all(c is None for c in contexts):
        return v
    if kind == LINEAR:
        return features(torch.stack([own(c or "")[c or ""] for c in contexts]), v)
    rows = [
        copy_row(kind, c or "", t, vectors, own(c or ""))
        for c, t in zip(contexts, texts, strict=True)
    ]
    return torch.tensor(rows)


def head_logits(
    encoder: Any,
    head: Any,
    tokenizer: Any,
    settings: dict[str, Any],
    rows: tuple[Sequence[str | None], Sequence[str]],
    max_length: int,
) -> Any:
    """The head's outputs for (contexts, texts) rows. Each context is embedded once per process
    (`embedding.context_vectors`), the texts together, each distinct one once (a rollout scores k
    samples of one prompt; `embedding.texts_vectors`). settings: the card's `head` (LINEAR if
    absent)."""
    contexts, texts = rows
    kind = settings.get("features", LINEAR)
    by_context = context_vectors(encoder, tokenizer, contexts, CONTEXT_PARTS[kind], max_length)
    vectors = texts_vectors(encoder, tokenizer, texts, max_length)
    return head(rows_features(kind, contexts, texts, vectors, by_context))


def make_head(settings: dict[str, Any], inputs: int, outputs: int) -> Any:
    """Linear(inputs → outputs), or Linear → ReLU → Linear with settings['hidden'] units."""
    import torch

    hidden = settings.get("hidden")
    if not hidden:
        return torch.nn.Linear(inputs, outputs)
    return torch.nn.Sequential(
        torch.nn.Linear(inputs, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, outputs)
    )


def fit_head(kind: str, first: Any, second: Any, seed: int, settings: dict[str, Any]) -> Any:
    """A head fitted full-batch with `objective.loss`: first (n, f) features of the chosen
    texts (pairs) or of the texts (labels); second (n, f) features of the rejected texts, or (n,)
    labels."""
    import torch

    torch.manual_seed(seed)
    head = make_head(settings, first.shape[1], 1 if kind == "pairs" else 2)
    optimizer = torch.optim.AdamW(
        head.parameters(), lr=settings["lr"], weight_decay=settings["weight_decay"]
    )
    for _ in range(settings["steps"]):
        outputs = head(second) if kind == "pairs" else second
        step_loss = loss(kind, head(first), outputs)
        optimizer.zero_grad()
        step_loss.backward()
        optimizer.step()
    return head.requires_grad_(False)


def fit_frozen(
    encoder: Any, tokenizer: Any, train: list, heldout: list, config: Any, progress: bool
):
    """(head, held-out outputs): every string embedded once by the frozen encoder, a head fitted
    on the train rows' features (pairs: the chosen text against `other` and each of its
    `negatives`), and its outputs on the held-out rows' (text, other) in the form `objective`
    reads them (first, second), as a fine-tuned model's are.

    train, heldout: `training.Record`s; config: the `training.RewardTrainConfig`.
    """
    import torch
    from rich.progress import Progress

    settings = head_settings(config.features)
    pairs = [(r, r.other or "") for r in train] + [(r, n) for r in train for _, n in r.negatives]
    if config.kind == "pairs":
        pairs += [(r, r.other or "") for r in heldout]
    contexts = [r.context for r, _ in pairs] + [r.context for r in train + heldout]
    texts = [n for _, n in pairs] + [r.text for r in train + heldout]
    strings = needed(config.features, contexts, texts)
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"embedding {len(strings)} texts (frozen encoder)", total=len(strings))
        vectors = embed_all(
            encoder, tokenizer, strings, config.max_length, lambda n: bar.advance(task, n)
        )

    def of(rows: list, texts: list[str]) -> Any:
        return rows_features(config.features, [r.context for r in rows], texts, vectors)

    if config.kind == "pairs":
        chosen = [r for r, _ in pairs]
        first, second = of(chosen, [r.text for r in chosen]), of(chosen, [n for _, n in pairs])
        cut = len(pairs) - len(heldout)
        head = fit_head("pairs", first[:cut], second[:cut], config.seed, settings)
        return head, (head(first[cut:]), head(second[cut:]))
    first = of(train + heldout, [r.text for r in train + heldout])
    labels = torch.tensor([r.label for r in train + heldout])
    cut = len(train)
    head = fit_head("labels", first[:cut], labels[:cut], config.seed, settings)
    return head, (head(first[cut:]), labels[cut:])


def save_head(head: Any, folder: Path) -> None:
    """The head's tensors as safetensors, next to the encoder's files (a linear head: weight
    and bias, as before MLP heads existed; an MLP: its Sequential state dict)."""
    from safetensors.torch import save_file

    tensors = {name: value.contiguous() for name, value in head.state_dict().items()}
    save_file(tensors, folder / HEAD)


def load_head(folder: Path) -> Any:
    """The saved head, sized by its tensors, without gradients."""
    from safetensors.torch import load_file

    weights = load_file(folder / HEAD)
    if "weight" in weights:  # a linear head
        shape = weights["weight"].shape
        head = make_head({}, shape[1], shape[0])
    else:
        hidden, inputs = weights["0.weight"].shape
        head = make_head({"hidden": hidden}, inputs, weights["2.weight"].shape[0])
    head.load_state_dict(weights)
    return head.requires_grad_(False)
