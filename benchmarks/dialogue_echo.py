"""Can dialogue's reward models be won by echoing? The card's probe families, per model.

For the first N val prompts of the dialogue task this scores, with each model, the real next
turn and one probe per family (`tasks/rewards/probes.py`: the context's last turn repeated (an
echo, what a policy copying its prompt would write), an earlier turn, a span of a turn (held out
of every model's training), a far turn of the same chat, a generic reply, the real reply
truncated or said twice, another chat's reply) and prints, per family, the share of prompts
where the real reply scores strictly higher, and each family's mean score. The models are the
task's reward model and judge (trained on first use, cached in BENCH_CACHE) and any saved
folders given with --model (e.g. the task-version-4 folders, to compare before and after).

    python benchmarks/dialogue_echo.py --prompts 158
    python benchmarks/dialogue_echo.py --model v4=$BENCH_CACHE/reward-models/dialogue-1e8a3f63559d
"""

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.api.task import Example
from tasks.rewards.cards import figures, flat_rows
from tasks.rewards.dialogue_pairs import JUDGE_RECIPE, REWARD_RECIPE, val_probes
from tasks.rewards.learned import learned


def scorer(path: str):
    """(contexts, texts) → the model's reward, the context given as an example's prompt."""
    recipe = {r.name: r for r in (REWARD_RECIPE, JUDGE_RECIPE)}.get(path)
    model = learned(path=path, context="prompt", recipe=recipe)

    def score(contexts: Sequence[str | None], texts: Sequence[str]) -> list[float]:
        examples = [Example(str(i), c or "", ("-",)) for i, c in enumerate(contexts)]
        return model(examples, list(texts))

    return score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=158, help="val prompts (158 in all)")
    parser.add_argument("--model", action="append", default=[], help="NAME=FOLDER, repeatable")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    probes = val_probes()[: args.prompts]
    models = {"reward model": REWARD_RECIPE.name, "judge": JUDGE_RECIPE.name}
    models |= dict(item.split("=", 1) for item in args.model)
    found = {}
    for name, path in models.items():
        scores = scorer(path)(*flat_rows(probes))
        wins = figures(probes, scores, held_out=("partial_copy",))
        means = family_means(probes, scores)
        found[name] = {f: {**row, "mean": means[f]} for f, row in wins.items()}
        found[name]["real"] = {"mean": means["real"]}
    title = f"dialogue val prompts ({len(probes)}): real reply beats probe (mean)"
    print_families(found, title, mean_cell, args.json)


def mean_cell(family: str, row: dict[str, Any] | None) -> str:
    """A model's share and mean score for one family (the real replies: their mean only)."""
    if row is None:
        return "—"
    share = "—" if family == "real" else f"{row['real_beats_probe']:.0%} "
    return f"{share}({row['mean']:.3f})"


def print_families(
    found: dict[str, dict[str, Any]],
    title: str,
    cell: Callable[[str, dict[str, Any] | None], str],
    as_json: bool,
) -> None:
    """found (model → family → figures) as JSON, or as a table: a row per family of the first
    model, a column per model, cell(family, that model's figures or None) in each."""
    if as_json:
        print(json.dumps(found, indent=2))
        return
    table = Table(title=title)
    table.add_column("family")
    for name in found:
        table.add_column(name)
    for family in found[next(iter(found))]:
        table.add_row(family, *(cell(family, rows.get(family)) for rows in found.values()))
    Console().print(table)


def family_means(probes, scores: Sequence[float]) -> dict[str, float]:
    """Mean score of the real replies and of each family's probes."""
    sums: dict[str, list[float]] = {"real": []}
    at = 0
    for probe in probes:
        sums["real"].append(scores[at])
        for offset, (family, _) in enumerate(probe.probes, start=1):
            sums.setdefault(family, []).append(scores[at + offset])
        at += 1 + len(probe.probes)
    return {family: sum(v) / len(v) for family, v in sums.items()}


if __name__ == "__main__":
    main()
