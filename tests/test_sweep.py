"""`bench sweep` end to end with the local executor: tune, select, report; again: nothing runs."""

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli import app

TINY = {  # a few seconds per run on the tiny policy
    "rollout.prompts_per_update": 2,
    "rollout.samples_per_prompt": 2,
    "eval.prompts": 2,
    "eval.every": 0,
    "task.max_source_words": 40,  # as the tiny_policy fixture: its cached build is reused
    "task.max_new_tokens": 8,
}
SPEC = {
    "tasks": ["summarization"],
    "algos": ["reinforce", "ppo"],
    "seeds": [0, 1],
    "policy": "tiny",
    "budget": {"samples": 8},
    "overrides": TINY,
    "tune": {
        "seeds": [100],
        "grid": {"reinforce": {"lr": [1.0e-3, 3.0e-3]}, "ppo": {"lr": [1.0e-3, 2.0e-3]}},
    },
}


def results(out: Path) -> dict[Path, dict]:
    """Every trained run's result.json below `out`, by run directory."""
    return {
        path.parent: json.loads(path.read_text())
        for path in out.glob("summarization/*/seed*/result.json")
        if path.parent.parent.name in ("reinforce", "ppo")
    }


@pytest.mark.slow
def test_a_two_algorithm_sweep_tunes_selects_reports_and_a_rerun_starts_nothing(
    tiny_policy, tmp_path
):
    spec_path, out = tmp_path / "spec.yaml", tmp_path / "out"
    spec_path.write_text(yaml.safe_dump(SPEC))
    result = CliRunner().invoke(app, ["sweep", str(spec_path), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert f"8 runs: 8 done, 0 failed, 0 skipped · output {out} · next: bench report {out}" in (
        result.output
    )

    found = results(out)
    assert len(found) == 8
    selection = json.loads((out / "selection.json").read_text())
    for algo, lrs in (("reinforce", [1.0e-3, 3.0e-3]), ("ppo", [1.0e-3, 2.0e-3])):
        entry = selection["tasks"]["summarization"][algo]
        trials = entry["trials"]
        assert [t["settings"] for t in trials] == [{"lr": lr} for lr in lrs]
        scores = []
        for trial in trials:
            (run_dir,) = trial["run_dirs"]
            tuned = found[out / run_dir]
            assert tuned["role"] == "tune" and tuned["seed"] == 100
            assert tuned["config"]["algo_config"]["lr"] == trial["settings"]["lr"]
            assert trial["score"] == tuned["eval_after"]["val"]["eval/reward"]
            for evaluation in ("eval_before", "eval_after"):  # selected on val: no test
                assert list(tuned[evaluation]) == ["val"]
            assert tuned["heldout_gain"] is None
            assert not list((out / run_dir / "samples").glob("*test*"))
            scores.append(trial["score"])
        assert entry["winner"] == trials[scores.index(max(scores))]["settings"]
        reports = [r for r in found.values() if r["algo"] == algo and r["role"] == "report"]
        assert sorted(r["seed"] for r in reports) == [0, 1]
        assert {r["config"]["algo_config"]["lr"] for r in reports} == {entry["winner"]["lr"]}
        assert all(r["stop_reason"] == "samples" for r in reports)
        assert all(list(r["eval_after"]) == ["val", "test"] and r["heldout_gain"] for r in reports)
    assert {r["env"]["torch_threads"] for r in found.values()} == {1}  # 2 CPUs // 2 workers
    assert all((run_dir / "console.log").stat().st_size > 0 for run_dir in found)
    assert "update" not in result.output  # run consoles went to console.log, not here
    # not a terminal: a timestamped line per start and end instead of the live table
    assert len(re.findall(r"\d\d:\d\d:\d\d  run \d/8 started: summarization", result.output)) == 8
    assert len(re.findall(r"run \d/8 done in \d+ min: summarization · ", result.output)) == 8

    written = {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file()}
    again = CliRunner().invoke(app, ["sweep", str(spec_path), "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "8 runs: 0 done, 0 failed, 8 skipped" in again.output
    assert again.output.count("│ skipped (done") == 8  # skipped (done already)
    unchanged = {path: path.stat().st_mtime_ns for path in written if path.name != "selection.json"}
    assert unchanged == {path: t for path, t in written.items() if path.name != "selection.json"}


@pytest.mark.slow
def test_extend_edges_adds_one_trial_per_algorithm_beyond_its_edge_winner_before_reporting(
    tiny_policy, tmp_path
):
    spec = {**SPEC, "seeds": [0], "tune": {**SPEC["tune"], "extend_edges": 1}}
    spec_path, out = tmp_path / "spec.yaml", tmp_path / "out"
    spec_path.write_text(yaml.safe_dump(spec))
    result = CliRunner().invoke(app, ["sweep", str(spec_path), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "8 runs: 8 done, 0 failed, 0 skipped" in result.output  # 2 × (2 + 1 trials + 1 report)

    found = results(out)
    selection = json.loads((out / "selection.json").read_text())
    assert selection["extend_edges"] == 1
    # a two-value grid is a log scale: beyond the top, × the ratio; beyond the bottom, ÷ it
    beyond = {
        "reinforce": {1.0e-3: 3.33e-4, 3.0e-3: 9.0e-3},
        "ppo": {1.0e-3: 5.0e-4, 2.0e-3: 4.0e-3},
    }
    for algo, entry in selection["tasks"]["summarization"].items():
        grid, (extra,) = entry["trials"][:2], entry["trials"][2:]
        assert [t["extension"] for t in entry["trials"]] == [0, 0, 1]
        scores = [t["score"] for t in grid]
        edge = grid[scores.index(max(scores))]["settings"]["lr"]  # two values: always an edge
        assert extra["settings"] == {"lr": beyond[algo][edge]}
        (run_dir,) = extra["run_dirs"]
        assert found[out / run_dir]["role"] == "tune"
        assert extra["score"] == found[out / run_dir]["eval_after"]["val"]["eval/reward"]
        scores.append(extra["score"])
        winner = entry["trials"][scores.index(max(scores))]["settings"]
        assert entry["winner"] == winner
        (report,) = [r for r in found.values() if r["algo"] == algo and r["role"] == "report"]
        assert report["config"]["algo_config"]["lr"] == winner["lr"]
    edges = [line for line in result.output.splitlines() if line.startswith("edge ")]
    assert all("of its grid and 1 extra trial (the" in line for line in edges)

    again = CliRunner().invoke(app, ["sweep", str(spec_path), "--out", str(out)])
    assert again.exit_code == 0 and "8 runs: 0 done, 0 failed, 8 skipped" in again.output
