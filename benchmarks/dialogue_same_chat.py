"""Dialogue's reward models against each probe family on 800 prompts, not the card's 158.

A card's `same_chat` figure (a turn of the same chat at least 2 turns from the reply) rests on
158 val prompts and one far turn each: 77 % for task version 6's reward model and its judge,
95 % CI about 70-83 %, so it cannot say on which side of the issue's 80 % target the models are.
This scores the reward model's 800 unused training pairs instead (version 6 trains on the first
400 of its 1,200 and holds out the last 300; the judge reads none of their turns). Each pair
brings the real reply, its hard negatives (echo, an earlier turn, a far turn of the same chat, a
generic reply, the reply truncated or said twice; drawn like the training pairs') and another
chat's turn. Per family it prints the share of prompts where the real reply scores strictly
higher, with its Wilson 95 % CI.

--lm N adds a pretrained LM's relevance on the first N pairs: SmolLM2-135M's pointwise mutual
information of a reply as the transcript's next turn, log p(reply | transcript, "A:") −
log p(reply | "A:") summed over the reply's tokens. It is what a likelihood-based reward could
read. On this project's 2-core CPU it takes seconds per pair, far beyond the task's first-use
budget, so this asks only whether it would separate the families better.

    python benchmarks/dialogue_same_chat.py
    python benchmarks/dialogue_same_chat.py --lm 200
"""

import argparse
from collections.abc import Sequence
from typing import Any

from dialogue_echo import print_families, scorer
from rich.progress import track

from harness.api.registry import load
from harness.metrics.stats import share_interval
from harness.policies.policy import load_policy
from harness.rl.logprobs import gather_logprobs
from tasks.rewards.cards import Probe, figures, flat_rows
from tasks.rewards.dialogue_pairs import JUDGE_RECIPE, REWARD_RECIPE
from tasks.rewards.probes import context_turns
from tasks.rewards.training import load_data


def unused_pairs() -> list[Probe]:
    """The reward model's training-side pairs it did not train on, as card probes (in order)."""
    config = REWARD_RECIPE.config
    records = load_data(config, REWARD_RECIPE.records)
    unused = records[config.train_examples : int(len(records) * 0.8)]
    return [Probe(r.context, r.text, (*r.negatives, ("other_chat", r.other or ""))) for r in unused]


def next_speaker(context: str) -> str:
    """'A' or 'B': who speaks after the transcript's last turn (its lines start "A: "/"B: ")."""
    return "A" if context_turns(context)[-1].startswith("B") else "B"


def lm_scorer():
    """probes → SmolLM2-135M's PMI of each text as the next turn of the probe's context."""
    import torch

    policy, _ = load_policy("smollm2-135m", load("tasks", "dialogue")(), "cpu")
    model, tokenizer = policy.model, policy.tokenizer

    def log_likelihoods(prefix: str, texts: Sequence[str]) -> list[float]:
        """log p(text | prefix) summed over each text's tokens; logits only at those tokens."""
        start = tokenizer(prefix)["input_ids"]
        rows = [start + tokenizer(" " + text)["input_ids"] for text in texts]
        width = max(map(len, rows))
        ids = torch.tensor([row + [tokenizer.pad_token_id] * (width - len(row)) for row in rows])
        mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows])
        with torch.inference_mode():
            hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state
            found = []
            for i, row in enumerate(rows):
                at = torch.arange(len(start) - 1, len(row) - 1)
                logits = model.lm_head(hidden[i, at]).unsqueeze(0)
                found.append(float(gather_logprobs(logits, ids[i, at + 1].unsqueeze(0)).sum()))
        return found

    def score(probes: Sequence[Probe]) -> list[float]:
        """PMI of each probe's real text, then of its probe texts (`cards.flat_rows` order)."""
        scores = []
        for probe in track(probes, description="SmolLM2-135M likelihoods", transient=True):
            texts = [probe.real, *(text for _, text in probe.probes)]
            speaker = next_speaker(probe.context or "")
            given = log_likelihoods(f"{probe.context}\n{speaker}:", texts)
            alone = log_likelihoods(f"{speaker}:", texts)
            scores += [g - a for g, a in zip(given, alone, strict=True)]
        return scores

    return score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lm", type=int, default=0, help="pairs SmolLM2-135M scores (0: none)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    probes = unused_pairs()
    models = {"reward model": REWARD_RECIPE.name, "judge": JUDGE_RECIPE.name}
    found = {
        name: figures(probes, scorer(path)(*flat_rows(probes)), ()) for name, path in models.items()
    }
    if args.lm:
        chosen = probes[: args.lm]
        found[f"SmolLM2 PMI ({len(chosen)})"] = figures(chosen, lm_scorer()(chosen), ())
    title = f"real reply beats probe, {len(probes)} unused training pairs (95 % Wilson CI)"
    print_families(found, title, interval_cell, args.json)


def interval_cell(family: str, row: dict[str, Any] | None) -> str:
    """A model's share of wins for one family, its Wilson 95 % CI and its number of prompts."""
    if row is None:
        return "—"
    ci = share_interval(round(row["real_beats_probe"] * row["n"]), row["n"])
    return f"{ci.mean:.1%} ({ci.low:.1%}–{ci.high:.1%}) of {row['n']}"


if __name__ == "__main__":
    main()
