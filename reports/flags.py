"""The honesty notes under a leaderboard row: what an anchor row is, runs that stopped early, too
few or repeated seeds, greedy baseline completions (ReMax's), and text anchors a trained row does
not beat."""

import re
from collections import Counter

from harness.metrics.stats import Interval, one_sample_pvalue
from reports.pooling import Group
from reports.significance import ALPHA, START, Comparison

MIN_SEEDS = 3
BASELINE_SAMPLES = "baseline_samples"  # spent: completions made only as a baseline (ReMax)


def anchor_note(algo: str) -> str:
    """What an anchor row is, in a few words (shown as its first flag)."""
    lead = re.fullmatch(r"lead-(\d+)", algo)
    if algo == "start":
        return "anchor: the policy before training (no updates)"
    if lead:
        return f"anchor: the first {lead.group(1)} source words as the output (no model)"
    return f"anchor: {algo}"


def beat_flags(group: Group, groups: list[Group], means: dict[str, float]) -> tuple[str, ...]:
    """For a trained row: each text anchor (lead-n) whose mean test reward it does not exceed."""
    if anchor_row(group):
        return ()
    texts = [g for g in groups if g.algo != "start" and anchor_row(g)]
    return tuple(
        f"does not beat {text.label} ({means[text.label]:.3f})"
        for text in texts
        if means[group.label] <= means[text.label]
    )


def row_flags(group: Group) -> tuple[str, ...]:
    """Honesty notes: anchor, runs stopped for another reason than their budget, few seeds."""
    flags = [anchor_note(group.algo)] if anchor_row(group) else []
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
    counts = [run.spent.get(BASELINE_SAMPLES, 0.0) for run in group.runs if not run.anchor]
    if not any(count > 0 for count in counts):
        return ()
    low, high = min(counts), max(counts)
    shown = f"{low:,.0f}" if low == high else f"{low:,.0f}–{high:,.0f}"
    return (f"uses {shown} greedy baseline completions per run (not training samples)",)


def anchor_row(group: Group) -> bool:
    """True when none of the group's runs was trained."""
    return all(run.anchor for run in group.runs)


def judge_flags(
    label: str, metrics: dict[str, Interval], tests: list[Comparison]
) -> tuple[str, ...]:
    """A row whose reward rises significantly (Holm) while a judge's gain does not (one-sample
    t on its per-seed gains, unadjusted: the lenient reading for the judge) is flagged: the
    reward may be won in a way the judge does not see."""
    start = next((t for t in tests if t.row == label and t.against == START), None)
    if start is None or not start.significant or metrics["gain/reward"].mean <= 0:
        return ()
    flags = []
    for key in sorted(k for k in metrics if k.startswith("gain/judge_")):
        p = one_sample_pvalue(metrics[key].values, 0.0)
        if not (p < ALPHA and metrics[key].mean > 0):
            flags.append(
                f"reward rises significantly (Holm p={start.p_holm:.3f}) but "
                f"{key.removeprefix('gain/')} does not (Δ {metrics[key].mean:+.3f}, p={p:.3f})"
            )
    return tuple(flags)
