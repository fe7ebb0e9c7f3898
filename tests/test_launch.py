"""The Python API and `bench run` take one path: `build_config` resolves, `launch.run` resolves
again (a no-op on a resolved config) and hands the same RunConfig to the runner."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import launch
from harness.cli import app
from harness.config.run_config import RunConfig
from harness.launch import build_config, resolve


def replayed(tmp_path: Path, data: dict[str, object], **flags: object) -> RunConfig:
    """build_config of a config.json holding `data` (a run directory's, or a hand-written one)."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return build_config(config_file=path, **flags)  # type: ignore[arg-type]


def preset_with_overrides(tmp_path: Path) -> RunConfig:
    """grpo pins its estimator and KL; -o changes one of them and an algo and a task option."""
    overrides = ["lr=1e-3", "rollout.kl_coef=0.1", "task.max_source_words=40"]
    return build_config("summarization", "grpo", policy="tiny", samples=64, overrides=overrides)


def full_replay(tmp_path: Path) -> RunConfig:
    """A run directory's config.json (fully resolved) replayed with a new seed."""
    ran = build_config("translation", "ppo", policy="tiny", overrides=["algo.clip_eps=0.1"])
    return replayed(tmp_path, ran.to_dict(), seed=3)


def partial_replay(tmp_path: Path) -> RunConfig:
    """A hand-written config.json naming a task file's task and one algo option only."""
    data = {"task": "capitals", "algo": "dapo", "policy": "tiny", "algo_config": {"lr": 1e-4}}
    return replayed(tmp_path, data)


@pytest.mark.parametrize("make", [preset_with_overrides, full_replay, partial_replay])
def test_resolving_a_resolved_config_changes_nothing(make, tmp_path: Path) -> None:
    config = make(tmp_path)
    again = resolve(config)
    assert again == config and resolve(again) == again
    # config.json is written from to_dict(): the same keys in the same order, byte for byte
    assert json.dumps(again.to_dict()) == json.dumps(config.to_dict())


def test_bench_run_goes_through_launch_run(monkeypatch, tmp_path: Path) -> None:
    """`bench run` calls launch.run, which hands the runner what build_config made."""
    given: list[tuple[RunConfig, bool, bool]] = []
    calls: list[RunConfig] = []
    real_run = launch.run

    def fake_execute(config: RunConfig, console: object, resume: bool, export: bool) -> Path:
        given.append((config, resume, export))
        return tmp_path / "run"

    def spy_run(config: RunConfig, *args: object, **kwargs: bool) -> Path:
        calls.append(config)
        return real_run(config, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("harness.run.runner.execute", fake_execute)
    monkeypatch.setattr(launch, "run", spy_run)
    out = str(tmp_path / "runs")
    args = ["--policy", "tiny", "--samples", "16", "--out", out, "-o", "lr=1e-3"]
    result = CliRunner().invoke(app, ["run", "summarization", "--algo", "grpo", *args, "--resume"])
    assert result.exit_code == 0, result.output
    expected = build_config(
        "summarization", "grpo", policy="tiny", samples=16, out=out, overrides=["lr=1e-3"]
    )
    assert calls == [expected]
    assert given == [(expected, True, False)]
