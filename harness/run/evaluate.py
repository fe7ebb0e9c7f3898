"""Held-out evaluation: reward, task metrics, exact and sampled KL, diversity, length."""

from dataclasses import dataclass
from typing import Any

import torch

from harness.api.task import Example, Task, score_with_parts
from harness.metrics.diversity import diversity_metrics
from harness.policies.policy import Policy
from harness.rl.kl import k1
from harness.run.rollout import reference_scores, sample_rollout


@dataclass(frozen=True)
class EvalSettings:
    """How held-out completions are drawn; the same before, during and after training."""

    samples_per_prompt: int
    batch_prompts: int
    max_new_tokens: int
    temperature: float
    max_prompt_tokens: int
    micro_batch_prompts: int
    seed: int


@dataclass(frozen=True)
class EvalResult:
    """Metrics keyed `eval/...`, the mean reward of each prompt (for paired CIs), and samples.

    task_metrics names the task's own metrics among `metrics` (without the `eval/` prefix).
    """

    metrics: dict[str, float]
    prompt_rewards: list[float]
    samples: list[dict[str, Any]]
    task_metrics: tuple[str, ...] = ()


def evaluate(
    policy: Policy, reference: Policy, task: Task, examples: list[Example], settings: EvalSettings
) -> EvalResult:
    """Sample held-out completions under a fixed seed and score them.

    Sampling runs under its own seed inside a forked RNG, so every evaluation of a run draws
    the same random numbers (common random numbers make before/after comparisons tighter)
    and training randomness is left untouched.
    """
    texts: list[str] = []
    rewards: list[float] = []
    parts: dict[str, list[float]] = {}  # components of a composite reward, logged one by one
    kl_exact_tokens, k1_tokens, kl_exact_seq, k1_seq, lengths = [], [], [], [], []
    device = policy.model.device
    forked = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=forked):
        torch.manual_seed(settings.seed)
        for start in range(0, len(examples), settings.batch_prompts):
            chunk = examples[start : start + settings.batch_prompts]
            rollout = sample_rollout(
                policy,
                chunk,
                settings.samples_per_prompt,
                settings.max_new_tokens,
                settings.temperature,
                settings.max_prompt_tokens,
            )
            logprobs, ref_logprobs, exact = reference_scores(
                reference, rollout, settings.temperature, settings.micro_batch_prompts
            )
            mask = rollout.completion_mask
            sampled, exact = k1(logprobs, ref_logprobs) * mask, exact * mask
            kl_exact_tokens.append(exact.sum().item())
            k1_tokens.append(sampled.sum().item())
            kl_exact_seq += exact.sum(-1).tolist()
            k1_seq += sampled.sum(-1).tolist()
            lengths.append(mask.sum().item())
            texts += rollout.completions
            scores, chunk_parts = score_with_parts(
                task.reward, rollout.repeated_examples(), rollout.completions
            )
            rewards += scores
            for name, values in chunk_parts.items():
                parts.setdefault(name, []).extend(values)
    repeated = [e for e in examples for _ in range(settings.samples_per_prompt)]
    tokens = max(sum(lengths), 1.0)
    task_metrics = task.metrics(repeated, texts)
    metrics = {  # the generic keys are schema.EVAL_METRICS
        "reward": mean(rewards),
        **{f"reward_{name}": mean(values) for name, values in parts.items()},
        **task_metrics,
        "kl_exact": sum(kl_exact_tokens) / tokens,
        "kl_exact_seq": mean(kl_exact_seq),
        "kl_k1": sum(k1_tokens) / tokens,
        "kl_k1_seq": mean(k1_seq),
        **diversity_metrics(texts),
        "tokens": sum(lengths) / max(len(texts), 1),
    }
    k = settings.samples_per_prompt
    samples = [
        {
            "id": ex.id,
            "prompt": ex.prompt,
            "references": list(ex.references),
            "generation": text,
            "reward": reward,
            "kl_exact_seq": kl,
        }
        for ex, text, reward, kl in zip(repeated, texts, rewards, kl_exact_seq, strict=True)
    ]
    return EvalResult(
        metrics={f"eval/{name}": float(value) for name, value in metrics.items()},
        prompt_rewards=[mean(rewards[i * k : (i + 1) * k]) for i in range(len(examples))],
        samples=samples,
        task_metrics=tuple(task_metrics),
    )


def mean(values: list[float]) -> float:
    """Mean of a list (0.0 when empty)."""
    return sum(values) / len(values) if values else 0.0
