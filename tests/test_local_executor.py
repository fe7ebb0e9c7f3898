"""The local executor's workers fork from a server that has imported torch, transformers and the
runner: importing those must not touch CUDA (a forked child could not use it), and each worker
must see the sweep's environment as it is when the pool is made, not the server's."""

import os
import subprocess
import sys

from harness.sweep.local_executor import PRELOADED, LocalExecutor

WATCH_CUDA = """
import importlib, torch
calls = []
for name in ("is_available", "device_count", "init", "_lazy_init", "current_device"):
    setattr(torch.cuda, name, lambda *a, _name=name, **k: calls.append(_name))
for module in {modules!r}:
    importlib.import_module(module)
print(calls)
"""


def test_importing_the_preloaded_modules_calls_no_cuda_function():
    code = WATCH_CUDA.format(modules=list(PRELOADED))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_worker_sees_the_environment_of_when_its_pool_was_made(monkeypatch):
    monkeypatch.delenv("BENCH_EXECUTOR_PROBE", raising=False)
    before = LocalExecutor(1)  # starts the forkserver, if no earlier test did, without the probe
    try:
        assert before.pool.submit(os.getenv, "BENCH_EXECUTOR_PROBE").result(timeout=120) is None
    finally:
        before.close(cancel=False)
    monkeypatch.setenv("BENCH_EXECUTOR_PROBE", "set after the server started")
    after = LocalExecutor(1)
    try:
        found = after.pool.submit(os.getenv, "BENCH_EXECUTOR_PROBE").result(timeout=120)
    finally:
        after.close(cancel=False)
    assert found == "set after the server started"
