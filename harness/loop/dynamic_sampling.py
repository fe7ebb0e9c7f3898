"""Scored rollouts and DAPO's dynamic sampling: keep only prompts whose k rewards differ.

Yu et al. 2025 (DAPO, eq. 11): a prompt whose k completions all get the same raw task reward
has zero group-relative advantage and only adds noise, so it is dropped and more prompts are
drawn until the update has `prompts_per_update` prompts with varied rewards, the budget cannot
pay for another prompt, or MAX_ROUNDS rounds were drawn. Every sampled completion counts in the
budget. If no prompt with varied rewards was found, the last round's prompts are kept as they
are (their group-relative advantages are zero), so an update always has data.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch

from harness.api.task import Example, score_with_parts
from harness.loop.rollout import Rollout, encode_prompts, sample_rollout
from harness.loop.setup import Setup
from harness.loop.timing import Stopwatch
from harness.policies.policy import Policy

MAX_ROUNDS = 8


@dataclass(frozen=True)
class Scored:
    """A rollout with the task reward of each completion row and the reward's named parts."""

    rollout: Rollout
    rewards: list[float]
    parts: dict[str, list[float]]


def sample_scored(
    setup: Setup, examples: list[Example], watch: Stopwatch, greedy: bool = False
) -> Scored:
    """Sample k completions per example from the policy (one greedy one with `greedy`) and
    score them with the task reward, timed as the phase `reward`."""
    cfg = setup.config.rollout
    rollout = sample_rollout(
        setup.policy,
        examples,
        1 if greedy else cfg.samples_per_prompt,
        setup.max_new_tokens,
        cfg.temperature,
        cfg.max_prompt_tokens,
        draw="greedy" if greedy else "sample",
    )
    with watch.phase("reward"):
        rewards, parts = score_with_parts(
            setup.task.reward, rollout.repeated_examples(), rollout.completions
        )
    return Scored(rollout, rewards, parts)


def varied_prompts(rewards: list[float], k: int) -> list[int]:
    """Indices of the prompts whose k rewards are not all equal."""
    groups = [rewards[i : i + k] for i in range(0, len(rewards), k)]
    return [index for index, group in enumerate(groups) if len(set(group)) > 1]


def fill_varied(
    setup: Setup,
    first: Scored,
    draw: Callable[[int], list[Example]],
    affordable: Callable[[int], int],
    watch: Stopwatch,
) -> tuple[Scored, int, int]:
    """Keep prompts with varied rewards, drawing more as the budget allows.

    affordable(completions sampled so far) → how many more prompts the budget pays for.
    Returns the kept scored rollout, the completions sampled and the prompts drawn in all.
    """
    policy, wanted = setup.policy, len(first.rollout.examples)
    k = first.rollout.samples_per_prompt
    kept = select(policy, first, varied_prompts(first.rewards, k))
    last, sampled, drawn = first, len(first.rewards), wanted
    for _ in range(MAX_ROUNDS - 1):
        missing = min(wanted - count(kept), affordable(sampled))
        if missing <= 0:
            break
        last = sample_scored(setup, draw(missing), watch)
        sampled, drawn = sampled + len(last.rewards), drawn + missing
        kept = merge(policy, kept, select(policy, last, varied_prompts(last.rewards, k)))
    return (kept if kept is not None else last), sampled, drawn


def count(scored: Scored | None) -> int:
    """Prompts in a scored rollout (0 for None)."""
    return 0 if scored is None else len(scored.rollout.examples)


def select(policy: Policy, scored: Scored, prompts: list[int]) -> Scored | None:
    """The sub-rollout of the given prompts (None when there are none)."""
    if not prompts:
        return None
    if len(prompts) == len(scored.rollout.examples):
        return scored
    k = scored.rollout.samples_per_prompt
    rows = [p * k + j for p in prompts for j in range(k)]
    return rebuild(policy, scored, [scored.rollout.examples[p] for p in prompts], rows)


def merge(policy: Policy, a: Scored | None, b: Scored | None) -> Scored | None:
    """Two scored rollouts as one (prompts re-padded, completions right-padded); None: none."""
    if a is None or b is None:
        return a or b
    width = max(a.rollout.completion_ids.shape[1], b.rollout.completion_ids.shape[1])
    eos = policy.tokenizer.eos_token_id
    ids = torch.cat([pad_right(s.rollout.completion_ids, width, eos) for s in (a, b)])
    mask = torch.cat([pad_right(s.rollout.completion_mask, width, 0) for s in (a, b)])
    logits = torch.cat([pad_right(s.rollout.logits, width, 0) for s in (a, b)])
    examples = [*a.rollout.examples, *b.rollout.examples]
    max_prompt_tokens = max(a.rollout.prompt_ids.shape[1], b.rollout.prompt_ids.shape[1])
    prompt_ids, prompt_mask = encode_prompts(policy, examples, max_prompt_tokens)
    rollout = Rollout(
        examples=tuple(examples),
        prompt_ids=prompt_ids,
        prompt_mask=prompt_mask,
        completion_ids=ids,
        completion_mask=mask,
        logits=logits,
        completions=a.rollout.completions + b.rollout.completions,
        samples_per_prompt=a.rollout.samples_per_prompt,
    )
    parts = {name: a.parts[name] + b.parts[name] for name in a.parts}
    return Scored(rollout, a.rewards + b.rewards, parts)


def rebuild(policy: Policy, scored: Scored, examples: list[Example], rows: list[int]) -> Scored:
    """The scored rollout restricted to `rows` (the completions of `examples`)."""
    r = scored.rollout
    index = torch.tensor(rows, device=r.completion_ids.device)
    prompt_ids, prompt_mask = encode_prompts(policy, examples, r.prompt_ids.shape[1])
    rollout = Rollout(
        examples=tuple(examples),
        prompt_ids=prompt_ids,
        prompt_mask=prompt_mask,
        completion_ids=r.completion_ids[index],
        completion_mask=r.completion_mask[index],
        logits=r.logits[index],
        completions=tuple(r.completions[i] for i in rows),
        samples_per_prompt=r.samples_per_prompt,
    )
    parts = {name: [values[i] for i in rows] for name, values in scored.parts.items()}
    return Scored(rollout, [scored.rewards[i] for i in rows], parts)


def pad_right(tensor: torch.Tensor, width: int, value: float) -> torch.Tensor:
    """Pad dimension 1 of (B, T, …) on the right to `width`."""
    missing = width - tensor.shape[1]
    if missing == 0:
        return tensor
    shape = (tensor.shape[0], missing, *tensor.shape[2:])
    return torch.cat([tensor, tensor.new_full(shape, value)], dim=1)
