"""The GPU check's correctness phases: every algorithm, a rerun, a killed run resumed, Ray.

Every run is a real `bench run` of the `tiny` policy on summarization, on the check's device:
in this process through `harness.launch` (the CLI's own two calls), except the run that is
killed, which needs a process of its own (`python -m harness.cli run`, as tests/test_resume.py),
and the Ray sweep's, which runs in a Ray worker.
"""

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from gpu_check_report import TASK_OPTIONS, Check, Item, Phase
from rich.console import Console

from harness.api import registry
from harness.config.run_config import RunConfig
from harness.launch import build_config, run
from harness.run.checkpoint import CHECKPOINT
from harness.rundir.layout import run_dir_for

PRECISIONS = ("fp32", "bf16")
QUIET = Console(quiet=True)
ROOT = Path(__file__).resolve().parents[1]
K = 2  # completions per prompt in every tiny run (RLOO and the group estimators need 2)
RERUN_ALGO = "ppo"
RERUN_SETTINGS = ("rollout.advantage=gae", "rollout.kl_target=0.5")
"""the rerun and resume runs have a value head and an adaptive β, so that the checkpoint holds
more than weights and Adam's moments (as in tests/test_resume.py)"""
KILL_AT = "update:2"  # SIGKILL inside the 2nd update: the checkpoint of update 1 is the last one
VOLATILE_RESULT = ("peak_rss_mb", "env")  # memory and provenance differ between any two runs
VOLATILE_ROW = ("seconds", "eval/seconds")


def tiny_settings(check: Check, settings: tuple[str, ...] = ()) -> list[str]:
    """The `-o` settings of a tiny run sized by the check's scale (k = 2), then `settings`."""
    scale = check.scale
    return [
        *TASK_OPTIONS,
        f"task.max_new_tokens={scale.max_new_tokens}",
        f"prompts_per_update={scale.prompts_per_update}",
        f"rollout.samples_per_prompt={K}",
        f"eval.prompts={scale.eval_prompts}",
        "eval.every=0",
        "checkpoint.every=1",
        *settings,
    ]


def tiny_samples(check: Check, updates: int) -> int:
    """The sample budget of `updates` tiny updates."""
    return check.scale.prompts_per_update * K * updates


def tiny_config(
    check: Check, algo: str, out: Path, settings: tuple[str, ...] = (), updates: int | None = None
) -> RunConfig:
    """A tiny run of `algo` under `out` (the scale's updates unless given), on the device."""
    return build_config(
        "summarization",
        algo,
        policy="tiny",
        samples=tiny_samples(check, updates or check.scale.updates),
        seed=0,
        out=str(out),
        device=check.device,
        overrides=tiny_settings(check, settings),
    )


def read_result(run_dir: Path) -> dict[str, Any]:
    """A run directory's result.json."""
    return json.loads((run_dir / "result.json").read_text())


def trained(check: Check, algo: str, precision: str) -> Item:
    """Train one algorithm in one precision; ok when it completed with finite rewards."""
    config = tiny_config(check, algo, check.work / "algorithms", (f"precision={precision}",))
    result = read_result(run(config, QUIET))
    train = [row["train/reward"] for row in result["curve"] if "train/reward" in row]
    after = result["eval_after"]  # None when training stopped on a non-finite value
    test = after["test"]["eval/reward"] if after else math.nan
    finite = all(math.isfinite(value) for value in (*train, test))
    return {
        "ok": result["completed"] and finite,
        "stop_reason": result["stop_reason"],
        "updates": result["spent"]["updates"],
        "samples": result["spent"]["samples"],
        "train_reward": train[-1] if train else None,  # the supervised row has none
        "test_reward": test,
        "finite": finite,
        "device": result["env"]["device"],
        "train_s": round(result["spent"]["seconds"], 2),  # training only; wall_s: the whole run
    }


def algorithms(check: Check, phase: Phase) -> None:
    """Every registered algorithm and preset trains on `tiny` on the device, fp32 then bf16
    (or, quick, each once with the precisions alternating)."""
    names = list(registry.entries("algorithms"))
    if check.scale.every_precision:
        runs = [(algo, precision) for precision in PRECISIONS for algo in names]
    else:
        runs = [(algo, PRECISIONS[i % len(PRECISIONS)]) for i, algo in enumerate(names)]
    phase.plan(f"{algo}/{precision}" for algo, precision in runs)
    for algo, precision in runs:
        phase.item(f"{algo}/{precision}", lambda a=algo, p=precision: trained(check, a, p))


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts and lists as one {dotted.path: leaf} dict."""
    if isinstance(value, dict):
        pairs = value.items()
    elif isinstance(value, list):
        pairs = enumerate(value)
    else:
        return {prefix: value}
    return {k: v for key, item in pairs for k, v in flat(item, f"{prefix}{key}.").items()}


def stable_record(run_dir: Path) -> dict[str, Any]:
    """result.json and metrics.jsonl without what differs between any two runs (times, memory,
    provenance, the output folder), flattened."""
    result = read_result(run_dir)
    result["spent"].pop("seconds")
    result["config"].pop("out")
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    rows = [
        {k: v for k, v in row.items() if k not in VOLATILE_ROW and not k.startswith("time/")}
        for row in rows
    ]
    kept = {k: v for k, v in result.items() if k not in VOLATILE_RESULT}
    return flat({"result": kept, "metrics": rows})


def compared(first: Path, second: Path) -> Item:
    """How two runs of one config differ: identical, or how many values and by how much."""
    a, b = stable_record(first), stable_record(second)
    differing = sorted(key for key in a.keys() | b.keys() if a.get(key) != b.get(key))
    gaps = [
        abs(a[key] - b[key])
        for key in differing
        if isinstance(a.get(key), float | int) and isinstance(b.get(key), float | int)
    ]
    return {
        "identical": not differing,
        "values": len(a),
        "differing_values": len(differing),
        "max_abs_diff": max(gaps, default=0.0),
        "first_differing": differing[:5],
    }


def rerun_config(check: Check, out: Path) -> RunConfig:
    """The config the rerun and resume items repeat, under `out`."""
    return tiny_config(check, RERUN_ALGO, out, RERUN_SETTINGS, check.scale.rerun_updates)


def promised(check: Check, comparison: Item) -> bool:
    """Identical where the project promises it (DESIGN: same seed + config + CPU); on CUDA the
    item records how far apart the runs are instead."""
    return comparison["identical"] or check.device != "cpu"


def rerun(check: Check, first: Path, name: str) -> Item:
    """Run the rerun config again under `name` and compare it with `first`."""
    comparison = compared(first, run(rerun_config(check, check.work / name), QUIET))
    return {"ok": promised(check, comparison), **comparison}


def killed_run(check: Check, out: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """`bench run --resume` of the rerun config in a child process that SIGKILLs itself."""
    samples = tiny_samples(check, check.scale.rerun_updates)
    command = [
        sys.executable, "-m", "harness.cli", "run", "summarization", "--algo", RERUN_ALGO,
        "--policy", "tiny", "--samples", str(samples), "--seed", "0",
        "--device", check.device, "--out", str(out), "--resume",
    ]  # fmt: skip
    for setting in tiny_settings(check, RERUN_SETTINGS):
        command += ["-o", setting]
    env = {**os.environ, "BENCH_KILL_AT": KILL_AT}
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def resumed(check: Check, first: Path, timeout: float) -> Item:
    """Kill a run with SIGKILL during training, `--resume` it, compare it with `first`."""
    out = check.work / "resumed"
    child = killed_run(check, out, timeout)
    run_dir = run_dir_for(rerun_config(check, out))
    killed = child.returncode == -signal.SIGKILL
    checkpoint = (run_dir / CHECKPOINT).exists() and not (run_dir / "result.json").exists()
    if not (killed and checkpoint):
        tail = child.stderr.strip().splitlines()[-1:] or [f"exit code {child.returncode}"]
        return {"ok": False, "killed": killed, "checkpoint": checkpoint, "error": tail[0]}
    comparison = compared(first, run(rerun_config(check, out), QUIET, resume=True))
    return {"ok": promised(check, comparison), "killed": True, "checkpoint": True, **comparison}


@contextlib.contextmanager
def deterministic_torch() -> Iterator[list[warnings.WarningMessage]]:
    """torch's deterministic kernels (warn_only: an op without one warns instead of failing),
    cuDNN without autotuning; yields the warnings raised meanwhile. CUBLAS_WORKSPACE_CONFIG
    must be set before CUDA starts: gpu_check.py sets it."""
    cudnn = torch.backends.cudnn
    before = (cudnn.deterministic, cudnn.benchmark)
    torch.use_deterministic_algorithms(True, warn_only=True)
    cudnn.deterministic, cudnn.benchmark = True, False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield caught
    finally:
        torch.use_deterministic_algorithms(False)
        cudnn.deterministic, cudnn.benchmark = before


def deterministic_rerun(check: Check) -> Item:
    """The rerun config twice with torch's deterministic settings; the ops that have none."""
    with deterministic_torch() as caught:
        first = run(rerun_config(check, check.work / "deterministic-1"), QUIET)
        comparison = compared(
            first, run(rerun_config(check, check.work / "deterministic-2"), QUIET)
        )
    ops = sorted(
        {str(w.message).splitlines()[0][:160] for w in caught if "determinis" in str(w.message)}
    )
    return {"ok": promised(check, comparison), **comparison, "nondeterministic_ops": ops}


def reproducibility(check: Check, phase: Phase) -> None:
    """One config twice, then killed and resumed, then twice with deterministic kernels."""
    phase.plan(["rerun", "resume", "deterministic_rerun"])
    first = run(rerun_config(check, check.work / "first"), QUIET)
    phase.item("rerun", lambda: rerun(check, first, "second"))
    phase.item("resume", lambda: resumed(check, first, phase.left()))
    phase.item("deterministic_rerun", lambda: deterministic_rerun(check))


def ray_sweep(check: Check, phase: Phase) -> None:
    """A one-run sweep on a local Ray (one GPU per run on CUDA), if Ray is installed."""
    if not check.scale.ray:
        phase.skip("--quick: tests/test_sweep_ray.py runs the Ray executor")
        return
    try:
        import ray
    except ImportError as err:
        phase.skip(f"import ray failed: {err}")
        return
    phase.plan(["sweep"])
    phase.item("sweep", lambda: swept(check, ray.__version__))


def swept(check: Check, version: str) -> Item:
    """Run the sweep; ok when its one run completed on the check's device."""
    from harness.sweep.executor import ExecutorOptions
    from harness.sweep.orchestration import run_sweep
    from harness.sweep.plan import plan_sweep
    from harness.sweep.spec import parse_spec

    spec = {
        "tasks": ["summarization"],
        "algos": ["reinforce"],
        "policy": "tiny",
        "budget": {"samples": tiny_samples(check, check.scale.updates)},
        "overrides": dict(setting.split("=", 1) for setting in tiny_settings(check)),
        "device": check.device,
    }
    plan = plan_sweep(parse_spec(spec, str(check.work / "ray")))
    outcome = run_sweep(plan, ExecutorOptions("ray", workers=1), QUIET)
    (entry,) = outcome.entries
    result = read_result(run_dir_for(entry.config))
    return {
        "ok": not outcome.failed and result["completed"],
        "ray": version,
        "state": entry.state,
        "device": result["env"]["device"],
        "device_name": result["env"]["device_name"],
    }
