"""Throughput of the shared training loop: completions/s, seconds per update and where they go.

Runs the runner's own `train_step` (generate → reward → log-probs → update) for a few updates
on each requested policy and prints the split. A benchmark, not a test: numbers depend on the
machine and on what else runs on it.

Achieved GFLOP/s counts model FLOPs only: 2·N per token position entering a network (forward)
and 4·N per position a gradient reaches (backward), N the policy's parameters (a tied
embedding once: its lookup is free, its LM-head matmul is not). Attention's L² terms are left
out and prompt positions whose logits are never computed are counted, so it is an estimate.
The peak it is divided by is a square matmul timed here, in the run's precision.

    python benchmarks/throughput.py                          # tiny and smollm2-135m, reinforce
    python benchmarks/throughput.py --policy tiny --updates 5 -o rollout.samples_per_prompt=8
    python benchmarks/throughput.py --policy smollm2-135m -o precision=bf16 --json out.json
    python benchmarks/throughput.py --policy smollm2-135m --task translation

"reward" is the reward's share of the update's wall time. A learned reward model costs the same
to run whatever its weights, so for dialogue and sentiment a model trained on a few examples
times scoring without the minute or so of training the recipe's model takes on first use:

    bench reward train dialogue --max-examples 20 --out /tmp/rm-dialogue
    python benchmarks/throughput.py --policy smollm2-135m --task dialogue \
        -o task.reward_model=/tmp/rm-dialogue
"""

import argparse
import json
import resource
import statistics
import tempfile
import time

import torch
from rich.console import Console
from rich.table import Table

from harness.launch import build_config
from harness.loop.budget import Spent
from harness.loop.setup import prepare
from harness.loop.step import train_step
from harness.run.runner import prompt_stream
from harness.rundir.layout import create_run_dir

PHASES = ("time/generate", "time/reward", "time/logprobs", "time/update")


def train_rows(
    task: str, policy: str, algo: str, updates: int, overrides: list[str]
) -> tuple[list[dict], int]:
    """The train rows of `updates` updates from the start policy (each with its wall time), and
    the policy's parameter count."""
    quiet = Console(quiet=True)
    with tempfile.TemporaryDirectory() as out:
        config = build_config(
            task, algo, policy=policy, seed=0, out=out,
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
        parameters = sum(p.numel() for p in setup.policy.model.parameters())
    return rows, parameters


def matmul_peak(precision: str, size: int = 1024, repeats: int = 20) -> float:
    """GFLOP/s of a square (size × size) matmul in `precision`, best of `repeats` timings."""
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def measure(
    task: str, policy: str, algo: str, updates: int, overrides: list[str]
) -> dict[str, float]:
    """Median per-update timings over `updates` updates after one warm-up update."""
    rows, parameters = train_rows(task, policy, algo, updates + 1, overrides)
    timed = rows[1:]
    completions = timed[0]["completions"]
    # a phase an algorithm does not have (supervised: no generate, no reward) counts as 0 s
    result = {key: statistics.median(r.get(key, 0.0) for r in timed) for key in (*PHASES, "wall")}
    flops = [  # per update: counters are cumulative, so take differences
        2 * parameters * (now["forward_tokens"] - before["forward_tokens"])
        + 4 * parameters * (now["backward_tokens"] - before["backward_tokens"])
        for before, now in zip(rows[:-1], timed, strict=True)
    ]
    result["GFLOP/s"] = sum(flops) / sum(r["wall"] for r in timed) / 1e9
    result["completions/s"] = completions / result["wall"]
    result["reward share"] = statistics.median(r.get("time/reward", 0.0) / r["wall"] for r in timed)
    result["tokens/completion"] = statistics.mean(r["train/length"] for r in timed)
    result["completions"] = completions
    return result


def precision_of(overrides: list[str]) -> str:
    """The precision an `-o precision=…` override asks for (fp32 otherwise)."""
    values = [o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0] == "precision"]
    return values[-1] if values else "fp32"


COLUMNS = (
    "task",
    "policy",
    "algo",
    "completions",
    "tok/compl",
    "generate",
    "reward",
    "logprobs",
    "update",
    "reward %",
    "update ms/compl",
    "s/update",
    "completions/s",
    "GFLOP/s",
    "of peak",
)


def main() -> None:
    """Parse arguments, measure each policy, print one table (and write it as JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", action="append", help="task name (repeatable; summarization)")
    parser.add_argument("--policy", action="append", help="policy name (repeatable)")
    parser.add_argument("--algo", action="append", help="algorithm name (repeatable)")
    parser.add_argument("--updates", type=int, default=3, help="timed updates after a warm-up")
    parser.add_argument("-o", dest="overrides", action="append", default=[], help="key=value")
    parser.add_argument("--json", help="also write the measurements to this JSON file")
    args = parser.parse_args()
    precision = precision_of(args.overrides)
    peak_gflops = matmul_peak(precision)
    table = Table(title=f"seconds per update (median) and throughput · {precision}")
    for column in COLUMNS:
        table.add_column(column, justify="right")
    results = []
    runs = [
        (task, policy, algo)
        for task in args.task or ["summarization"]
        for policy in args.policy or ["tiny", "smollm2-135m"]
        for algo in args.algo or ["reinforce"]
    ]
    for task, policy, algo in runs:
        r = measure(task, policy, algo, args.updates, args.overrides)
        results.append({"task": task, "policy": policy, "algo": algo, **r})
        table.add_row(
            task,
            policy,
            algo,
            str(r["completions"]),
            f"{r['tokens/completion']:.1f}",
            *(f"{r[key]:.2f}" for key in PHASES),
            f"{r['reward share']:.1%}",
            f"{1000 * r['time/update'] / r['completions']:.1f}",
            f"{r['wall']:.2f}",
            f"{r['completions/s']:.2f}",
            f"{r['GFLOP/s']:.1f}",
            f"{r['GFLOP/s'] / peak_gflops:.0%}",
        )
    Console(width=200).print(table)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    Console().print(
        f"peak RSS {peak_gb:.2f} GB (whole process) · {precision} matmul peak "
        f"{peak_gflops:.0f} GFLOP/s ({torch.get_num_threads()} threads) · "
        f"overrides {args.overrides or 'none'}"
    )
    if args.json:
        summary = {"results": results, "peak_rss_gb": peak_gb, "matmul_gflops": peak_gflops}
        with open(args.json, "w") as file:
            json.dump(summary, file, indent=1)


if __name__ == "__main__":
    main()
