"""Every pair of a report's rows compared by the leaderboard's own permutation test.

The leaderboard tests each row against the best one only; reading a study needs more: which
trained rows differ from each other, and from the baselines, in reward, KL and diversity. This
prints, per task and metric, each pair's two means, their difference and the two-sided
permutation p over seeds (`reports/significance.py`, exact for 5 vs 5 seeds: 252 splits,
smallest p 0.008). No correction for multiple comparisons: with 15 pairs per metric about one
in 20 null pairs would come out below 0.05, so read a lone p near 0.05 as weak evidence.

    python benchmarks/pairwise.py reports/reference/runs
    python benchmarks/pairwise.py runs/reference-cpu --metric eval/reward --metric eval/kl_exact
"""

import argparse
import itertools
import math
from pathlib import Path

from reports.aggregate import MATCHED_METRIC, runs_frame
from reports.load import load_runs
from reports.matched import matched_kl
from reports.pooling import group_runs
from reports.significance import permutation_pvalue

METRICS = (
    "eval/reward",
    "matched/reward",
    "eval/kl_exact",
    "eval/distinct_2",
    "eval/copy_rate",
    "eval/length",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="run folders, as for bench report")
    parser.add_argument("--metric", action="append", help=f"repeatable; default {METRICS}")
    args = parser.parse_args()
    runs, _ = load_runs(args.paths)
    runs = [run for run in runs if not run.tuning]
    for task in sorted({run.task for run in runs}):
        groups, _ = group_runs(task, [run for run in runs if run.task == task], False)
        frame = runs_frame(groups, matched_kl([run for group in groups for run in group.runs]))
        for metric in args.metric or METRICS:
            if metric not in frame.columns:
                print(f"{task}: no {metric} (metrics: {', '.join(sorted(frame.columns))})")
                continue
            split = "val" if metric == MATCHED_METRIC else "test"
            print(f"\n{task} · {metric} ({split}): mean A, mean B, A − B, permutation p")
            values = {
                str(row): [v for v in part[metric].tolist() if not math.isnan(v)]
                for row, part in frame.groupby("row", sort=False)
            }
            for a, b in itertools.combinations(values, 2):
                if not values[a] or not values[b]:
                    continue
                mean_a = sum(values[a]) / len(values[a])
                mean_b = sum(values[b]) / len(values[b])
                p = permutation_pvalue(values[a], values[b])
                mark = "*" if p < 0.05 else " "
                print(
                    f"  {a:>26} vs {b:<26} {mean_a:8.4f} {mean_b:8.4f} "
                    f"{mean_a - mean_b:+8.4f}  p={p:.3f} {mark}"
                )


if __name__ == "__main__":
    main()
