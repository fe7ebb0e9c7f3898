"""A throw-away plugin package registers a task through the `bench.tasks` entry point."""

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app

MODULE = '''"""A plugin task: repeat a colour name."""
from harness.api.task import Example, Generation, TaskSpec
from tasks.rewards.lexical import chrf, rouge_metrics

COLOURS = "red green blue yellow purple orange black white brown pink grey violet".split()


def echo_colours(max_new_tokens: int = 6) -> TaskSpec:
    """Repeat a colour name."""
    rows = [Example(f"c{i}", f"Say {c}:", (c,)) for i, c in enumerate(COLOURS * 3)]
    shares = {"train": rows[:28], "val": rows[28:32], "test": rows[32:]}
    return TaskSpec(
        name="echo-colours",
        version="0.1",
        description="repeat a colour name (plugin)",
        load_split=shares.__getitem__,
        reward=chrf(),
        score_metrics=rouge_metrics,
        generation=Generation(max_new_tokens=max_new_tokens),
    )
'''


def install_plugin(root: Path, module: str, source: str, group: str, entry: str) -> None:
    """What `pip install` leaves behind: `module`.py holding `source`, and a dist-info whose
    entry_points.txt registers `entry` (e.g. `tis = module:ALGORITHM`) in `group`."""
    root.mkdir()
    (root / f"{module}.py").write_text(source)
    dist = root / f"{module}-0.1.dist-info"
    dist.mkdir()
    name = module.replace("_", "-")
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{group}]\n{entry}\n")


def test_plugin_task_is_listed_and_runs(tmp_path, monkeypatch, bench_cache):
    entry = "echo-colours = bench_plugin_demo:echo_colours"
    install_plugin(tmp_path / "site", "bench_plugin_demo", MODULE, "bench.tasks", entry)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    listed = CliRunner().invoke(app, ["list"])
    assert "echo-colours" in listed.output and "plugin from bench-plugin-demo" in listed.output
    args = ["run", "echo-colours", "--algo", "reinforce", "--policy", "tiny", "--samples", "8"]
    args += ["--out", str(tmp_path / "runs"), "-o", "prompts_per_update=2", "-o", "eval.prompts=2"]
    args += ["-o", "rollout.samples_per_prompt=4", "-o", "task.max_new_tokens=4"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    run_dir = Path(result.output.split("run dir")[1].split()[0])
    outcome = json.loads((run_dir / "result.json").read_text())
    assert outcome["task"] == "echo-colours" and outcome["task_version"] == "0.1"
    assert outcome["spent"]["samples"] == 8 and "eval/rougeL" in outcome["eval_after"]["test"]
    sys.modules.pop("bench_plugin_demo", None)


def documented_algorithm() -> str:
    """The Python block of docs/development.md "Add an algorithm" (the example users copy)."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "development.md").read_text()
    section = page.split("## Add an algorithm", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def install_algorithm(root: Path, source: str) -> None:
    """`source` installed as the plugin module bench_tis_demo, its ALGORITHM registered as tis."""
    entry = "tis = bench_tis_demo:ALGORITHM"
    install_plugin(root, "bench_tis_demo", source, "bench.algorithms", entry)


def test_documented_algorithm_plugin_runs_end_to_end_and_has_the_reinforce_gradient(
    tmp_path, monkeypatch, bench_cache, tiny_policy
):
    import torch
    from test_algorithms import loss_gradient, on_policy_batch

    install_algorithm(tmp_path / "site", documented_algorithm())
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    args = ["run", "summarization", "--algo", "tis", "--policy", "tiny", "--samples", "16"]
    args += ["--out", str(tmp_path / "runs"), "-o", "prompts_per_update=2", "-o", "eval.prompts=2"]
    args += ["-o", "max_ratio=1.5", "-o", "task.max_new_tokens=6"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    run_dir = Path(result.output.split("run dir")[1].split()[0])
    outcome = json.loads((run_dir / "result.json").read_text())
    assert outcome["algo"] == "tis" and outcome["config"]["algo_config"]["max_ratio"] == 1.5
    assert outcome["spent"]["updates"] == 2 and outcome["stop_reason"] == "samples"
    batch = on_policy_batch(tiny_policy, token_level=False)
    for agg in ("seq-mean-token-sum", "token-mean"):
        reference = loss_gradient(tiny_policy.model, "reinforce", batch, agg)
        torch.testing.assert_close(loss_gradient(tiny_policy.model, "tis", batch, agg), reference)
    sys.modules.pop("bench_tis_demo", None)


def test_an_entry_point_that_is_not_an_algorithm_is_one_line(tmp_path, monkeypatch):
    install_algorithm(tmp_path / "site", "def ALGORITHM():\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    result = CliRunner().invoke(app, ["run", "summarization", "--algo", "tis"])
    assert result.exit_code == 2
    assert "algorithm 'tis' (bench_tis_demo:ALGORITHM) is a function, not a" in result.output
    assert result.output.count("\n") == 1
    sys.modules.pop("bench_tis_demo", None)
