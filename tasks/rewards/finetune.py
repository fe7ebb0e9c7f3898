"""Fine-tuning a whole HF sequence classifier as a reward model (`encoder: finetune`).

The counterpart of `frozen_encoder.py`: AdamW over every weight for `epochs` epochs, optionally
under bf16 autocast (`precision`; fast only on a CPU or GPU with bf16 instructions), Bradley–Terry
on pairs or cross-entropy on labels (`objective.loss`); then the held-out outputs `objective`
reads. Records are `training.Record`s and configs `training.RewardTrainConfig`s (typed Any here,
as in frozen_encoder.py, so that this module does not import the one that imports it).
"""

import random
from dataclasses import replace
from typing import Any

from tasks.rewards.objective import loss
from tasks.rewards.pair_tokens import pair_tokens


def with_negatives(train: list[Any]) -> list[Any]:
    """A fine-tuned model's pairs: each record, then one (text, negative) pair per negative."""
    extra = [replace(r, other=text, negatives=()) for r in train for _, text in r.negatives]
    return train + extra


def encode(tokenizer, records: list[Any], texts: list[str], max_length: int):
    """Token batch of (context, text) pairs, or of texts alone when there is no context."""
    return pair_tokens(tokenizer, [r.context for r in records], texts, max_length)


def batch_loss(model, tokenizer, chunk: list[Any], config: Any):
    """Bradley–Terry loss on pairs or cross-entropy on labels for one batch (`objective.loss`)."""
    import torch

    chosen = model(**encode(tokenizer, chunk, [r.text for r in chunk], config.max_length))
    if config.kind == "pairs":
        texts = [r.other or "" for r in chunk]
        second = model(**encode(tokenizer, chunk, texts, config.max_length)).logits
    else:
        second = torch.tensor([r.label for r in chunk])
    return loss(config.kind, chosen.logits, second)


def fit(model, tokenizer, train: list[Any], config: Any, progress: bool) -> None:
    """AdamW over shuffled batches for `epochs` epochs, with a progress bar."""
    import torch
    from rich.progress import Progress

    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    order = random.Random(config.seed)
    steps = config.epochs * -(-len(train) // config.batch_size)
    model.train()
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(
            f"training reward model ({config.kind}, {len(train)} rows)", total=steps
        )
        for _ in range(config.epochs):
            rows = order.sample(train, len(train))
            for start in range(0, len(rows), config.batch_size):
                with torch.autocast("cpu", torch.bfloat16, enabled=config.precision == "bf16"):
                    loss = batch_loss(
                        model, tokenizer, rows[start : start + config.batch_size], config
                    )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                bar.advance(task)
    model.eval()


def heldout_outputs(model, tokenizer, heldout: list[Any], config: Any):
    """(first, second) on the held-out rows in the form `objective` reads: the chosen and the
    rejected texts' scores for pairs, the logits and the labels for labels."""
    import torch

    firsts, seconds = [], []
    with torch.no_grad():
        for start in range(0, len(heldout), 64):
            chunk = heldout[start : start + 64]
            first = model(**encode(tokenizer, chunk, [r.text for r in chunk], config.max_length))
            firsts.append(first.logits)
            if config.kind == "pairs":
                texts = [r.other or "" for r in chunk]
                seconds.append(model(**encode(tokenizer, chunk, texts, config.max_length)).logits)
            else:
                seconds.append(torch.tensor([r.label for r in chunk]))
    return torch.cat(firsts), torch.cat(seconds)
