"""`bench eval`: a checkpoint trained anywhere, scored by the evaluation `bench run` makes.

The checkpoint is evaluated by the same functions as a run's start and end (harness/run/
evaluations.py): the task's prompts, per-prompt seeded streams, sampled and greedy, every
`eval/` metric. With `--reference R` (the model it started from), KL is exact against R and
the row's Δ is over R's start evaluation, which is this seed's `start` row, taken if it exists
and written if not, so the external row sits in the same table as runs trained from R. A folder
of `checkpoint-N/` subfolders (as the Hugging Face Trainer saves them) is a series: each is
evaluated on val, the last also on test, and the row's val curve is the series.
"""

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from rich.console import Console
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from harness.api.errors import BenchError
from harness.api.schema import REPORT_SPLIT
from harness.api.task import Example, Task
from harness.config.run_config import RunConfig
from harness.data.task_files import task_factory
from harness.loop.budget import Spent
from harness.loop.heldout import EvalSettings, eval_settings, heldout_gain, heldout_of
from harness.policies.memory import reuse_freed_memory
from harness.policies.policy import Policy, frozen_copy, load_policy
from harness.run.anchors import shared_start, write_anchor_rows
from harness.run.eval_schedule import (
    TRAINING_SPLIT,
    FullEval,
    record_full_eval,
    run_eval,
    run_full_eval,
)
from harness.run.external_config import ExternalRequest, checkpoint_series
from harness.run.result import run_result
from harness.rundir.layout import is_finished, run_dir_for, write_json
from harness.rundir.lock import hold
from harness.rundir.provenance import seed_everything
from harness.rundir.trackers import RunLog

EVALUATED = "evaluated"  # the stop reason of an external row: it trains nothing


@dataclass
class Target:
    """A policy under evaluation with everything the shared evaluation reads (Evaluated)."""

    config: RunConfig
    task: Task
    policy: Policy
    reference: Policy | None
    run_dir: Path
    heldout: dict[str, list[Example]]
    eval_settings: EvalSettings
    log: RunLog
    eval_curve: list[dict[str, float]] = field(default_factory=list)


def evaluate_external(
    request: ExternalRequest, configs: list[RunConfig], console: Console
) -> list[Path]:
    """Evaluate the request's checkpoint once per config (one per seed); its run directories.

    The reference is loaded and its vocabulary checked against the checkpoint's before any
    folder is written."""
    reuse_freed_memory()
    first = configs[0]
    task = task_factory(first.task)(**first.task_options)
    series = checkpoint_series(Path(request.policy)) if Path(request.policy).is_dir() else []
    models = [(step, str(folder)) for step, folder in series] or [(0, request.policy)]
    reference = None
    if request.reference is not None:
        reference = load_policy(request.reference, task, first.device, first.precision)[0]
        check_vocabularies(tokenizer_of(models[0][1], task, first), reference, models[0][1])
    done = []
    for config in configs:
        run_dir = run_dir_for(config)
        if is_finished(run_dir):
            console.print(f"finished     {run_dir} (already evaluated; nothing to do)")
        else:
            run_dir.mkdir(parents=True, exist_ok=True)
            with hold(run_dir):
                evaluate_seed((request, config, task), reference, models, run_dir, console)
        done.append(run_dir)
    return done


def evaluate_seed(
    asked: tuple[ExternalRequest, RunConfig, Task],
    reference: Policy | None,
    models: list[tuple[int, str]],
    run_dir: Path,
    console: Console,
) -> None:
    """One seed: the reference's start (if any), each checkpoint of a series on val, the last
    (or only) checkpoint on val and test, sampled and greedy; then result.json."""
    request, config, task = asked
    log = RunLog(run_dir)
    try:
        write_json(run_dir / "config.json", config.to_dict())
        before, curve = start_evaluation(config, task, reference, run_dir, log, console)
        for step, path in models[:-1]:
            target = load_target(config, task, (path, reference), run_dir, log, curve)
            run_eval(target, f"checkpoint-{step}", TRAINING_SPLIT, Spent(updates=step), console)
        step, path = models[-1]
        target = load_target(config, task, (path, reference), run_dir, log, curve)
        after = run_full_eval(target, "after", Spent(updates=step), console, before)
        write_result(request, config, (before, after), target)
    finally:
        log.close()
    console.print(f"run dir      {run_dir}")


def tokenizer_of(path: str, task: Task, config: RunConfig) -> PreTrainedTokenizerBase:
    """The checkpoint's tokenizer, without its weights where the folder holds one."""
    try:
        return AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError):  # a registered policy, or an adapter without its tokenizer
        return load_checkpoint(path, task, config).tokenizer


def load_target(
    config: RunConfig,
    task: Task,
    models: tuple[str, Policy | None],
    run_dir: Path,
    log: RunLog,
    curve: list[dict[str, float]],
) -> Target:
    """The checkpoint at `models[0]` ready to evaluate against the reference `models[1]`."""
    path, reference = models
    policy = load_checkpoint(path, task, config)
    seed_everything(config.seed)  # as prepare() does: after loading, before evaluating
    return Target(
        config, task, policy, frozen_copy(reference) if reference is not None else None,
        run_dir, heldout_of(config, task), eval_settings(config, task), log, curve,
    )  # fmt: skip


def start_evaluation(
    config: RunConfig,
    task: Task,
    reference: Policy | None,
    run_dir: Path,
    log: RunLog,
    console: Console,
) -> tuple[FullEval | None, list[dict[str, float]]]:
    """The reference's start evaluation (this seed's start row's, or made and written as one)
    and the val curve that begins with it; (None, []) without a reference."""
    curve: list[dict[str, float]] = []
    if reference is None:
        return None, curve
    as_start = replace(config, policy=str(config_reference(config)), role="report", algo="start")
    start = Target(
        as_start, task, reference, frozen_copy(reference), run_dir,
        heldout_of(config, task), eval_settings(config, task), log, curve,
    )  # fmt: skip
    seed_everything(config.seed)
    shared = shared_start(start)
    if shared is None:
        before = run_full_eval(start, "before", Spent(), console)
    else:
        before, row = shared
        console.print(f"start eval   the reference's start row's, not repeated ({row})")
        record_full_eval(start, "before", before, Spent(), console)
    write_anchor_rows(start, before, console)
    return before, curve


def config_reference(config: RunConfig) -> str:
    """The reference policy an external config records (external_config.NoOptions)."""
    return config.algo_config["reference"]


def load_checkpoint(path: str, task: Task, config: RunConfig) -> Policy:
    """Load the checkpoint as `bench run` loads a policy; a PEFT adapter folder is merged into
    the base model its adapter_config.json names (loaded the same way)."""
    adapter = Path(path) / "adapter_config.json"
    if not adapter.exists() or (Path(path) / "config.json").exists():
        return load_policy(path, task, config.device, config.precision)[0]
    from peft import PeftModel  # external_config.check_adapter made sure it is installed

    base_name = json.loads(adapter.read_text())["base_model_name_or_path"]
    base = load_policy(base_name, task, config.device, config.precision)[0]
    merged = PeftModel.from_pretrained(base.model, path).merge_and_unload()
    return replace(base, name=path, model=merged.eval())


def check_vocabularies(tokenizer: PreTrainedTokenizerBase, reference: Policy, path: str) -> None:
    """Refuse a reference whose vocabulary differs from the policy's: no per-token KL exists."""
    mine, theirs = tokenizer.get_vocab(), reference.tokenizer.get_vocab()
    if mine != theirs:
        raise BenchError(
            f"policy '{path}' has a vocabulary of {len(mine)} tokens that differs from the "
            f"reference's ({len(theirs)}): KL(π‖π_ref) needs one vocabulary; give the model "
            "the checkpoint started from"
        )


def fingerprint(policy: Policy) -> str:
    """sha256 (first 16 hex digits) over every parameter's name and bytes, in name order."""
    digest = hashlib.sha256()
    for name, tensor in sorted(policy.model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def write_result(
    request: ExternalRequest,
    config: RunConfig,
    evals: tuple[FullEval | None, FullEval],
    target: Target,
) -> None:
    """result.json of an external row: role external, stop reason `evaluated`, its source."""
    before, after = evals
    gain = None
    if before is not None:
        gain = heldout_gain(before.sampled[REPORT_SPLIT], after.sampled[REPORT_SPLIT], config.seed)
    result = dict(
        run_result(
            config, target.task.version, (Spent(), EVALUATED),
            (before.metrics() if before else {}, after.metrics()),
            role="external", eval_curve=target.eval_curve, heldout_gain=gain,
        )
    )  # fmt: skip
    result["external"] = {
        "policy": request.policy,
        "fingerprint": fingerprint(target.policy),
        "reference": request.reference,
        "reference_fingerprint": fingerprint(target.reference) if target.reference else None,
        "checkpoints": [step for step, _ in checkpoint_series(Path(request.policy))],
        "prompt_rewards": after.sampled[REPORT_SPLIT].prompt_rewards,
    }
    write_json(target.run_dir / "result.json", result)
