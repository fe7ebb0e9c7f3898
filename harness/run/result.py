"""The end of a run: result.json and the console summary (curve, held-out change and its CI)."""

import json
import resource
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.api.choices import KL_GRADIENTS
from harness.api.schema import BUDGET_REASONS, CURVE_KEYS, SCHEMA_VERSION, RunResult
from harness.config.run_config import RunConfig
from harness.metrics.stats import paired_bootstrap
from harness.run.budget import Spent
from harness.run.evaluate import EvalResult
from harness.run.provenance import environment
from harness.run.report_lines import gain_line, sparkline
from harness.run.rundir import write_json


def heldout_gain(before: EvalResult, after: EvalResult, seed: int) -> dict[str, Any]:
    """Mean change of the held-out reward per prompt with its 95% paired-bootstrap CI."""
    interval = paired_bootstrap(before.prompt_rewards, after.prompt_rewards, seed=seed)
    return {
        **asdict(interval),
        "metric": "eval/reward",
        "confidence": 0.95,
        "method": "paired bootstrap over held-out prompts (10,000 resamples)",
    }


def finish(
    run_dir: Path,
    config: RunConfig,
    task_version: str,
    outcome: tuple[Spent, str],
    evals: tuple[EvalResult, EvalResult | None],
    console: Console,
) -> RunResult:
    """Write result.json and print the summary: curve, held-out change with its CI, run dir.

    outcome = (what was spent, the stop reason); evals = (before, after or None if interrupted).
    """
    (spent, reason), (before, after) = outcome, evals
    curve = read_train_rows(run_dir)
    gain = heldout_gain(before, after, config.seed) if after is not None else None
    result = RunResult(
        schema_version=SCHEMA_VERSION,
        task=config.task,
        task_version=task_version,
        algo=config.algo,
        policy=config.policy,
        seed=config.seed,
        stop_reason=reason,
        completed=reason in BUDGET_REASONS,
        spent=asdict(spent),
        eval_before=before.metrics,
        eval_after=after.metrics if after else None,
        heldout_gain=gain,
        kl_gradient=KL_GRADIENTS[config.rollout.kl_placement, config.rollout.kl_estimator],
        curve=[{key: row[key] for key in CURVE_KEYS} for row in curve],
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        config=config.to_dict(),
        env=environment(config.device),
    )
    write_json(run_dir / "result.json", result)
    rewards = [row["train/reward"] for row in curve]
    if rewards:
        console.print(
            f"train reward {sparkline(rewards)}  {rewards[0]:.3f} → {rewards[-1]:.3f} "
            f"(per update, {len(rewards)} updates)"
        )
    if gain is not None:
        console.print(gain_line(gain))
    console.print(
        f"stopped      {reason} · {spent.samples} samples · {spent.tokens} tokens · "
        f"{spent.updates} updates · {spent.seconds:.0f} s training · "
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
