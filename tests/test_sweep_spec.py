"""`bench sweep` refuses a bad spec in one line (exit 2) and then runs and writes nothing."""

import re
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from harness.api.errors import BenchError
from harness.cli import app

GOOD = {
    "tasks": ["summarization"],
    "algos": ["reinforce", "ppo"],
    "seeds": [0, 1],
    "policy": "tiny",
    "budget": {"samples": 8},
    "tune": {
        "seeds": [100],
        "grid": {"reinforce": {"lr": [1.0e-3, 3.0e-3]}, "ppo": {"lr": [1.0e-3, 2.0e-3]}},
    },
}


def sweep(tmp_path, spec: dict, *args: str):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), *args])
    return result, out


def changed(**edits) -> dict:
    spec = {**GOOD, **edits}
    return {key: value for key, value in spec.items() if value is not None}


def tune(**edits) -> dict:
    return {**GOOD["tune"], **edits}


BAD = {
    "unknown key": (
        changed(algo=["ppo"]),
        ["unknown sweep key 'algo'", "did you mean 'algos'?"],
    ),
    "unknown tune key": (
        changed(tune=tune(grids={})),
        ["unknown tune key 'grids'", "did you mean 'grid'?"],
    ),
    "unknown algo": (
        changed(algos=["reinforce", "ppp"], tune=None),
        ["unknown algorithm 'ppp'", "did you mean 'ppo'?", "trpo"],
    ),
    "grid of an algo not swept": (
        changed(tune=tune(grid={"trpo": {"max_kl": [0.1]}})),
        ["unknown algorithm in tune.grid 'trpo'", "reinforce"],
    ),
    "unequal grids": (
        changed(tune=tune(grid={"reinforce": {"lr": [1e-3, 2e-3]}, "ppo": {"lr": [1e-3]}})),
        ["unequal numbers of tuning trials (reinforce: 2, ppo: 1)", "allow_unequal: true"],
    ),
    "overlapping seeds": (
        changed(tune=tune(seeds=[1, 100])),
        ["tune.seeds and seeds overlap (1)"],
    ),
    "non-algo grid key": (
        changed(tune=tune(grid={"reinforce": {"rollout.kl_coef": [0.0, 0.1]}, "ppo": {}})),
        ["tune.grid.reinforce.rollout.kl_coef is not an algorithm option", "lr"],
    ),
    "unknown grid option": (
        changed(tune=tune(grid={"reinforce": {"lrr": [1e-3]}, "ppo": {"lr": [1e-3]}})),
        ["unknown reinforce option in tune.grid.reinforce 'lrr'", "did you mean 'lr'?"],
    ),
    "bad budget key": (
        changed(budget={"sampels": 8}),
        ["unknown option 'budget.sampels'", "did you mean 'budget.samples'?"],
    ),
    "bad value": (
        changed(overrides={"rollout.temperature": 0}),
        ["rollout.temperature must be > 0"],
    ),
    "seed in overrides": (
        changed(overrides={"seed": 3}),
        ["overrides may not set 'seed'"],
    ),
    "bad seeds": (changed(seeds=["a"]), ["seeds must be a non-empty list of integers"]),
    "bad threads": (changed(threads=0), ["threads must be an integer ≥ 1, got 0"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_spec_is_one_line_exit_2_and_nothing_is_written(tmp_path, case):
    spec, fragments = BAD[case]
    result, out = sweep(tmp_path, spec)
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert len(message.splitlines()) == 1 and message.startswith("error:"), message
    for fragment in fragments:
        assert fragment in message, message
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--executor", "slurm"], "unknown executor 'slurm'"),
        (["--address", "ray://head:10001"], "use it with --executor ray"),
        (["--workers", "0"], "--workers must be ≥ 1"),
        (["--device", "cuda:7"], "device 'cuda:7' is not available"),  # replaces the spec's
    ],
)
def test_bad_executor_settings_are_one_line_exit_2(tmp_path, args, fragment):
    result, out = sweep(tmp_path, GOOD, *args)
    assert result.exit_code == 2 and fragment in result.output, result.output
    assert not out.exists()


def test_the_ray_executor_without_ray_names_the_install_command(tmp_path, monkeypatch):
    from harness.sweep.ray_executor import check_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(BenchError, match=re.escape('needs Ray: pip install "rl-lm-bench[ray]"')):
        check_ray()
    result, out = sweep(tmp_path, GOOD, "--executor", "ray")
    assert result.exit_code == 2 and "the ray executor needs Ray: pip install" in result.output
    assert not out.exists()


def test_unequal_grids_are_allowed_when_asked_and_the_dry_run_lists_every_run(tmp_path):
    grid = {"reinforce": {"lr": [1e-3, 2e-3], "max_grad_norm": [0.5, 1.0]}, "ppo": {"lr": [1e-3]}}
    spec = changed(tune=tune(grid=grid), allow_unequal=True)
    result, out = sweep(tmp_path, spec, "--dry-run")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "summarization" in line]
    tuning = [row for row in rows if " tune " in row]
    assert len(tuning) == 5 and len(rows) == 5 + 4
    assert "lr=0.001, max_grad_norm=0.5" in tuning[0] and "lr=0.002, max_grad_norm=1.0" in tuning[3]
    assert sum("winner of 4 trials" in row for row in rows) == 2
    assert sum("winner of 1 trials" in row for row in rows) == 2
    assert "9 runs: 5 tuning trials, 4 report runs" in result.output
    assert not out.exists()


def test_a_missing_spec_file_is_one_line(tmp_path):
    result = CliRunner().invoke(app, ["sweep", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "cannot read sweep spec" in result.output


SUITES = sorted((Path(__file__).resolve().parents[1] / "suites").glob("*.yaml"))


@pytest.mark.parametrize("suite", SUITES, ids=[path.stem for path in SUITES])
def test_every_committed_suite_passes_its_dry_run_and_writes_nothing(tmp_path, suite):
    import torch

    args = ["sweep", str(suite), "--out", str(tmp_path / "out"), "--dry-run"]
    if "device: cuda" in suite.read_text() and not torch.cuda.is_available():
        args += ["--device", "cpu"]  # every other setting is checked here; the GPU on its machine
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "dry run: nothing was run or written" in result.output
    assert list(tmp_path.iterdir()) == []
