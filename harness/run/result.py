"""The end of a run: result.json and the console summary (curve, test change and its CI)."""

import json
import resource
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.api.choices import KL_GRADIENTS
from harness.api.schema import (
    BUDGET_REASONS,
    CURVE_KEYS,
    REPORT_SPLIT,
    SCHEMA_VERSION,
    RunResult,
)
from harness.config.run_config import RunConfig
from harness.loop.budget import Spent
from harness.loop.heldout import heldout_gain
from harness.loop.report_lines import gain_line
from harness.metrics.series import sparkline
from harness.run.eval_schedule import FullEval
from harness.rundir.layout import write_json
from harness.rundir.provenance import environment


def run_result(
    config: RunConfig,
    task_version: str,
    outcome: tuple[Spent, str],
    evals: tuple[dict[str, dict[str, float]], dict[str, dict[str, float]] | None],
    **rest: Any,
) -> RunResult:
    """The result.json of a trained run or an anchor row; `rest` gives role, curves and gain."""
    spent, reason = outcome
    before, after = evals
    return RunResult(
        schema_version=SCHEMA_VERSION,
        task=config.task,
        task_version=task_version,
        algo=config.algo,
        role=rest.get("role", config.role),
        policy=config.policy,
        seed=config.seed,
        stop_reason=reason,
        completed=reason in BUDGET_REASONS,
        spent=asdict(spent),
        eval_before=before,
        eval_after=after,
        eval_curve=rest.get("eval_curve", []),
        heldout_gain=rest.get("heldout_gain"),
        kl_gradient=KL_GRADIENTS[config.rollout.kl_placement, config.rollout.kl_estimator],
        curve=rest.get("curve", []),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        config=config.to_dict(),
        env=environment(config.device),
        **({"reward_cards": rest["reward_cards"]} if rest.get("reward_cards") else {}),
    )


def finish(
    run_dir: Path,
    config: RunConfig,
    task_version: str,
    outcome: tuple[Spent, str],
    evals: tuple[FullEval, FullEval | None],
    eval_curve: list[dict[str, float]],
    console: Console,
    reward_cards: dict[str, dict[str, Any]] | None = None,
) -> RunResult:
    """Write result.json and print the summary: curve, test change with its CI, run dir.

    outcome = (what was spent, the stop reason); evals = (start, end or None if interrupted).
    """
    (spent, reason), (before, after) = outcome, evals
    curve = read_train_rows(run_dir)
    gain = None
    if after is not None and REPORT_SPLIT in after.sampled:  # a tuning trial has no test split
        split = REPORT_SPLIT
        gain = heldout_gain(before.sampled[split], after.sampled[split], config.seed)
    result = run_result(
        config,
        task_version,
        (spent, reason),
        (before.metrics(), after.metrics() if after else None),
        eval_curve=eval_curve,
        heldout_gain=gain,
        reward_cards=reward_cards,
        curve=[{key: row[key] for key in CURVE_KEYS if key in row} for row in curve],
    )
    write_json(run_dir / "result.json", result)
    rewards = [row["train/reward"] for row in curve if "train/reward" in row]  # none: supervised
    if rewards:
        console.print(
            f"train reward {sparkline(rewards)}  {rewards[0]:.3f} → {rewards[-1]:.3f} "
            f"(per update, {len(rewards)} updates)"
        )
    if gain is not None:
        console.print(gain_line(gain, REPORT_SPLIT))
    console.print(
        f"stopped      {reason} · {spent.samples} samples · {spent.tokens} tokens · "
        f"{spent.updates} updates · {spent.seconds:.0f} s training · "
        f"{(spent.forward_tokens + spent.backward_tokens) / 1e6:.2f} M token passes · "
        f"peak memory {result['peak_rss_mb'] / 1024:.1f} GB"
    )
    console.print(f"run dir      {run_dir}")
    return result


def read_train_rows(run_dir: Path) -> list[dict[str, Any]]:
    """The train lines of metrics.jsonl, in order."""
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [row for row in rows if row.get("kind") == "train"]
