"""The GPU check's speed phase: a random-init policy of SmolLM2-135M's shape, timed per update.

The packaged SmolLM2-135M weights do not fit in what travels to the GPU machine, and speed does
not depend on the weights' values, so the policy is built from the model's config.json with
random weights. Its end-of-sequence token is one the model cannot produce (an id just past its
vocabulary), so every completion has the full length and every update does the same work.

Each measurement is benchmarks/throughput.py's `measure`: the runner's own `train_step`, one
warm-up update, then the median of the timed ones. On CUDA the step's timers first wait for the
GPU (`torch.cuda.synchronize()`), otherwise a phase's queued kernels would be charged to the
phase that happens to wait for them.
"""

import gc
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from gpu_check_report import TASK_KWARGS, Check, Item, Phase
from throughput import measure
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from harness.data.task_files import task_factory
from harness.launch import build_config
from harness.loop import dynamic_sampling as groups
from harness.loop import step
from harness.policies.policy import policy_folder

ALGORITHMS = ("reinforce", "ppo", "trpo")
PROMPT_SCALES = (1, 4)  # the default prompts per update, and 4× as many
NEVER = "<|never-sampled|>"  # the end-of-sequence token, past the end of the model's vocabulary


def random_policy(check: Check) -> tuple[Path, dict[str, Any]]:
    """Save a random-init policy of the speed model's shape (tiny's own without one) whose EOS
    can never be sampled; returns its folder and its shape."""
    source = check.speed_model or tiny_folder()
    if not (source / "config.json").is_file():
        raise FileNotFoundError(
            f"{source} has no config.json; build it with python benchmarks/gpu_wheelhouse.py"
        )
    tokenizer = AutoTokenizer.from_pretrained(source)
    config = AutoConfig.from_pretrained(source)
    tokenizer.add_tokens([NEVER], special_tokens=True)
    tokenizer.eos_token = NEVER
    assert tokenizer.eos_token_id >= config.vocab_size, "the EOS must lie past the LM head"
    config.eos_token_id = None  # an id past the vocabulary fails the config's own check
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.generation_config.eos_token_id = None  # sampling passes the tokenizer's
    folder = check.work / "speed-policy"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    shape = {
        "source": str(source),
        "parameters": sum(p.numel() for p in model.parameters()),
        "layers": config.num_hidden_layers,
        "hidden_size": config.hidden_size,
        "vocab_size": config.vocab_size,
    }
    return folder, shape


def tiny_folder() -> Path:
    """The cached tiny policy of the check's task (its config and tokenizer, when quick)."""
    folder, _ = policy_folder("tiny", task_factory("summarization")(**TASK_KWARGS))
    return Path(folder)


@contextmanager
def synchronized_timers(device: str) -> Iterator[None]:
    """On CUDA, make the train step's timers (harness/loop/step.py, groups.py) wait for the GPU.

    The step reads `time.perf_counter()` between its phases; this swaps the `time` those two
    modules see for one whose clock synchronizes first, for the duration only.
    """
    if not device.startswith("cuda"):
        yield
        return

    def synchronized() -> float:
        torch.cuda.synchronize()
        return time.perf_counter()

    clock = types.SimpleNamespace(perf_counter=synchronized)
    try:
        step.time, groups.time = clock, clock  # type: ignore[assignment]
        yield
    finally:
        step.time, groups.time = time, time


def completion_cap(overrides: list[str], policy: Path) -> int:
    """The completion length the measurement's settings give (the task's default unless set)."""
    config = build_config("summarization", "reinforce", policy=str(policy), overrides=overrides)
    task = task_factory(config.task)(**config.task_options)
    return config.rollout.max_new_tokens or task.generation.max_new_tokens


def timed(check: Check, policy: Path, algo: str, precision: str, prompts: int) -> Item:
    """One speed measurement: per-update seconds split by phase, throughput, peak GPU memory."""
    overrides = [
        *check.scale.speed_overrides,
        f"device={check.device}",
        f"precision={precision}",
        f"rollout.prompts_per_update={prompts}",
    ]
    cuda = check.device.startswith("cuda")
    if cuda:  # the last measurement's policy must not count in this one's peak
        gc.collect()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(check.device)
    with synchronized_timers(check.device):
        found = measure("summarization", str(policy), algo, check.scale.speed_updates, overrides)
    cap = completion_cap(overrides, policy)
    return {
        "ok": found["tokens/completion"] == cap,  # EOS never sampled: every completion is full
        "completions": found["completions"],
        "tokens/completion": found["tokens/completion"],
        "completions/s": found["completions/s"],
        "s/update": found["wall"],
        **{key.removeprefix("time/"): found[key] for key in found if key.startswith("time/")},
        "GFLOP/s": found["GFLOP/s"],
        "peak_gpu_gb": torch.cuda.max_memory_allocated(check.device) / 2**30 if cuda else None,
    }


def speed(check: Check, phase: Phase) -> None:
    """reinforce, ppo and trpo at the default prompts per update and at 4×, in each of the
    scale's precisions."""
    plan = [
        (f"{algo}/{precision}/x{scale}", algo, precision, scale * check.scale.speed_prompts)
        for precision in check.scale.speed_precisions
        for scale in PROMPT_SCALES
        for algo in ALGORITHMS
    ]
    phase.plan(name for name, *_ in plan)
    policy, phase.record["policy"] = random_policy(check)
    for name, algo, precision, prompts in plan:
        phase.item(name, lambda a=algo, p=precision, n=prompts: timed(check, policy, a, p, n))
