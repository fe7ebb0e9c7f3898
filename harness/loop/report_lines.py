"""One-line console summaries of evaluations and of the held-out reward change."""

from collections.abc import Sequence
from typing import Any

from harness.config.run_config import RunConfig
from harness.loop.heldout import EvalResult

TAIL_METRICS = (("kl_exact", "KL", 4), ("distinct_2", "distinct-2", 2), ("length", "len", 1))


def eval_line(label: str, result: EvalResult, prompts: int, seconds: float) -> str:
    """`eval before  reward 0.212  rougeL 0.212  KL 0.000 ...  [48 prompts, 38 s]`.

    Between the reward and the KL come the task's own metrics, named as the task names them.
    """
    shown = [("reward", "reward", 3), *((name, name, 3) for name in result.task_metrics)]
    shown += TAIL_METRICS
    metrics = result.metrics
    parts = [
        f"{name} {metrics[f'eval/{key}']:.{digits}f}"
        for key, name, digits in shown
        if f"eval/{key}" in metrics
    ]
    return f"{label:<24} " + "  ".join(parts) + f"   [{prompts} prompts, {seconds:.0f} s]"


def policy_lines(config: RunConfig, note: str, overridden: Sequence[str]) -> list[str]:
    """What was loaded, and which of the policy's own generation defaults were reset."""
    lines = [
        f"policy [bold]{config.policy}[/] ({note}) · reference: frozen copy · "
        f"device {config.device} · {config.precision} · seed {config.seed}"
    ]
    if overridden:
        lines.append(
            f"sampling     the policy's generation_config sets {', '.join(overridden)}; "
            "overridden: tokens are drawn from softmax(logits / T) exactly"
        )
    return lines


def gain_line(gain: dict[str, Any], split: str = "test") -> str:
    """`test Δ reward +0.031 [95% CI +0.010, +0.052] over 48 prompts (CI excludes 0)`."""
    verdict = "CI excludes 0" if gain["low"] > 0 or gain["high"] < 0 else "CI includes 0: n.s."
    return (
        f"{split} Δ reward {gain['mean']:+.4f} [95% CI {gain['low']:+.4f}, {gain['high']:+.4f}]"
        f" paired bootstrap over {gain['n']} prompts ({verdict})"
    )
