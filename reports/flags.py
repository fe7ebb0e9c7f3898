"""The honesty notes under a leaderboard row: what a baseline is, runs that stopped early, too
few or repeated seeds, greedy baseline completions, and text baselines a trained row does not
beat."""

import re
from collections import Counter

from reports.pooling import Group

MIN_SEEDS = 3
BASELINE_SAMPLES = "baseline_samples"  # spent: completions made only as a baseline (ReMax)


def baseline_note(algo: str) -> str:
    """What a baseline row is, in a few words (shown as its first flag)."""
    lead = re.fullmatch(r"lead-(\d+)", algo)
    if algo == "start":
        return "baseline: the policy before training (no updates)"
    if lead:
        return f"baseline: the first {lead.group(1)} source words as the output (no model)"
    return f"baseline: {algo}"


def beat_flags(group: Group, groups: list[Group], means: dict[str, float]) -> tuple[str, ...]:
    """For a trained row: each text baseline (lead-n) whose mean test reward it does not exceed."""
    if baseline_row(group):
        return ()
    texts = [g for g in groups if g.algo != "start" and baseline_row(g)]
    return tuple(
        f"does not beat {text.label} ({means[text.label]:.3f})"
        for text in texts
        if means[group.label] <= means[text.label]
    )


def row_flags(group: Group) -> tuple[str, ...]:
    """Honesty notes: baseline, runs stopped for another reason than their budget, few seeds."""
    baseline = baseline_row(group)
    flags = [baseline_note(group.algo)] if baseline else []
    early = [
        f"seed {run.seed}: {run.stop_reason}"
        for run in group.runs
        if run.trained and not run.stopped_by_budget
    ]
    if early:
        flags.append(f"{len(early)}/{len(group.runs)} stopped early ({'; '.join(early)})")
    flags += external_notes(group)
    if len(group.runs) < MIN_SEEDS:
        flags.append(f"{len(group.runs)} seed{'s' if len(group.runs) != 1 else ''} (< {MIN_SEEDS})")
    repeats = [seed for seed, n in Counter(run.seed for run in group.runs).items() if n > 1]
    if repeats:
        flags.append(f"seed {', '.join(map(str, sorted(repeats)))} repeated")
    return tuple(flags) + baseline_samples_flag(group)


def external_notes(group: Group) -> list[str]:
    """What an external row is: its checkpoint and reference; one seed: evaluation noise only."""
    runs = [run for run in group.runs if run.external]
    if not runs:
        return []
    checkpoint = runs[0].config.get("policy", "?")
    reference = runs[0].reference
    against = f"against {reference}" if reference else "no reference: KL and Δ n/a"
    notes = [f"external checkpoint {checkpoint} (bench eval; {against})"]
    if len(group.runs) == 1 and runs[0].prompt_rewards:
        prompts = len(runs[0].prompt_rewards)
        notes.append(
            f"1 seed: its intervals are over the {prompts} test prompts (evaluation noise only)"
        )
    return notes


def baseline_samples_flag(group: Group) -> tuple[str, ...]:
    """A note when the row's runs generated completions only as a baseline (not trained on)."""
    counts = [run.spent.get(BASELINE_SAMPLES, 0.0) for run in group.runs if not run.baseline]
    if not any(count > 0 for count in counts):
        return ()
    low, high = min(counts), max(counts)
    shown = f"{low:,.0f}" if low == high else f"{low:,.0f}–{high:,.0f}"
    return (f"uses {shown} greedy baseline completions per run (not training samples)",)


def baseline_row(group: Group) -> bool:
    """True when none of the group's runs was trained."""
    return all(run.baseline for run in group.runs)
