"""benchmarks/gpu_check.py, the GPU check, run for real with `--device cpu --quick`.

The device's run is the same script on the same code path, with bigger sizes: this test keeps
it from rotting between the rare sessions that have a GPU. The time box and the per-item error
records are checked on their own below, since a healthy run never reaches them.
"""

import importlib
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import torch

from harness.api import registry

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
PROBE = "gpucheckprobe"


def probe_wheel(folder: Path) -> Path:
    """A one-module wheel, so that the install phase runs pip as on the device."""
    path = folder / f"{PROBE}-0.1-py3-none-any.whl"
    info = f"{PROBE}-0.1.dist-info"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{PROBE}/__init__.py", "")
        wheel.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {PROBE}\nVersion: 0.1\n")
        wheel.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        wheel.writestr(f"{info}/RECORD", "")
    return path


@pytest.fixture(scope="module")
def quick_check(tiny_policy, tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict]:
    """The quick CPU check's exit status and report (tiny is cached first, as on the device)."""
    folder = tmp_path_factory.mktemp("gpu-check")
    wheelhouse = folder / "wheelhouse"
    wheelhouse.mkdir()
    probe_wheel(wheelhouse)
    out = folder / "r.json"
    command = [sys.executable, str(BENCHMARKS / "gpu_check.py"), "--device", "cpu", "--quick"]
    command += ["--out", str(out), "--wheelhouse", str(wheelhouse), "--site", str(folder / "site")]
    command += ["--budget", "1200"]  # the GPU's 5 minutes are no limit here: the phases' boxes are
    # one torch thread: tiny's small matmuls gain nothing from a second, and on a busy machine
    # a second thread's spin-waiting made the check several times slower
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    return done, json.loads(out.read_text())


@pytest.mark.slow
def test_the_quick_check_passes_and_writes_every_phase(quick_check):
    done, report = quick_check
    assert done.returncode == 0, (done.stderr[-2000:], json.dumps(report, indent=1)[-3000:])
    assert report["status"] == "ok"
    assert list(report["phases"]) == ["install", "algorithms", "reproducibility", "speed", "ray"]
    assert all(phase["seconds"] <= phase["limit_s"] for phase in report["phases"].values())
    assert report["meta"]["device"] == "cpu" and report["meta"]["quick"] is True


@pytest.mark.slow
def test_the_install_phase_installs_the_wheels_and_checks_the_requirements(quick_check):
    _, report = quick_check
    items = report["phases"]["install"]["items"]
    assert items["wheels"]["wheels"] == [f"{PROBE}-0.1-py3-none-any.whl"]
    assert (Path(items["wheels"]["site"]) / PROBE / "__init__.py").exists()
    assert items["requirements"]["unmet_needed"] == []
    assert items["requirements"]["packages"]["torch"]["found"] == torch.__version__
    assert items["environment"]["torch"] == torch.__version__
    assert items["environment"]["gpu"] is None


@pytest.mark.slow
def test_every_algorithm_trains_once_in_one_of_both_precisions(quick_check):
    _, report = quick_check
    items = report["phases"]["algorithms"]["items"]
    algos = list(registry.entries("algorithms"))
    assert [name.split("/")[0] for name in items] == algos
    assert {name.split("/")[1] for name in items} == {"fp32", "bf16"}
    for name, item in items.items():
        assert item["ok"] and item["stop_reason"] == "samples" and item["updates"] == 1
        assert item["samples"] == 4 and item["device"] == "cpu"
        assert 0.0 <= item["test_reward"] <= 1.0  # ROUGE-L, finite
        if name.startswith("supervised/"):  # trains on references: no reward while training
            assert item["train_reward"] is None
        else:
            assert 0.0 <= item["train_reward"] <= 1.0


@pytest.mark.slow
def test_reruns_and_a_killed_run_resumed_are_identical_on_cpu(quick_check):
    _, report = quick_check
    items = report["phases"]["reproducibility"]["items"]
    assert items["resume"]["killed"] and items["resume"]["checkpoint"]
    for name in ("rerun", "resume", "deterministic_rerun"):
        assert items[name]["identical"], items[name]
        assert items[name]["differing_values"] == 0 and items[name]["values"] > 100
    assert items["deterministic_rerun"]["nondeterministic_ops"] == []


@pytest.mark.slow
def test_speed_times_full_length_completions_phase_by_phase(quick_check):
    _, report = quick_check
    phase = report["phases"]["speed"]
    assert phase["policy"]["parameters"] > 0
    names = [f"{algo}/fp32/x{scale}" for scale in (1, 4) for algo in ("reinforce", "ppo", "trpo")]
    assert list(phase["items"]) == names
    for name, item in phase["items"].items():
        assert item["tokens/completion"] == 4.0  # never an EOS: every completion is full
        assert item["completions"] == (2 if name.endswith("x1") else 8)  # 1 or 4 prompts × 2
        parts = [item[key] for key in ("generate", "reward", "logprobs", "update")]
        assert all(part > 0 for part in parts) and sum(parts) <= item["s/update"]
        assert item["completions/s"] == pytest.approx(item["completions"] / item["s/update"])
        assert item["peak_gpu_gb"] is None


@pytest.mark.slow
def test_quick_leaves_ray_to_its_own_test(quick_check):
    _, report = quick_check
    assert report["phases"]["ray"]["status"] == "skipped"
    assert "test_sweep_ray" in report["phases"]["ray"]["skipped"]


@pytest.fixture
def report_module(monkeypatch):
    """benchmarks/gpu_check_report.py, imported from its folder (benchmarks is no package)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("gpu_check_report")


def test_a_phase_past_its_time_box_keeps_what_finished(report_module, tmp_path):
    report = report_module.Report(tmp_path / "r.json", {})

    def body(phase) -> None:
        phase.plan(["fast", "slow", "never"])
        phase.item("fast", lambda: {"ok": True})
        phase.item("slow", lambda: time.sleep(30) or {"ok": True})

    started = time.monotonic()
    report.run_phase("boxed", 0.5, body)
    assert time.monotonic() - started < 5
    assert not report.close()
    record = json.loads((tmp_path / "r.json").read_text())["phases"]["boxed"]
    assert record["status"] == "timeout"
    assert record["items"]["fast"]["ok"] is True
    assert record["items"]["slow"] == {"ok": False, "skipped": "timeout"}
    assert record["items"]["never"] == {"ok": False, "skipped": "timeout"}


def test_an_item_error_is_its_last_line_and_the_phase_goes_on(report_module, tmp_path):
    report = report_module.Report(tmp_path / "r.json", {})

    def body(phase) -> None:
        phase.item("bad", lambda: {"ok": 1 / 0})
        phase.item("good", lambda: {"ok": True})

    report.run_phase("errors", 10, body)
    report.run_phase("broken", 10, lambda phase: [][0])
    phases = json.loads((tmp_path / "r.json").read_text())["phases"]
    bad = phases["errors"]["items"]["bad"]
    assert bad["error"] == "ZeroDivisionError: division by zero"
    assert bad["where"].startswith(__file__)
    assert phases["errors"]["items"]["good"]["ok"] is True
    assert phases["errors"]["status"] == "failed"
    assert phases["broken"]["status"] == "error"
    assert phases["broken"]["error"] == "IndexError: list index out of range"
