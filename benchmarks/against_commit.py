"""Throughput of the working tree against a pinned earlier commit, side by side in one run.

Machines of this kind differ by 2–3× in absolute speed, so only a ratio taken on one machine in
one invocation holds. This checks REV out into a temporary git worktree and runs
benchmarks/throughput.py (this tree's copy, so both sides are measured the same way) in a fresh
subprocess per side, alternating REV, current, REV, current … for `--rounds` rounds; PYTHONPATH
points each subprocess at its side's `harness`, `tasks` and `baselines`. Each subprocess loads
its policy, warms up one update and times `--updates`; the ratio is of the medians over rounds.

    python benchmarks/against_commit.py e606600 --policy smollm2-135m --rounds 2
    python benchmarks/against_commit.py e606600 --policy smollm2-135m --current -o precision=bf16
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
THROUGHPUT = ROOT / "benchmarks" / "throughput.py"


def measure(tree: Path, arguments: list[str]) -> dict:
    """One throughput.py subprocess on `tree`'s code: its first result and peak RSS."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "result.json"
        env = {**os.environ, "PYTHONPATH": str(tree)}
        command = [sys.executable, str(THROUGHPUT), *arguments, "--json", str(out)]
        subprocess.run(command, env=env, cwd=tree, check=True, stdout=subprocess.DEVNULL)
        summary = json.loads(out.read_text())
    return {**summary["results"][0], "peak_rss_gb": summary["peak_rss_gb"]}


def side_row(label: str, results: list[dict]) -> list[str]:
    """Table cells: median completions/s, s/update, phase split, GFLOP/s and peak RSS."""
    median = {key: statistics.median(r[key] for r in results) for key in results[0]
              if isinstance(results[0][key], float | int)}  # fmt: skip
    return [
        label,
        " ".join(f"{r['completions/s']:.3f}" for r in results),
        f"{median['completions/s']:.3f}",
        f"{median['wall']:.2f}",
        f"{median['time/generate']:.2f}",
        f"{median['time/logprobs']:.2f}",
        f"{median['time/update']:.2f}",
        f"{median['GFLOP/s']:.1f}",
        f"{max(r['peak_rss_gb'] for r in results):.2f}",
    ]


def main() -> None:
    """Check out REV, alternate the two sides, print per-side medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the earlier commit to compare against (e.g. e606600)")
    parser.add_argument("--policy", default="smollm2-135m")
    parser.add_argument("--algo", default="reinforce")
    parser.add_argument("--updates", type=int, default=3, help="timed updates per subprocess")
    parser.add_argument("--rounds", type=int, default=2, help="REV/current pairs")
    parser.add_argument("-o", dest="overrides", action="append", default=[], help="both sides")
    parser.add_argument(
        "--current", nargs=argparse.REMAINDER, default=[], help="-o key=value for this tree only"
    )
    args = parser.parse_args()
    common = ["--policy", args.policy, "--algo", args.algo, "--updates", str(args.updates)]
    common += [item for override in args.overrides for item in ("-o", override)]
    console = Console(width=160)
    with tempfile.TemporaryDirectory() as scratch:
        pinned = Path(scratch) / "pinned"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(pinned), args.rev],
            check=True,
        )
        try:
            sides: dict[str, list[dict]] = {"pinned": [], "current": []}
            for round_ in range(args.rounds):
                for name, tree, extra in (
                    ("pinned", pinned, []),
                    ("current", ROOT, args.current),
                ):
                    console.print(f"round {round_ + 1}/{args.rounds}: {name} …")
                    sides[name].append(measure(tree, [*common, *extra]))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(pinned)])
    table = Table(title=f"{args.policy} · {args.algo} · medians over {args.rounds} rounds")
    for column in ("side", "completions/s per round", "completions/s", "s/update", "generate",
                   "logprobs", "update", "GFLOP/s", "peak RSS GB"):  # fmt: skip
        table.add_column(column, justify="right")
    table.add_row(*side_row(f"{args.rev} {' '.join(common[6:]) or ''}", sides["pinned"]))
    table.add_row(*side_row(f"current {' '.join(args.current)}", sides["current"]))
    console.print(table)
    ratio = statistics.median(r["completions/s"] for r in sides["current"]) / statistics.median(
        r["completions/s"] for r in sides["pinned"]
    )
    console.print(f"completions/s ratio current / {args.rev} = {ratio:.2f}")


if __name__ == "__main__":
    main()
