"""Which model tells a reply from a copy: a head on frozen MiniLM, or a fine-tuned cross-encoder?

Trains dialogue's reward-model recipe (`tasks/rewards/dialogue_pairs.py`: the same pairs and
hard negatives) on its first N pairs (20 % held out) once per encoder: `frozen` (the task's
choice: an MLP head on frozen MiniLM embeddings and overlap features) and `finetune` (every
MiniLM weight, reading context and reply together, Bradley–Terry on each pair and each hard
negative, one epoch). Prints, per encoder, the training seconds, the held-out accuracy and,
on every val prompt, the share where the real reply beats each probe family (the card's
figures). Into a temporary folder: the cache is not touched. A benchmark, not a test: run it
with nothing else on the machine (the fine-tuned encoder takes ≈ 1 s per pair on 2 cores).

    python benchmarks/dialogue_encoders.py --pairs 500
"""

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tasks.rewards.dialogue_pairs import REWARD_RECIPE
from tasks.rewards.training import train_reward_model

ENCODERS = ("frozen", "finetune")


def trained(encoder: str, pairs: int, root: Path) -> dict:
    """The card of the reward-model recipe trained with `encoder` on its first `pairs` pairs,
    with the training seconds."""
    config = replace(REWARD_RECIPE.config, encoder=encoder, max_examples=pairs, train_examples=None)
    recipe = replace(REWARD_RECIPE, config=config)
    start = time.perf_counter()
    card = train_reward_model(
        f"dialogue-{encoder}", config, root / encoder, progress=False, recipe=recipe
    )
    return {**card, "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=500, help="the recipe's first N pairs")
    parser.add_argument("--encoder", action="append", choices=ENCODERS, help="default both")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    found = {}
    with tempfile.TemporaryDirectory() as root:
        for encoder in args.encoder or ENCODERS:
            card = trained(encoder, args.pairs, Path(root))
            found[encoder] = {
                "seconds": round(card["seconds"], 1),
                "heldout_accuracy": card["heldout_accuracy"],
                "examples": card["examples"],
                "families": {f: row["real_beats_probe"] for f, row in card["probes"].items()},
                "n": {f: row["n"] for f, row in card["probes"].items()},
            }
            print(json.dumps({encoder: found[encoder]}), flush=True)
    table = Table(title=f"dialogue reward model on its first {args.pairs} pairs, by encoder")
    table.add_column("")
    for encoder in found:
        table.add_column(encoder)
    first = next(iter(found.values()))
    table.add_row("training s", *(f"{row['seconds']:.0f}" for row in found.values()))
    table.add_row("held-out accuracy", *(f"{r['heldout_accuracy']:.3f}" for r in found.values()))
    for family, n in first["n"].items():
        cells = (f"{row['families'][family]:.1%}" for row in found.values())
        table.add_row(f"real beats {family} (n={n})", *cells)
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(found, indent=2) + "\n")


if __name__ == "__main__":
    main()
