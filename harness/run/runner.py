"""The one training loop every algorithm shares: rollout → score → log-probs → advantages → update.

Only step 5 (`algorithm.update`) differs between algorithms; sampling, reward, KL accounting,
advantage estimation, budget and evaluation are this file's and the same for all.
"""

import random
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.api import registry
from harness.api.algorithm import Algorithm, LossSettings, UpdateContext
from harness.api.batch import Batch
from harness.api.task import Example, Task, score_with_parts
from harness.config.run_config import RunConfig
from harness.data.task_files import task_factory
from harness.policies.policy import Policy, frozen_copy, load_policy
from harness.rl.advantages import Estimator, token_rewards
from harness.rl.kl import KLControl, estimate_kl
from harness.rl.value import attach_value_head, predict_values
from harness.run.budget import Spent, prompts_for_update, stop_reason
from harness.run.evaluate import EvalResult, EvalSettings, evaluate
from harness.run.provenance import seed_everything
from harness.run.report_lines import eval_line, gain_line, policy_lines
from harness.run.result import finish, heldout_gain
from harness.run.rollout import reference_scores, sample_rollout
from harness.run.rundir import append_jsonl, create_run_dir, write_json, write_jsonl

EVAL_SEED_OFFSET = 10_007  # held-out sampling uses its own stream, fixed per run seed


@dataclass
class Setup:
    """Everything a run needs, built once from its RunConfig."""

    config: RunConfig
    task: Task
    algorithm: Algorithm
    algo_config: Any
    policy: Policy
    reference: Policy
    run_dir: Path
    heldout: list[Example]
    eval_settings: EvalSettings
    max_new_tokens: int
    estimator: Estimator
    kl_control: KLControl
    loss_settings: LossSettings


def execute(config: RunConfig, console: Console) -> Path:
    """Train and evaluate one run of a resolved, validated config; returns its run directory.

    `harness.launch.run` resolves and validates first; call that unless you already have.
    """
    setup = prepare(config, console)
    before = run_eval(setup, "before", 0, console)
    spent, reason = train(setup, before, console)
    after = None
    if reason != "interrupted":
        after = run_eval(setup, "after", spent.updates, console, before)
    finish(setup.run_dir, config, setup.task.version, (spent, reason), (before, after), console)
    return setup.run_dir


def prepare(config: RunConfig, console: Console) -> Setup:
    """Build the task, load policy and reference, seed, create the run directory.

    Seeding comes after loading, so a run that has to build its policy first (consuming
    random numbers) trains exactly like one that finds the policy cached.
    """
    task = task_factory(config.task)(**config.task_options)
    algorithm = registry.load("algorithms", config.algo)
    policy, note = load_policy(config.policy, task, config.device)
    reference = frozen_copy(policy)
    seed_everything(config.seed)
    run_dir = create_run_dir(replace(config, task=task.name))  # a task-file path → its name
    write_json(run_dir / "config.json", config.to_dict())
    max_new_tokens = config.rollout.max_new_tokens or task.generation.max_new_tokens
    for line in policy_lines(config, note, policy.overridden):
        console.print(line)
    rollout, ev = config.rollout, config.eval
    estimator = Estimator(
        rollout.advantage, rollout.samples_per_prompt, rollout.gamma, rollout.lam, rollout.ema_decay
    )
    if estimator.needs_values:
        attach_value_head(policy.model)
    return Setup(
        config=config,
        task=task,
        algorithm=algorithm,
        algo_config=algorithm.Config(**config.algo_config),
        policy=policy,
        reference=reference,
        run_dir=run_dir,
        heldout=task.examples(ev.split)[: ev.prompts],
        eval_settings=EvalSettings(
            samples_per_prompt=ev.samples_per_prompt,
            batch_prompts=ev.batch_prompts,
            max_new_tokens=max_new_tokens,
            temperature=rollout.temperature,
            max_prompt_tokens=rollout.max_prompt_tokens,
            micro_batch_prompts=rollout.micro_batch_prompts,
            seed=config.seed + EVAL_SEED_OFFSET,
        ),
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
        ),
    )


def train(setup: Setup, before: EvalResult, console: Console) -> tuple[Spent, str]:
    """Update until a budget limit is reached (or Ctrl-C); return what was spent and why."""
    config, rollout_cfg = setup.config, setup.config.rollout
    k = rollout_cfg.samples_per_prompt
    state = setup.algorithm.init(setup.policy.model, setup.algo_config)
    prompts = prompt_stream(setup.task.examples("train"), config.seed)
    spent = Spent()
    total = config.budget.samples or config.budget.updates or 0
    with Progress(
        TextColumn(f"[bold]{config.algo}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        bar = progress.add_task("train", total=total or None, status="")
        while (
            reason := stop_reason(config.budget, spent, rollout_cfg.prompts_per_update, k)
        ) is None:
            count = prompts_for_update(config.budget, spent, rollout_cfg.prompts_per_update, k)
            try:
                row = train_step(setup, state, [next(prompts) for _ in range(count)], spent)
            except KeyboardInterrupt:
                reason = "interrupted"
                break
            append_jsonl(setup.run_dir / "metrics.jsonl", row)
            progress.update(
                bar,
                completed=spent.samples if config.budget.samples else spent.updates,
                status=f"{spent.updates} updates · reward {row['train/reward']:.3f} · "
                f"KL {row['train/kl_exact']:.4f}",
            )
            if not all(
                torch.isfinite(torch.tensor(v)) for v in row.values() if isinstance(v, float)
            ):
                reason = "nonfinite"
                break
            every = config.eval.every
            if (
                every
                and spent.updates % every == 0
                and stop_reason(config.budget, spent, rollout_cfg.prompts_per_update, k) is None
            ):
                run_eval(setup, f"update{spent.updates}", spent.updates, console, before)
    return spent, reason


def train_step(setup: Setup, state: Any, examples: list[Example], spent: Spent) -> dict[str, Any]:
    """One update: sample, score, compute log-probs and advantages, call the algorithm."""
    cfg = setup.config.rollout
    clock = time.perf_counter()
    rollout = sample_rollout(
        setup.policy,
        examples,
        cfg.samples_per_prompt,
        setup.max_new_tokens,
        cfg.temperature,
        cfg.max_prompt_tokens,
    )
    t_generate = time.perf_counter()
    scores, reward_parts = score_with_parts(
        setup.task.reward, rollout.repeated_examples(), rollout.completions
    )
    rewards = torch.tensor(
        scores,
        dtype=torch.float32,
        device=rollout.completion_ids.device,
    )
    t_reward = time.perf_counter()
    old_logprobs, ref_logprobs, kl_exact = reference_scores(
        setup.reference, rollout, cfg.temperature, cfg.micro_batch_prompts
    )
    mask, kl_control = rollout.completion_mask, setup.kl_control
    kl_coef = kl_control.coef
    kl_tokens = estimate_kl(cfg.kl_estimator, old_logprobs, ref_logprobs) * mask
    # Per-token KL-shaped rewards (Ziegler et al. 2019, eq. 2); Σ_t = R − β Σ_t kl_t.
    shaped = token_rewards(rewards, kl_tokens, mask, kl_control.reward_coef)
    values = predict_values(  # gae only
        setup.policy.model,
        rollout.prompt_ids,
        rollout.prompt_mask,
        rollout.completion_ids,
        mask,
        cfg.micro_batch_prompts,
    )
    advantages, value_targets = setup.estimator(shaped, mask, values)
    returns = shaped.sum(-1)
    batch = Batch(
        prompt_ids=rollout.prompt_ids,
        prompt_mask=rollout.prompt_mask,
        completion_ids=rollout.completion_ids,
        completion_mask=mask,
        old_logprobs=old_logprobs,
        ref_logprobs=ref_logprobs,
        returns=returns,
        advantages=advantages,
        value_targets=value_targets,
    )
    context = UpdateContext(setup.loss_settings, kl_loss_coef=kl_control.loss_coef)
    del rollout  # drop the (B, T, V) sampling logits before the update's own activations
    t_logprobs = time.perf_counter()
    stats = setup.algorithm.update(setup.policy.model, batch, setup.algo_config, state, context)
    t_update = time.perf_counter()
    masked_kl = kl_exact * mask  # zero past each completion's end
    kl_exact_seq = masked_kl.sum(-1).mean().item()
    kl_control.update(kl_exact_seq)  # adaptive β sees the exact KL of this update
    tokens = int(mask.sum().item())
    spent.samples += batch.size
    spent.tokens += tokens
    spent.updates += 1
    spent.seconds += t_update - clock
    return {
        "kind": "train",
        "update": spent.updates,
        "samples_seen": spent.samples,
        "tokens_generated": spent.tokens,
        "seconds": round(spent.seconds, 3),
        "train/reward": rewards.mean().item(),
        "train/reward_std": rewards.std().item() if batch.size > 1 else 0.0,
        **{f"train/reward_{name}": sum(v) / len(v) for name, v in reward_parts.items()},
        "train/return": returns.mean().item(),
        "train/kl": kl_tokens.sum(-1).mean().item(),
        "train/kl_exact": (masked_kl.sum() / mask.sum()).item(),
        "train/kl_exact_seq": kl_exact_seq,
        "train/kl_coef": kl_coef,
        "train/length": tokens / batch.size,
        **{key: float(value) for key, value in stats.items()},
        "time/generate": t_generate - clock,
        "time/reward": t_reward - t_generate,
        "time/logprobs": t_logprobs - t_reward,
        "time/update": t_update - t_logprobs,
    }


def prompt_stream(examples: list[Example], seed: int):
    """Training prompts in a seeded random order, reshuffled every epoch, forever."""
    order = random.Random(seed)
    pool = list(examples)
    while True:
        order.shuffle(pool)
        yield from pool


def run_eval(
    setup: Setup, label: str, updates: int, console: Console, before: EvalResult | None = None
) -> EvalResult:
    """Evaluate on the held-out prompts; log metrics (and the gain over `before`); save samples."""
    started = time.perf_counter()
    result = evaluate(setup.policy, setup.reference, setup.task, setup.heldout, setup.eval_settings)
    seconds = time.perf_counter() - started
    write_jsonl(setup.run_dir / "samples" / f"eval_{label}.jsonl", result.samples)
    gain = heldout_gain(before, result, setup.config.seed) if before is not None else None
    row = {
        "kind": "eval",
        "label": label,
        "update": updates,
        **result.metrics,
        "eval/seconds": seconds,
    }
    if gain is not None:
        row |= {
            "eval/gain": gain["mean"],
            "eval/gain_low": gain["low"],
            "eval/gain_high": gain["high"],
        }
    append_jsonl(setup.run_dir / "metrics.jsonl", row)
    console.print(eval_line(f"eval {label}", result, len(setup.heldout), seconds))
    if gain is not None and label != "after":
        console.print(gain_line(gain))
    return result
