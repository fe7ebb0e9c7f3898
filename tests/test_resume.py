"""Kill a run with SIGKILL at fixed points, resume it: the same metrics as an uninterrupted run.

The killed runs are real subprocesses (`bench run`), stopped by `BENCH_KILL_AT` (harness/run/
faults.py) during an update, during an evaluation and during a checkpoint write; each is
resumed with `--resume` and compared line by line with a run that was never interrupted.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.launch import build_config, run
from harness.run.checkpoint import CHECKPOINT
from harness.rundir.layout import run_dir_for

ARGS = [
    "summarization",
    "--algo",
    "ppo",
    "--policy",
    "tiny",
    "--samples",
    "24",
    "--seed",
    "3",
]
OVERRIDES = [
    "prompts_per_update=2",
    "rollout.samples_per_prompt=2",
    "eval.prompts=2",
    "eval.every=2",
    "checkpoint.every=2",
    "task.max_source_words=40",
    "task.max_new_tokens=8",
    "lr=1e-3",
    "rollout.advantage=gae",  # a value head in the checkpoint
    "rollout.kl_target=0.5",  # an adaptive β in the checkpoint
]
VOLATILE_KEYS = ("seconds", "eval/seconds")
VOLATILE_RESULT = ("peak_rss_mb", "env")


def config_for(out: Path):
    """The run config of ARGS + OVERRIDES under `out`."""
    return build_config(
        "summarization",
        "ppo",
        policy="tiny",
        samples=24,
        seed=3,
        out=str(out),
        overrides=OVERRIDES,
    )


def killed_run(out: Path, point: str) -> subprocess.CompletedProcess:
    """`bench run` in a subprocess that signals itself at `point` (e.g. "update:4")."""
    command = [sys.executable, "-m", "harness.cli", "run", *ARGS, "--out", str(out), "--resume"]
    for item in OVERRIDES:
        command += ["-o", item]
    env = {**os.environ, "BENCH_KILL_AT": point}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def stable_rows(run_dir: Path) -> list[dict]:
    """metrics.jsonl without times (the only lines a resumed run may change)."""
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [
        {k: v for k, v in row.items() if k not in VOLATILE_KEYS and not k.startswith("time/")}
        for row in rows
    ]


def stable_result(run_dir: Path) -> dict:
    """result.json without memory, provenance and seconds."""
    result = json.loads((run_dir / "result.json").read_text())
    result["spent"].pop("seconds")
    result["config"].pop("out")
    return {k: v for k, v in result.items() if k not in VOLATILE_RESULT}


@pytest.fixture(scope="module")
def uninterrupted(bench_cache, tmp_path_factory) -> Path:
    """The reference: the same run, never interrupted."""
    out = tmp_path_factory.mktemp("uninterrupted")
    return run(config_for(out), resume=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    "point",
    [
        "update:4",  # during update 4: the checkpoint of update 2 is the last one
        "eval:6",  # during the val evaluation at update 4 (the start evaluation makes 4)
        "checkpoint:3",  # during the write of update 4's checkpoint: update 2's stays whole
    ],
)
def test_a_killed_run_resumes_to_the_uninterrupted_metrics(uninterrupted, tmp_path, point):
    killed = killed_run(tmp_path, point)
    assert killed.returncode == -9, killed.stderr[-2000:]
    run_dir = run_dir_for(config_for(tmp_path))
    assert not (run_dir / "result.json").exists()
    assert (run_dir / CHECKPOINT).exists()
    with (run_dir / "metrics.jsonl").open("a") as handle:  # a torn last line, as a kill can leave
        handle.write('{"kind": "train", "upd')
    resumed = run(config_for(tmp_path), resume=True)
    assert resumed == run_dir
    assert stable_rows(resumed) == stable_rows(uninterrupted)
    assert stable_result(resumed) == stable_result(uninterrupted)
    assert not (run_dir / CHECKPOINT).exists()  # a completed run keeps none unless asked
    assert not list(run_dir.glob(f".{CHECKPOINT}.*"))  # nor the torn write's leftovers


@pytest.mark.slow
@pytest.mark.parametrize("how", ["INT", "TERM"])  # Ctrl-C; a scheduler's or kill's SIGTERM
def test_ctrl_c_finishes_the_update_checkpoints_and_resumes_exactly(uninterrupted, tmp_path, how):
    interrupted = killed_run(tmp_path, f"update:3:{how}")  # the signal arrives inside update 3
    assert interrupted.returncode == 0, interrupted.stderr[-2000:]
    run_dir = run_dir_for(config_for(tmp_path))
    result = json.loads((run_dir / "result.json").read_text())
    assert result["stop_reason"] == "interrupted" and result["spent"]["updates"] == 3
    assert (run_dir / CHECKPOINT).exists()
    resumed = run(config_for(tmp_path), resume=True)
    assert stable_rows(resumed) == stable_rows(uninterrupted)
    assert stable_result(resumed) == stable_result(uninterrupted)


def test_resuming_a_finished_run_changes_nothing(uninterrupted, capsys):
    before = (uninterrupted / "metrics.jsonl").read_text()
    again = run(config_for(uninterrupted.parents[2]), resume=True)
    assert again == uninterrupted
    assert (uninterrupted / "metrics.jsonl").read_text() == before
    assert "nothing to resume" in capsys.readouterr().out
