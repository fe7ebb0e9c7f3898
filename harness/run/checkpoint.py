"""Checkpoints: everything a run needs to continue exactly as if it had never stopped.

One file, `checkpoint.pt` in the run directory, written atomically (temporary file, fsync,
rename), so a kill during the write leaves the previous checkpoint whole. It holds the policy
(with its value head), the algorithm's state (e.g. Adam's moments), every RNG state the run
draws from, the KL controller's β, the estimator's state (the EMA baseline), the budget
counters, how many training prompts were drawn, the size of metrics.jsonl at that moment (a
resumed run truncates it there, which also repairs a torn last line), the val curve and the
start evaluation the held-out gain is computed against. It loads with
`torch.load(weights_only=True)`: tensors and plain data, no pickled objects.
"""

import json
import os
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.api.errors import BenchError
from harness.loop.budget import Spent
from harness.loop.setup import Setup
from harness.run.eval_schedule import FullEval
from harness.rundir.faults import kill_point

CHECKPOINT = "checkpoint.pt"
FORMAT = 1


@dataclass
class Loop:
    """What the training loop carries from one update to the next."""

    spent: Spent
    before: FullEval
    algo_state: Any
    prompts_drawn: int = 0


def save_checkpoint(setup: Setup, loop: Loop) -> None:
    """Write the run's complete state to `checkpoint.pt`, replacing the previous one atomically."""
    metrics = setup.run_dir / "metrics.jsonl"
    progress = {
        "spent": asdict(loop.spent),
        "prompts_drawn": loop.prompts_drawn,
        "kl_coef": setup.kl_control.coef,
        "ema_baseline": setup.estimator.ema_baseline,
        "eval_curve": setup.eval_curve,
        "metrics_offset": metrics.stat().st_size if metrics.exists() else 0,
        "before": loop.before.to_json(),
        "python_rng": random.getstate(),
        "numpy_rng": numpy_state(),
    }
    state = {
        "format": FORMAT,
        "model": setup.policy.model.state_dict(),
        "algo_state": algo_state_dict(setup.config.algo, loop.algo_state),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "progress": json.dumps(progress),
    }
    path = setup.run_dir / CHECKPOINT
    tmp = path.with_name(f".{CHECKPOINT}.{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        torch.save(state, handle)
        handle.flush()
        kill_point("checkpoint")
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    sync_directory(path.parent)


def load_checkpoint(run_dir: Path, device: str) -> dict[str, Any] | None:
    """The saved state of a run (None if it has none); leftovers of a torn write are removed."""
    for leftover in run_dir.glob(f".{CHECKPOINT}.*.tmp"):
        leftover.unlink(missing_ok=True)
    path = run_dir / CHECKPOINT
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # a checkpoint we cannot read must not be silently ignored
        raise BenchError(f"cannot read checkpoint '{path}': {err}".replace("\n", " ")) from err
    if state.get("format") != FORMAT:
        raise BenchError(f"checkpoint '{path}' has format {state.get('format')!r}, not {FORMAT}")
    return state


def restore(setup: Setup, state: dict[str, Any], algo_state: Any) -> Loop:
    """Put a run back into its saved state; return the loop's counters and start evaluation.

    Call after everything that draws random numbers at start-up (loading, seeding, value head,
    the algorithm's init): the RNG states are restored last.
    """
    progress = json.loads(state["progress"])
    setup.policy.model.load_state_dict(state["model"])
    if algo_state is not None:
        if state["algo_state"] is None:
            raise BenchError(
                f"checkpoint in '{setup.run_dir}' has no state for {setup.config.algo}"
            )
        algo_state.load_state_dict(state["algo_state"])
    setup.kl_control.coef = progress["kl_coef"]
    setup.estimator.ema_baseline = progress["ema_baseline"]
    setup.eval_curve[:] = progress["eval_curve"]
    truncate(setup.run_dir / "metrics.jsonl", progress["metrics_offset"])
    before = FullEval.from_json(progress["before"])
    version, internal, gauss = progress["python_rng"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, position, has_gauss, cached = progress["numpy_rng"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), position, has_gauss, cached))
    torch.set_rng_state(state["torch_rng"].cpu())
    if state["cuda_rng"]:
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
    return Loop(Spent(**progress["spent"]), before, algo_state, progress["prompts_drawn"])


def algo_state_dict(algo: str, algo_state: Any) -> dict[str, Any] | None:
    """The algorithm's state as a state dict: None, or anything with `state_dict()`."""
    if algo_state is None:
        return None
    if not hasattr(algo_state, "state_dict"):
        raise BenchError(
            f"algorithm {algo}'s state ({type(algo_state).__name__}) has no state_dict(), so "
            "its runs cannot be checkpointed; return None or an object with state_dict() and "
            "load_state_dict() from init"
        )
    return algo_state.state_dict()


def remove_checkpoint(run_dir: Path) -> None:
    """Delete the run's checkpoint (a completed run needs none unless it was asked to keep it)."""
    (run_dir / CHECKPOINT).unlink(missing_ok=True)


def numpy_state() -> list[Any]:
    """NumPy's global RNG state as plain JSON values."""
    name, keys, position, has_gauss, cached = np.random.get_state()
    return [name, keys.tolist(), int(position), int(has_gauss), float(cached)]


def truncate(path: Path, size: int) -> None:
    """Cut a file back to `size` bytes (what it held at the checkpoint)."""
    if not path.exists() and size == 0:
        return
    if not path.exists() or path.stat().st_size < size:
        raise BenchError(f"'{path}' is shorter than its checkpoint expects ({size} bytes)")
    with path.open("r+b") as handle:
        handle.truncate(size)
        handle.flush()
        os.fsync(handle.fileno())


def sync_directory(path: Path) -> None:
    """fsync a directory so a rename inside it survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
