"""Every pair of a report's rows compared by the leaderboard's own t tests, Holm-adjusted.

The leaderboard tests each row against the best one, its start and each deterministic anchor row;
reading a study needs more: which trained rows differ from each other, and from the anchor rows,
in reward, KL and diversity. This prints, per task and metric, each pair's two means, their
difference, the test the pair gets (`reports/significance.py`: paired t where the rows share
their seeds, Welch's where not, one-sample against a deterministic row), its p and the p
Holm-adjusted over that metric's pairs (m = the number of pairs with a defined test).

    python benchmarks/pairwise.py reports/reference/runs
    python benchmarks/pairwise.py runs/reference-cpu --metric eval/reward --metric eval/kl_exact
"""

import argparse
import itertools
import math
from pathlib import Path

from harness.metrics.stats import holm
from reports.aggregate import MATCHED_METRIC, metric_samples, runs_frame
from reports.load import load_runs
from reports.matched import matched_kl
from reports.pooling import group_runs
from reports.significance import ALPHA, Sample, compare

METRICS = (
    "eval/reward",
    "matched/reward",
    "eval/kl_exact",
    "eval/distinct_2",
    "eval/copy_rate",
    "eval/length",
)


def print_metric(task: str, metric: str, rows: list[Sample]) -> None:
    """Every pair of `rows`: means, difference, test, p and Holm-adjusted p."""
    split = "val" if metric == MATCHED_METRIC else "test"
    pairs = list(itertools.combinations(rows, 2))
    tested = [compare(a, b) for a, b in pairs]
    adjusted = holm([p for _, p in tested])
    defined = sum(math.isfinite(p) for _, p in tested)
    print(f"\n{task} · {metric} ({split}): mean A, mean B, A − B, test, p, Holm p (m = {defined})")
    for (a, b), (test, p), p_holm in zip(pairs, tested, adjusted, strict=True):
        mean_a, mean_b = sum(a.values) / len(a.values), sum(b.values) / len(b.values)
        mark = "*" if p_holm < ALPHA else " "
        print(
            f"  {a.label:>26} vs {b.label:<26} {mean_a:8.4f} {mean_b:8.4f} "
            f"{mean_a - mean_b:+8.4f}  {test:<13} p={p:.3f}  Holm p={p_holm:.3f} {mark}"
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
            print_metric(task, metric, metric_samples(groups, frame, metric))


if __name__ == "__main__":
    main()
