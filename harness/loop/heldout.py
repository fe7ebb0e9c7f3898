"""Held-out evaluation: reward, task metrics, exact KL, entropy, diversity, hacking signals.

One scoring path (`text_metrics`) serves every row of a leaderboard: a policy's sampled or
greedy completions and a text anchor row's outputs (e.g. lead-n) are scored the same way.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.api.schema import FINAL_SPLITS
from harness.api.task import Example, Task, score_with_parts
from harness.config.run_config import RunConfig
from harness.loop.rollout import Draw, reference_scores, sample_rollout
from harness.metrics.diversity import diversity_metrics
from harness.metrics.hacking import hacking_metrics
from harness.metrics.stats import paired_bootstrap
from harness.policies.policy import Policy
from harness.policies.sampling import row_seed
from harness.rl.kl import k1
from harness.rl.logprobs import tempered_entropy

INTERVAL_KEYS = ("mean", "low", "high", "n")  # of a paired-bootstrap interval, in a gain


@dataclass(frozen=True)
class EvalSettings:
    """How held-out completions are drawn; the same before, during and after training.

    seed: the run's seed; completion j of prompt `id` is drawn from its own stream seeded by
    (seed, id, j), so it does not depend on `batch_prompts` (a memory setting only).
    """

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

    task_metrics names the task's own metrics among `metrics` (without the `eval/` prefix);
    prompt_judges: each judge's (`eval/judge_<name>`) mean score of each prompt, as
    prompt_rewards, for a task that reports judges.
    """

    metrics: dict[str, float]
    prompt_rewards: list[float]
    samples: list[dict[str, Any]]
    task_metrics: tuple[str, ...] = ()
    prompt_judges: dict[str, list[float]] = field(default_factory=dict)


def evaluate(
    policy: Policy,
    reference: Policy | None,
    task: Task,
    examples: list[Example],
    settings: EvalSettings,
    greedy: bool = False,
) -> EvalResult:
    """Draw held-out completions (sampled at the training temperature, or greedy) and score them.

    Sampled completions come from per-row streams (see EvalSettings), so every evaluation of a
    run draws the same random numbers (common random numbers make before/after comparisons
    tighter) and the training RNG is left untouched. Greedy takes one completion per prompt.
    Without a `reference` (an outside checkpoint evaluated on its own) there is no KL to report:
    the KL metrics are left out rather than given a made-up value.
    """
    k = 1 if greedy else settings.samples_per_prompt
    texts: list[str] = []
    kl_exact_seq: list[float] = []
    k1_seq: list[float] = []
    kl_exact_sum = k1_sum = entropy_sum = tokens = 0.0  # over every completion token
    ended = 0
    eos = policy.tokenizer.eos_token_id
    for start in range(0, len(examples), settings.batch_prompts):
        chunk = examples[start : start + settings.batch_prompts]
        draw: Draw = (
            "greedy"
            if greedy
            else tuple(row_seed(settings.seed, e.id, j) for e in chunk for j in range(k))
        )
        rollout = sample_rollout(
            policy,
            chunk,
            k,
            settings.max_new_tokens,
            settings.temperature,
            settings.max_prompt_tokens,
            draw,
        )
        mask = rollout.completion_mask
        if reference is not None:
            logprobs, ref_logprobs, exact = reference_scores(
                reference, rollout, settings.temperature, settings.micro_batch_prompts
            )
            sampled, exact = k1(logprobs, ref_logprobs) * mask, exact * mask
            kl_exact_sum += exact.sum().item()
            k1_sum += sampled.sum().item()
            kl_exact_seq += exact.sum(-1).tolist()
            k1_seq += sampled.sum(-1).tolist()
        entropy = tempered_entropy(rollout.logits, settings.temperature) * mask
        entropy_sum += entropy.sum().item()
        tokens += mask.sum().item()
        ended += int(((rollout.completion_ids == eos) & (mask > 0)).any(-1).sum().item())
        texts += rollout.completions
    repeated = [e for e in examples for _ in range(k)]
    judged: dict[str, list[float]] = {}
    rewards, metrics, own = text_metrics(task, repeated, texts, judged)
    per_token = max(tokens, 1.0)
    if reference is not None:
        metrics |= {
            "kl_exact": kl_exact_sum / per_token,
            "kl_exact_seq": mean(kl_exact_seq),
            "kl_k1": k1_sum / per_token,
            "kl_k1_seq": mean(k1_seq),
        }
    metrics |= {
        "entropy": entropy_sum / per_token,
        "eos_share": ended / max(len(texts), 1),
        "tokens": tokens / max(len(texts), 1),
    }
    samples = sample_rows(repeated, texts, rewards)
    if reference is not None:
        samples = [{**s, "kl_exact_seq": kl} for s, kl in zip(samples, kl_exact_seq, strict=True)]
    return EvalResult(
        metrics={f"eval/{name}": float(value) for name, value in metrics.items()},
        prompt_rewards=per_prompt(rewards, k),
        samples=samples,
        task_metrics=own,
        prompt_judges={f"eval/{name}": per_prompt(values, k) for name, values in judged.items()},
    )


def per_prompt(values: Sequence[float], k: int) -> list[float]:
    """The mean of each prompt's k consecutive values."""
    return [mean(values[i : i + k]) for i in range(0, len(values), k)]


def text_metrics(
    task: Task,
    examples: Sequence[Example],
    texts: Sequence[str],
    judged: dict[str, list[float]] | None = None,
) -> tuple[list[float], dict[str, float], tuple[str, ...]]:
    """(reward of each text, metrics of the set, the names of the task's own metrics).

    The metrics: reward and its parts, the task's own metrics, diversity, length and the
    copying/repetition signals, keyed without the `eval/` prefix. judged: filled with each
    judge's score of every text (`judge_<name>` → values) when the task's metrics report them.
    """
    rewards, parts = score_with_parts(task.reward, examples, texts)
    sources = [e.source_text for e in examples]
    own, values = task_scores(task, examples, texts)
    if judged is not None:
        judged |= {name: v for name, v in values.items() if name.startswith("judge_")}
    metrics = {
        "reward": mean(rewards),
        **{f"reward_{name}": mean(values) for name, values in parts.items()},
        **own,
        **diversity_metrics(texts),
        **hacking_metrics(sources, texts, extractive=getattr(task, "extractive", False)),
    }
    return rewards, metrics, tuple(own)


def task_scores(
    task: Task, examples: Sequence[Example], texts: Sequence[str]
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """(the task's metrics, judge name → each text's score): the second from one and the same
    call when the task's metrics have `scores` (tasks/rewards/judges.py `Judged`), else empty."""
    scores = getattr(getattr(task, "score_metrics", None), "scores", None)
    if not callable(scores):
        return task.metrics(examples, texts), {}
    return scores(examples, texts)


def reward_cards(task: Task) -> dict[str, dict[str, Any]]:
    """The cards of the learned models a task's metrics name (reward, judges), by role: what
    result.json records as `reward_cards`; empty for a task without learned models."""
    cards = getattr(getattr(task, "score_metrics", None), "cards", None)
    return cards() if callable(cards) else {}


def sample_rows(
    examples: Sequence[Example], texts: Sequence[str], rewards: Sequence[float]
) -> list[dict[str, Any]]:
    """The saved held-out samples: id, prompt, references, generation, reward."""
    return [
        {
            "id": ex.id,
            "prompt": ex.prompt,
            "references": list(ex.references),
            "generation": text,
            "reward": reward,
        }
        for ex, text, reward in zip(examples, texts, rewards, strict=True)
    ]


def heldout_gain(before: EvalResult, after: EvalResult, seed: int) -> dict[str, Any]:
    """Mean change of the held-out reward per prompt with its 95% paired-bootstrap CI; with
    judges (schema 5), `judges` holds each judge's change and CI, computed the same way."""
    interval = paired_bootstrap(before.prompt_rewards, after.prompt_rewards, seed=seed)
    gain: dict[str, Any] = {
        **{key: getattr(interval, key) for key in INTERVAL_KEYS},
        "metric": "eval/reward",
        "confidence": 0.95,
        "method": "paired bootstrap over held-out prompts (10,000 resamples)",
    }
    shared = [name for name in after.prompt_judges if name in before.prompt_judges]
    if shared:
        judges = {}
        for name in shared:
            pair = before.prompt_judges[name], after.prompt_judges[name]
            found = paired_bootstrap(*pair, seed=seed)
            judges[name] = {key: getattr(found, key) for key in INTERVAL_KEYS}
        gain["judges"] = judges
    return gain


def mean(values: Sequence[float]) -> float:
    """Mean of a list (0.0 when empty)."""
    return sum(values) / len(values) if values else 0.0


def heldout_of(config: RunConfig, task: Task) -> dict[str, list[Example]]:
    """The first `eval.prompts` examples of val and test, as a run evaluates them."""
    return {split: task.examples(split)[: config.eval.prompts] for split in FINAL_SPLITS}


def eval_settings(config: RunConfig, task: Task) -> EvalSettings:
    """The evaluation settings `bench run` would use with this config."""
    rollout, ev = config.rollout, config.eval
    return EvalSettings(
        samples_per_prompt=ev.samples_per_prompt,
        batch_prompts=ev.batch_prompts,
        max_new_tokens=rollout.max_new_tokens or task.generation.max_new_tokens,
        temperature=rollout.temperature,
        max_prompt_tokens=rollout.max_prompt_tokens,
        micro_batch_prompts=rollout.micro_batch_prompts,
        seed=config.seed,
    )
