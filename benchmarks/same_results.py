"""Same seed, same results: a refactor's runs against an earlier commit's, file by file.

Checks REV out into a temporary git worktree and runs the same `bench run` commands (tiny
policy, one seed) once on REV's code and once on the working tree's, each in a fresh process
whose `harness`, `tasks` and `baselines` are its side's. Then every result.json and
metrics.jsonl of the two output folders is compared value by value and key order included,
leaving out what a run records of the machine and the checkout rather than computes: wall
seconds, peak memory, the output folder's own path and the commit. Exit status 1 when anything
else differs.

    python benchmarks/same_results.py 23feae0
    python benchmarks/same_results.py 23feae0 --algos reinforce trpo --samples 64
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNS = {  # algorithm → its extra options: ppo with gae covers the value head
    "reinforce": [],
    "ppo": ["-o", "rollout.advantage=gae"],
    "trpo": [],
    "grpo": [],
    "dapo": [],
}
MEASURED = ("seconds", "eval/seconds", "peak_rss_mb", "out", "git_commit")  # and `time/…` keys


def without_measurements(value: Any) -> Any:
    """`value` with every key of MEASURED and every `time/…` key left out, at any depth."""
    if isinstance(value, dict):
        return {
            key: without_measurements(item)
            for key, item in value.items()
            if key not in MEASURED and not key.startswith("time/")
        }
    if isinstance(value, list):
        return [without_measurements(item) for item in value]
    return value


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Every place where two JSON values differ (a dict's key order counts)."""
    if type(a) is not type(b):
        return [f"{where}: {a!r} ≠ {b!r}"]
    if isinstance(a, dict):
        found = [f"{where}.{key}: on one side only" for key in sorted(set(a) ^ set(b))]
        found += [d for key in a if key in b for d in differences(a[key], b[key], f"{where}.{key}")]
        return found or ([f"{where}: key order differs"] if list(a) != list(b) else [])
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items ≠ {len(b)}"]
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {a!r} ≠ {b!r}"]


def read(path: Path) -> Any:
    """A result.json, or a metrics.jsonl as a list of rows."""
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines()]
    return json.loads(path.read_text())


def compare(before: Path, after: Path) -> list[str]:
    """One line per file of `before`: identical, or what differs in `after`."""
    lines = []
    for path in sorted([*before.rglob("result.json"), *before.rglob("metrics.jsonl")]):
        twin = after / path.relative_to(before)
        if not twin.exists():
            lines.append(f"{path.relative_to(before)}: missing on the working tree's side")
            continue
        found = differences(without_measurements(read(path)), without_measurements(read(twin)))
        lines.append(f"{path.relative_to(before)}: {'identical' if not found else 'DIFFERS'}")
        lines += [f"    {line}" for line in found[:8]]
    return lines


def run_side(tree: Path, out: Path, algos: list[str], samples: int, seed: int) -> None:
    """Each algorithm's tiny run on `tree`'s code, into `out`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    for algo in algos:
        command = [sys.executable, "-m", "harness.cli", "run", "summarization", "--algo", algo]
        command += ["--policy", "tiny", "--samples", str(samples), "--seed", str(seed)]
        command += ["--out", str(out), *RUNS[algo]]
        subprocess.run(command, env=env, cwd=tree, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the commit to compare with (e.g. the one before a refactor)")
    parser.add_argument("--algos", nargs="+", choices=list(RUNS), default=list(RUNS))
    parser.add_argument("--samples", type=int, default=96)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        old = Path(scratch) / "rev"
        subprocess.run(
            ["git", "worktree", "add", "-q", "--detach", str(old), args.rev], cwd=ROOT, check=True
        )
        try:
            for side, tree in (("rev", old), ("tree", ROOT)):
                run_side(tree, Path(scratch) / f"runs-{side}", args.algos, args.samples, args.seed)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=True)
        lines = compare(Path(scratch) / "runs-rev", Path(scratch) / "runs-tree")
    print("\n".join(lines))
    sys.exit(1 if any("DIFFERS" in line or "missing" in line for line in lines) else 0)


if __name__ == "__main__":
    main()
