"""Throughput of the shared training loop: completions/s, seconds per update and where they go.

Runs the runner's own `train_step` (generate → reward → log-probs → update) for a few updates
on each requested policy and prints the split. A benchmark, not a test: numbers depend on the
machine and on what else runs on it.

    python benchmarks/throughput.py                          # tiny and smollm2-135m, reinforce
    python benchmarks/throughput.py --policy tiny --updates 5 -o rollout.samples_per_prompt=8
"""

import argparse
import resource
import statistics
import tempfile
import time

from rich.console import Console
from rich.table import Table

from harness.launch import build_config
from harness.run.budget import Spent
from harness.run.rundir import create_run_dir
from harness.run.runner import prompt_stream
from harness.run.setup import prepare
from harness.run.step import train_step

PHASES = ("time/generate", "time/reward", "time/logprobs", "time/update")


def train_rows(policy: str, algo: str, updates: int, overrides: list[str]) -> list[dict]:
    """The train rows of `updates` updates from the start policy, each with its wall time."""
    quiet = Console(quiet=True)
    with tempfile.TemporaryDirectory() as out:
        config = build_config(
            "summarization", algo, policy=policy, seed=0, out=out,
            overrides=["eval.prompts=1", *overrides],
        )  # fmt: skip
        setup = prepare(config, quiet, create_run_dir(config))
        state = setup.algorithm.init(setup.policy.model, setup.algo_config)
        prompts = prompt_stream(setup.task.examples("train"), config.seed)
        spent, rows = Spent(), []
        per_update = config.rollout.prompts_per_update
        for _ in range(updates):
            started = time.perf_counter()
            row = train_step(setup, state, lambda n: [next(prompts) for _ in range(n)], spent)
            row["wall"] = time.perf_counter() - started
            row["completions"] = per_update * config.rollout.samples_per_prompt
            rows.append(row)
    return rows


def measure(policy: str, algo: str, updates: int, overrides: list[str]) -> dict[str, float]:
    """Median per-update timings over `updates` updates after one warm-up update."""
    timed = train_rows(policy, algo, updates + 1, overrides)[1:]
    completions = timed[0]["completions"]
    result = {key: statistics.median(r[key] for r in timed) for key in (*PHASES, "wall")}
    result["completions/s"] = completions / result["wall"]
    result["tokens/completion"] = statistics.mean(r["train/length"] for r in timed)
    result["completions"] = completions
    return result


def main() -> None:
    """Parse arguments, measure each policy, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", action="append", help="policy name (repeatable)")
    parser.add_argument("--algo", action="append", help="algorithm name (repeatable)")
    parser.add_argument("--updates", type=int, default=3, help="timed updates after a warm-up")
    parser.add_argument("-o", dest="overrides", action="append", default=[], help="key=value")
    args = parser.parse_args()
    table = Table(title="seconds per update (median) and throughput")
    for column in (
        "policy",
        "algo",
        "completions",
        "tok/compl",
        "generate",
        "reward",
        "logprobs",
        "update",
        "update ms/compl",
        "s/update",
        "completions/s",
    ):
        table.add_column(column, justify="right")
    for policy in args.policy or ["tiny", "smollm2-135m"]:
        for algo in args.algo or ["reinforce"]:
            r = measure(policy, algo, args.updates, args.overrides)
            table.add_row(
                policy,
                algo,
                str(r["completions"]),
                f"{r['tokens/completion']:.1f}",
                *(f"{r[key]:.2f}" for key in PHASES),
                f"{1000 * r['time/update'] / r['completions']:.1f}",
                f"{r['wall']:.2f}",
                f"{r['completions/s']:.2f}",
            )
    Console(width=160).print(table)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    Console().print(
        f"peak RSS {peak:.2f} GB (whole process) · overrides {args.overrides or 'none'}"
    )


if __name__ == "__main__":
    main()
