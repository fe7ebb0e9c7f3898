"""What a run is built from: its task, algorithm, policy, reference and held-out prompts."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.api import registry
from harness.api.algorithm import Algorithm, LossSettings
from harness.api.errors import BenchError
from harness.api.schema import FINAL_SPLITS
from harness.api.task import Example, Task
from harness.config.run_config import RunConfig
from harness.data.task_files import task_factory
from harness.loop.heldout import EvalSettings, eval_settings, heldout_of
from harness.loop.report_lines import policy_lines
from harness.policies.memory import reuse_freed_memory
from harness.policies.policy import Policy, frozen_copy, load_policy
from harness.rl.advantages import Estimator
from harness.rl.kl import KLControl
from harness.rl.value import attach_value_head
from harness.rundir.layout import write_json
from harness.rundir.provenance import seed_everything
from harness.rundir.trackers import RunLog, open_trackers


@dataclass
class Setup:
    """Everything a run needs, built once from its RunConfig.

    heldout: the first `eval.prompts` examples of each of FINAL_SPLITS (val, test).
    log: where rows go (metrics.jsonl and the trackers of `config.log`); close it when done.
    eval_curve: (update, samples, val reward, val KL) of every val evaluation so far.
    """

    config: RunConfig
    task: Task
    algorithm: Algorithm
    algo_config: Any
    policy: Policy
    reference: Policy
    run_dir: Path
    heldout: dict[str, list[Example]]
    eval_settings: EvalSettings
    max_new_tokens: int
    estimator: Estimator
    kl_control: KLControl
    loss_settings: LossSettings
    log: RunLog
    eval_curve: list[dict[str, float]] = field(default_factory=list)


def prepare(config: RunConfig, console: Console, run_dir: Path) -> Setup:
    """Build the task, load policy and reference, seed, write config.json into `run_dir`, open
    the trackers (`setup.log`, which the caller closes).

    Seeding comes after loading, so a run that has to build its policy first (consuming
    random numbers) trains exactly like one that finds the policy cached. The process's heap
    keeps freed memory from here on (`reuse_freed_memory`: same numbers, fewer page faults).
    """
    reuse_freed_memory()
    task = task_factory(config.task)(**config.task_options)
    for split in ("train", *FINAL_SPLITS):
        if not task.examples(split):
            raise BenchError(
                f"task '{task.name}' has no examples in its {split} split; check its data "
                "source (a single local file is cut 80/10/10, so it needs at least 10 rows)"
            )
    algorithm = registry.load("algorithms", config.algo)
    policy, note = load_policy(config.policy, task, config.device, config.precision)
    check_context(policy, config, config.rollout.max_new_tokens or task.generation.max_new_tokens)
    reference = frozen_copy(policy)
    seed_everything(config.seed)
    write_json(run_dir / "config.json", config.to_dict())
    max_new_tokens = config.rollout.max_new_tokens or task.generation.max_new_tokens
    for line in policy_lines(config, note, policy.overridden):
        console.print(line)
    algo_config = algorithm.Config(**config.algo_config)
    warning = algorithm.precision_note(algo_config, config.precision)
    if warning:
        console.print(warning)
    rollout = config.rollout
    estimator = Estimator(
        rollout.advantage, rollout.samples_per_prompt, rollout.gamma, rollout.lam, rollout.ema_decay
    )
    if estimator.needs_values:
        attach_value_head(policy.model)
    setup = Setup(
        config=config,
        task=task,
        algorithm=algorithm,
        algo_config=algo_config,
        policy=policy,
        reference=reference,
        run_dir=run_dir,
        heldout=heldout_of(config, task),
        eval_settings=eval_settings(config, task),
        max_new_tokens=max_new_tokens,
        estimator=estimator,
        kl_control=KLControl(
            rollout.kl_coef, rollout.kl_placement, rollout.kl_target, rollout.kl_adapt_rate
        ),
        loss_settings=LossSettings(
            temperature=rollout.temperature,
            micro_batch_prompts=rollout.micro_batch_prompts,
            kl_estimator=rollout.kl_estimator,
            value_coef=rollout.value_coef,
            loss_agg=rollout.loss_agg,
            max_new_tokens=max_new_tokens,
        ),
        log=RunLog(run_dir),
    )
    setup.log.trackers = open_trackers(config, run_dir)  # last: nothing after it can fail
    return setup


def check_context(policy: Policy, config: RunConfig, max_new_tokens: int) -> None:
    """Refuse prompt and completion limits that do not fit in the policy's context window."""
    limit = getattr(policy.model.config, "max_position_embeddings", None)
    needed = config.rollout.max_prompt_tokens + max_new_tokens
    if isinstance(limit, int) and needed > limit:
        raise BenchError(
            f"rollout.max_prompt_tokens ({config.rollout.max_prompt_tokens}) + max_new_tokens "
            f"({max_new_tokens}) = {needed} tokens do not fit the context of policy "
            f"'{config.policy}' ({limit} positions); lower rollout.max_prompt_tokens"
        )
