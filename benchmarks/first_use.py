"""First use of each task: a smallest run's wall time on an empty cache, then on a full one.

A first `bench run TASK` builds what the task needs once: the `tiny` policy (its tokenizer and
warm start on the task's train split) and, for dialogue and sentiment, the learned reward models
(dialogue also its judge). This runs `bench run TASK --algo reinforce --policy tiny --samples 8`
in a fresh process with an empty BENCH_CACHE (first use), then the same command again with the
cache now full (second use); the difference is the set-up. It also prints the held-out accuracy
each trained reward model wrote in its card. A benchmark, not a test: run it with nothing else
on the machine.

    python benchmarks/first_use.py                       # all four built-in tasks
    python benchmarks/first_use.py --task dialogue --json first_use.json
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

TASKS = ("summarization", "translation", "dialogue", "sentiment")


def timed_run(task: str, cache: Path, out: Path, extra: list[str]) -> float:
    """Seconds of one `bench run` of the task in a fresh process, BENCH_CACHE=cache."""
    command = [sys.executable, "-m", "harness.cli", "run", task, "--algo", "reinforce"]
    command += ["--policy", "tiny", "--samples", "8", "--out", str(out), *extra]
    env = {**os.environ, "BENCH_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"bench run {task} failed:\n{done.stderr[-2000:]}")
    return seconds


def reward_cards(cache: Path) -> dict[str, float]:
    """recipe folder name → held-out accuracy, for the reward models trained into the cache."""
    cards = sorted((cache / "reward-models").glob("*/reward_card.json"))
    return {card.parent.name: json.loads(card.read_text())["heldout_accuracy"] for card in cards}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", action="append", choices=TASKS, help="repeatable; default all")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("-o", action="append", default=[], help="key=value for both runs")
    args = parser.parse_args()
    rows, extra = [], [a for o in args.o for a in ("-o", o)]
    for task in args.task or TASKS:
        with tempfile.TemporaryDirectory() as root:
            cache = Path(root) / "cache"
            first = timed_run(task, cache, Path(root) / "runs-1", extra)
            second = timed_run(task, cache, Path(root) / "runs-2", extra)
            rows.append(
                {
                    "task": task,
                    "first_use_s": round(first, 1),
                    "second_use_s": round(second, 1),
                    "setup_s": round(first - second, 1),
                    "reward_models": reward_cards(cache),
                }
            )
        print(json.dumps(rows[-1]), flush=True)
    table = Table(title="first use: bench run TASK --algo reinforce --policy tiny --samples 8")
    for column in ("task", "first use s", "second use s", "set-up s", "reward models (held out)"):
        table.add_column(column)
    for row in rows:
        models = ", ".join(f"{name}: {acc:.3f}" for name, acc in row["reward_models"].items())
        table.add_row(
            row["task"],
            f"{row['first_use_s']:.1f}",
            f"{row['second_use_s']:.1f}",
            f"{row['setup_s']:.1f}",
            models or "—",
        )
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
