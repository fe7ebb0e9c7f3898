"""The smoke suite regenerates its committed leaderboard: every metric value, from scratch.

suites/smoke.yaml runs every algorithm and preset on the tiny policy (tuning, selection, report
runs); its leaderboard is committed in reports/smoke/. This test runs the suite in a fresh folder
with the spec's pinned thread count, rebuilds the report and compares, row by row: every metric's
mean, CI and seed count, rank, p-value, flags, seeds, settings and stop reasons, the matched KL,
and every tuning trial's scores and winner. Left out: wall seconds (`spent/seconds`, a timing)
and what is not a result (run directory names, which hash the whole config; the method text).

Named with a tolerance (docs/development.md "Smoke suite"): the exact KL, sampled KL and entropy
(sampled and greedy) and the reward at matched KL, which interpolates the val curve at a KL. They
are float sums over the vocabulary whose last bits depend on the CPU kernels' reduction order:
identical run to run here, but with torch's AVX2 kernels instead of AVX-512
(ATEN_CPU_CAPABILITY=avx2) they moved by up to 2.1e-4 relative (start-policy KLs, about 1e-8, by
more); every reward, text metric and compute count stayed identical. Regenerate with the
commands in suites/smoke.yaml.
"""

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli import app

REPO = Path(__file__).resolve().parents[1]
SUITE = REPO / "suites" / "smoke.yaml"
COMMITTED = REPO / "reports" / "smoke" / "leaderboard.json"
TIMINGS = ("spent/seconds",)  # wall time: never compared
NOISY = re.compile(r"^(eval/(greedy/)?(kl_\w+|entropy)|matched/reward|matched_kl)$")
REL, ABS = 1e-3, 1e-6  # for NOISY keys: |a - b| ≤ ABS + REL·|b|
ROW_KEYS = (
    "rank",
    "algo",
    "role",
    "algo_config",
    "parts",
    "baseline_samples",
    "settings",
    "seeds",
    "stop_reasons",
    "vs_best",
    "flags",
)


def compared(leaderboard: dict[str, Any]) -> dict[str, Any]:
    """The compared values of a leaderboard.json by a readable key (task / row / metric / field)."""
    values: dict[str, Any] = {}
    for table in leaderboard["tables"]:
        task = table["task"]
        values[f"{task} / task_version"] = table["task_version"]
        values[f"{task} / matched_kl"] = table["matched_kl"]["kl"]
        for row in table["rows"]:
            for key in ROW_KEYS:
                values[f"{task} / {row['row']} / {key}"] = row[key]
            for metric, interval in row["metrics"].items():
                if metric not in TIMINGS:
                    for field, value in interval.items():
                        # per-seed values one by one, so a NOISY metric's get its tolerance
                        items = enumerate(value) if isinstance(value, list) else [(None, value)]
                        for index, item in items:
                            name = field if index is None else f"{field}[{index}]"
                            values[f"{task} / {row['row']} / {metric} / {name}"] = item
    for selection in leaderboard["tuning"]["selections"]:
        for task, algos in selection["tasks"].items():
            for algo, entry in algos.items():
                trials = [{k: v for k, v in t.items() if k != "run_dirs"} for t in entry["trials"]]
                values[f"tuning / {task} / {algo}"] = {"trials": trials, "winner": entry["winner"]}
    return values


def differences(found: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """One line per key whose value differs (NOISY keys: beyond the stated tolerance)."""
    lines = []
    for key in sorted(set(found) | set(expected)):
        new, old = found.get(key, "missing"), expected.get(key, "missing")
        name = key.split(" / ")[-2] if key.count(" / ") >= 2 else key.split(" / ")[-1]
        if NOISY.match(name) and isinstance(new, float) and isinstance(old, float):
            if math.isclose(new, old, rel_tol=REL, abs_tol=ABS):
                continue
        elif new == old:
            continue
        lines.append(f"{key}: regenerated {new!r}, committed {old!r}")
    return lines


@pytest.mark.slow
def test_the_smoke_suite_regenerates_every_committed_metric_value(bench_cache, tmp_path):
    runs, report = tmp_path / "runs", tmp_path / "report"
    swept = CliRunner().invoke(app, ["sweep", str(SUITE), "--out", str(runs), "--workers", "2"])
    assert swept.exit_code == 0, swept.output
    assert "40 runs: 40 done, 0 failed, 0 skipped" in swept.output
    threads = {
        json.loads(path.read_text())["env"]["torch_threads"]
        for path in runs.glob("*/*/*/result.json")
    }
    assert threads == {1}  # the spec's pinned count, whatever this machine's CPUs
    reported = CliRunner().invoke(app, ["report", str(runs), "--out", str(report)])
    assert reported.exit_code == 0, reported.output

    found = compared(json.loads((report / "leaderboard.json").read_text()))
    expected = compared(json.loads(COMMITTED.read_text()))
    assert len(expected) > 1000  # 12 rows × ~50 metrics × 4 fields, and the tuning record
    assert differences(found, expected) == []
