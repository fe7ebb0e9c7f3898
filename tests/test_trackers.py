"""`bench run --log tensorboard`: the event files hold metrics.jsonl, the config and the samples.

Read back with TensorBoard's own reader; a resumed run's files still match metrics.jsonl point
for point, and logging changes neither the results nor the run directory's name.
"""

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.launch import build_config
from harness.rundir.layout import run_dir_for

pytest.importorskip("tensorboard")  # in the `test` extra: skipped only outside CI

FAST = [
    "-o",
    "prompts_per_update=2",
    "-o",
    "rollout.samples_per_prompt=4",
    "-o",
    "eval.prompts=4",
    "-o",
    "eval.every=2",
    "-o",
    "checkpoint.every=2",
    "-o",
    "task.max_source_words=40",
    "-o",
    "task.max_new_tokens=12",
    "-o",
    "lr=1e-3",
]
ARGS = ["summarization", "--algo", "reinforce", "--policy", "tiny", "--samples", "32", *FAST]
GROUPS = ("train", "val", "test", "val_greedy", "test_greedy")


def invoke(*args: str) -> Path:
    """`bench run ARGS...` in-process; the run directory it printed."""
    result = CliRunner().invoke(app, ["run", *args])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("run dir"))
    return Path(line.split(maxsplit=2)[2])


def rows_of(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def group_of(row: dict) -> str:
    if row["kind"] == "train":
        return "train"
    return row["split"] + ("_greedy" if row["decoding"] == "greedy" else "")


def accumulator(folder: Path):
    from tensorboard.backend.event_processing import event_accumulator as ea

    acc = ea.EventAccumulator(str(folder), size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
    acc.Reload()
    return acc


def assert_tensorboard_matches(run_dir: Path) -> None:
    """Every numeric key of every row is a tag of its group's run, point for point."""
    rows = rows_of(run_dir)
    folder = run_dir / "tensorboard"
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == sorted(GROUPS)
    for name in GROUPS:
        acc = accumulator(folder / name)
        mine = [row for row in rows if group_of(row) == name]
        expected: dict[str, list[tuple[int, float]]] = {}
        for row in mine:
            for key, value in row.items():
                numeric = isinstance(value, int | float) and not isinstance(value, bool)
                if numeric and key != "update":
                    expected.setdefault(key, []).append((row["update"], float(value)))
        assert "train/reward" in expected or "eval/reward" in expected
        assert "samples_seen" in expected
        assert set(acc.Tags()["scalars"]) == set(expected), name
        for tag, points in expected.items():
            got = [(event.step, event.value) for event in acc.Scalars(tag)]
            assert [step for step, _ in got] == [step for step, _ in points], (name, tag)
            for (_, value), (_, want) in zip(got, points, strict=True):
                assert value == pytest.approx(want, rel=1e-6, abs=1e-6), (name, tag)
        if name != "train":  # one samples table per evaluation, at its update
            texts = acc.Tensors("samples/text_summary")
            assert [t.step for t in texts] == [row["update"] for row in mine]
            table = texts[-1].tensor_proto.string_val[0].decode()
            label, split = mine[-1]["label"], mine[-1]["split"]
            stem = f"eval_{label}_{split}" + ("_greedy" if name.endswith("_greedy") else "")
            first = json.loads((run_dir / "samples" / f"{stem}.jsonl").read_text().splitlines()[0])
            assert f"**{label}**" in table and f"| {first['id']} |" in table
    root = accumulator(folder)
    config = root.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert json.loads(config) == json.loads((run_dir / "config.json").read_text())
    assert root.SummaryMetadata("_hparams_/session_start_info").plugin_data.plugin_name == "hparams"


def test_tensorboard_mirrors_metrics_also_after_resume(bench_cache, tmp_path, monkeypatch):
    from harness.run import runner

    real_step, calls = runner.train_step, []

    def step_then_interrupt(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # update 3 is logged after the checkpoint at 2, then Ctrl-C
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    out = str(tmp_path / "runs")
    with monkeypatch.context() as patch:
        patch.setattr(runner, "train_step", step_then_interrupt)
        run_dir = invoke(*ARGS, "--out", out, "--log", "tensorboard")
    assert json.loads((run_dir / "result.json").read_text())["stop_reason"] == "interrupted"
    assert [r["update"] for r in rows_of(run_dir) if r["kind"] == "train"] == [1, 2, 3]
    assert_tensorboard_matches(run_dir)

    assert invoke(*ARGS, "--out", out, "--log", "tensorboard", "--resume") == run_dir
    assert [r["update"] for r in rows_of(run_dir) if r["kind"] == "train"] == [1, 2, 3, 4]
    assert_tensorboard_matches(run_dir)  # update 3 of the first attempt is not there twice

    plain = invoke(*ARGS, "--out", out)  # same results and directory name without a tracker
    assert plain.name == f"{run_dir.name}-2" and not (plain / "tensorboard").exists()
    volatile = ("seconds", "eval/seconds")
    stable = [
        [{k: v for k, v in r.items() if k not in volatile and not k.startswith("time/")} for r in x]
        for x in (rows_of(run_dir), rows_of(plain))
    ]
    assert stable[0] == stable[1]


def test_log_is_a_top_level_option_that_keeps_the_run_directory(bench_cache, tmp_path):
    settings = {"policy": "tiny", "out": str(tmp_path)}
    plain = build_config("summarization", "reinforce", **settings)
    logged = build_config("summarization", "reinforce", **settings, overrides=["log=tensorboard"])
    assert logged.log == "tensorboard" and plain.log == ""
    assert run_dir_for(logged) == run_dir_for(plain)


def bench_fails(*args: str) -> str:
    """`bench run` that must fail with one line (exit 2); its output."""
    result = CliRunner().invoke(app, ["run", "summarization", "--algo", "reinforce", *args])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    return result.output


def test_an_unknown_tracker_fails_before_anything_is_written(bench_cache, tmp_path):
    out = tmp_path / "runs"
    output = bench_fails("--policy", "tiny", "--out", str(out), "--log", "tensorbord")
    assert "unknown tracker 'tensorbord'; did you mean 'tensorboard'?" in output
    assert "tensorboard, wandb" in output and not out.exists()
    output = bench_fails("--policy", "tiny", "--out", str(out), "-o", "log=tensorboard,mlflow")
    assert "unknown tracker 'mlflow'" in output and not out.exists()


@pytest.mark.parametrize("name", ["tensorboard", "wandb"])
def test_a_missing_tracker_package_names_the_install_command(
    bench_cache, tmp_path, monkeypatch, name
):
    monkeypatch.setitem(sys.modules, name, None)  # `import name` now raises ImportError
    out = tmp_path / "runs"
    output = bench_fails("--policy", "tiny", "--out", str(out), "--log", name)
    assert f'pip install "rl-lm-bench[{name}]"' in output and not out.exists()
