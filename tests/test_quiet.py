"""A default `bench run` prints no warning: FutureWarning, UserWarning and DeprecationWarning are
errors in the process, and its stderr must not mention one."""

import subprocess
import sys

FAST = [
    "prompts_per_update=2",
    "rollout.samples_per_prompt=2",
    "eval.prompts=2",
    "task.max_source_words=40",
    "task.max_new_tokens=12",
]
STRICT = [f"-Werror::{kind}" for kind in ("FutureWarning", "UserWarning", "DeprecationWarning")]


def test_a_default_run_prints_no_warning(bench_cache, tmp_path):
    command = [sys.executable, *STRICT, "-m", "harness.cli", "run", "summarization"]
    command += ["--algo", "reinforce", "--policy", "tiny", "--samples", "4", "--out", str(tmp_path)]
    for item in FAST:
        command += ["-o", item]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Warning" not in done.stderr, done.stderr[-3000:]
    assert "run dir" in done.stdout
