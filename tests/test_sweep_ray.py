"""`bench sweep --executor ray` for real: a local Ray runs each run as a task (no mocks)."""

import json

import pytest
import yaml
from test_sweep import TINY
from typer.testing import CliRunner

from harness.cli import app

pytest.importorskip("ray", reason='the Ray executor test needs pip install "rl-lm-bench[ray]"')

SPEC = {
    "tasks": ["summarization"],
    "algos": ["reinforce", "ppo"],
    "seeds": [0, 1],
    "policy": "tiny",
    "budget": {"samples": 8},
    "overrides": TINY,
}


@pytest.mark.slow
def test_a_two_algorithm_two_seed_sweep_runs_on_a_local_ray(tiny_policy, tmp_path):
    spec_path, out = tmp_path / "spec.yaml", tmp_path / "out"
    spec_path.write_text(yaml.safe_dump(SPEC))
    result = CliRunner().invoke(
        app, ["sweep", str(spec_path), "--out", str(out), "--executor", "ray", "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "4 runs: 4 done, 0 failed, 0 skipped" in result.output
    assert not (out / "selection.json").exists()  # no tune section: no selection
    found = [
        json.loads(path.read_text())
        for algo in ("reinforce", "ppo")
        for path in sorted((out / "summarization" / algo).glob("seed*/result.json"))
    ]
    assert [(r["algo"], r["seed"], r["role"], r["stop_reason"]) for r in found] == [
        (algo, seed, "report", "samples") for algo in ("reinforce", "ppo") for seed in (0, 1)
    ]
    assert {r["env"]["torch_threads"] for r in found} == {1}  # num_cpus = 2 CPUs // 2 workers
