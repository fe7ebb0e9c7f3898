"""How far one update moves the policy: train/kl_step per algorithm, from the start policy.

train/kl_step is the exact mean per-token KL(π_old‖π_new) after each update (measured on 1
prompt in 8 of the batch). Comparable step sizes are what make a comparison at equal samples
about the algorithm rather than about its step size. Prints the mean over the first updates
and the probe's cost as a share of the update's time.

    python benchmarks/step_sizes.py                                   # defaults, smollm2-135m
    python benchmarks/step_sizes.py --algo ppo -o lr=3e-6 --updates 4
"""

import argparse
import statistics

from rich.console import Console
from rich.table import Table
from throughput import train_rows


def main() -> None:
    """Run each algorithm for a few updates and print its mean train/kl_step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="smollm2-135m", help="policy name")
    parser.add_argument("--algo", action="append", help="algorithm name (repeatable)")
    parser.add_argument("--updates", type=int, default=4, help="updates from the start policy")
    parser.add_argument("-o", dest="overrides", action="append", default=[], help="key=value")
    args = parser.parse_args()
    table = Table(title=f"KL(π_old‖π_new) per update on {args.policy} (exact, nats/token)")
    for column in ("algo", "overrides", "kl_step mean", "per update", "probe / update time"):
        table.add_column(column, justify="right")
    for algo in args.algo or ["reinforce", "ppo", "trpo"]:
        rows = train_rows(args.policy, algo, args.updates, args.overrides)
        steps = [row["train/kl_step"] for row in rows]
        share = sum(r["time/kl_step"] for r in rows) / sum(r["time/update"] for r in rows)
        table.add_row(
            algo,
            " ".join(args.overrides) or "defaults",
            f"{statistics.mean(steps):.4f}",
            " ".join(f"{s:.4f}" for s in steps),
            f"{share:.1%}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
