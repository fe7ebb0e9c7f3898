"""The words around the numbers: table titles, the KL lines and how every number was made."""

import math
from typing import Any

from harness.api.schema import REPORT_SPLIT
from harness.metrics.stats import POWER
from reports.aggregate import CI_METHODS, Row, Table
from reports.cards import Card, card_line
from reports.columns import DAGGER
from reports.flags import MIN_SEEDS
from reports.parts import NO_KL, kl_meaning, kl_setting, kl_words
from reports.pooling import RULE
from reports.significance import ALPHA, TEST_NAME, family_size

RANKING = (
    f"Rows are ranked by the mean sampled reward on the {REPORT_SPLIT} split ('test reward"
    " (sampled)': completions drawn at the training temperature); 'test reward (greedy)' scores"
    " greedy decoding of the same prompts. Every metric column is on test, except 'val reward @"
    " matched KL'."
)
SPLITS = (
    "Splits: train drives the updates; val is what a sweep may select on (checkpoints,"
    " hyper-parameters) and what is evaluated during training; test is only reported, so a"
    " selection made on val cannot have fitted it."
)
ANCHORS = (
    "Anchor rows are scored on the same prompts and ranked with the trained rows: start = the"
    " policy before training, lead-n = the first n source words as the output, echo = a chat's"
    " last turn as the reply. Their Δ vs start is n/a; a trained row whose mean test reward does"
    " not exceed a lead-n or echo row's is flagged 'does not beat lead-n' ('does not beat echo')."
)
MATCHED = (
    "Matched KL: each trained run's val reward at one per-token exact KL(π‖π_ref), KL*, read"
    " linearly in KL on the first segment of its val eval curve (in update order) that crosses"
    " KL* with both ends after update 0, so that the reading rests on two evaluations of the"
    " trained policy and not on the start point all rows share. KL* is the middle of the KL"
    " range that every trained run's curve crosses after update 0; where no such range exists"
    " (or a run has fewer than two val evaluations after update 0) the column is n/a and the"
    " line under the table says why. A row shows the mean over seeds with the same CI; n/a for"
    " anchor rows."
)
COMPUTE = (
    "Compute: token positions run forward plus those back-propagated during training (a FLOP"
    " proxy), in millions; CSV and JSON keep spent/forward_tokens and spent/backward_tokens."
)
HACKING = (
    "Hacking signals (test, sampled): novel 2-grams = share of the completion's bigrams not in"
    " the source; copy rate = longest span copied from the source over the completion's length;"
    " coverage, density, compression = extractive fragments (Grusky et al. 2018); ends with EOS ="
    " share of completions that stopped by themselves; repeat 4-grams = share of 4-grams"
    " repeating an earlier one; entropy = mean per-token entropy (nats); MSTTR = mean segmental"
    " type-token ratio."
)


def table_title(table: Table) -> str:
    """`summarization (v1) · policy tiny · budget 64 samples · eval 16 val+test prompts · …`."""
    conditions = table.conditions
    budget = [
        f"{conditions[key]} {key.split('.')[1]}"
        for key in ("budget.samples", "budget.tokens", "budget.updates", "budget.seconds")
        if conditions.get(key) is not None
    ]
    counts = sorted({len(row.runs) for row in table.rows})
    seeds = f"{counts[0]}–{counts[-1]}" if len(counts) > 1 else str(counts[0])
    parts = [
        f"{table.task} (v{table.task_version})",
        f"policy {conditions.get('policy', 'mixed')}",
        f"budget {' or '.join(budget) if budget else 'mixed'}",
        f"eval {conditions.get('eval.prompts', 'mixed')} val+test prompts",
        f"{seeds} seed{'' if seeds == '1' else 's'}/row",
    ]
    return " · ".join(parts)


def kl_lines(table: Table) -> list[str]:
    """One line when every trained row shares its KL setting (`KL penalty: β 0.01, k1 in the
    reward; its gradient: ...`), else one line per setting naming its rows."""
    by_setting: dict[tuple[str, ...], list[Row]] = {}
    for row in table.rows:
        if not row.anchor:
            by_setting.setdefault(kl_setting(row.parts), []).append(row)
    if not by_setting:
        return ["KL penalty: none (no trained rows)."]
    if len(by_setting) == 1:
        (setting,) = by_setting
        return [kl_sentence(setting, by_setting[setting], "")]
    return [kl_sentence(setting, rows, named(rows)) for setting, rows in by_setting.items()]


def kl_sentence(setting: tuple[str, ...], rows: list[Row], names: str) -> str:
    """`KL penalty (grpo): β 0.04, k3 in the loss; its gradient: ...` or `No KL penalty (β 0)`."""
    if setting == (NO_KL,):
        return f"No KL penalty (β 0){f': {names}' if names else ''}."
    gradients = [run.kl_gradient for row in rows for run in row.runs if run.kl_gradient]
    meaning = " / ".join(dict.fromkeys(gradients)) or kl_meaning(setting)
    who = f" ({names})" if names else ""
    return f"KL penalty{who}: {kl_words(setting, 'the ')}; its gradient: {meaning}."


def run_cards(table: Table) -> list[tuple[Card, ...]]:
    """Each run's learned-model cards, anchor rows' included (the same models scored them)."""
    return [run.reward_cards for row in table.rows for run in row.runs]


def card_lines(table: Table) -> list[str]:
    """The caption line naming the learned reward and judges with their cards' figures (and a
    warning if the runs did not share one model); none when no run recorded a card."""
    line = card_line(run_cards(table))
    return [line] if line else []


def named(rows: list[Row]) -> str:
    """The rows' labels, comma-separated, in table order."""
    return ", ".join(row.label for row in rows)


TESTS = (
    "'vs best' tests each row against the rank-1 row, 'vs start' each trained row's Δ vs start"
    " against 0, 'vs lead-n' (one column per deterministic anchor row) each trained row against"
    f" that anchor's number: {TEST_NAME}; n.s. otherwise."
)
NOISE = (
    "Noise: 'detectable difference' under each table is the difference of two rows' mean test"
    f" rewards that a two-sided t test at α {ALPHA} finds with {POWER:.0%} power at the table's"
    " seed count, (t_{1−α/2, n−1} + t_{power, n−1}) · SD · √(2/n), SD being the pooled"
    " between-seed SD of the test reward; Holm's correction makes it larger. Every row is"
    " scored on the same test prompts, so intervals over seeds leave out the variance of which"
    " prompts were drawn; the line under each table states it from the runs' own gain"
    " intervals over prompts (result.json heldout_gain, a paired bootstrap over prompts)."
)


def method_lines(ci: str = "t") -> list[str]:
    """How the numbers were made, printed once at the top of every report."""
    return [
        f"Every number is a mean over seeds with its CI [low, high]: {CI_METHODS[ci]}.",
        f"{RANKING} {TESTS}",
        NOISE,
        SPLITS,
        ANCHORS,
        MATCHED,
        COMPUTE,
        HACKING,
        f"{DAGGER} the cell rests on fewer than {MIN_SEEDS} seeds: its CI is not reliable.",
        f"Pooling: {RULE}",
    ]


def method_record(ci: str = "t") -> dict[str, str | float]:
    """The same notes as leaderboard.json's `method`."""
    return {
        "ci": CI_METHODS[ci],
        "test": TEST_NAME,
        "tests": TESTS,
        "noise": NOISE,
        "alpha": ALPHA,
        "rank": RANKING,
        "splits": SPLITS,
        "anchors": ANCHORS,
        "matched_kl": MATCHED,
        "compute": COMPUTE,
        "hacking": HACKING,
        "pooling": RULE,
    }


def noise_record(table: Table) -> dict[str, Any]:
    """The numbers behind noise_lines: seeds, SD, detectable difference, tests, prompt noise."""
    return {
        "seeds": table.seeds,
        "sd": None if math.isnan(table.spread) else table.spread,
        "detectable_difference": None if math.isnan(table.detectable) else table.detectable,
        "power": POWER,
        "tests_in_family": family_size(list(table.tests)),
        "prompt_gain_half_width": table.prompt_noise,
    }


def noise_lines(table: Table) -> list[str]:
    """Under a table: its family of tests, detectable difference and prompt-sampling noise."""
    record = noise_record(table)
    lines = [
        f"Tests: {record['tests_in_family']} in this table's family, Holm-adjusted together.",
    ]
    if record["detectable_difference"] is None:
        lines.append("Detectable difference: n/a (no row's test reward varies over seeds).")
    else:
        lines.append(
            f"Detectable difference: ≈ {table.detectable:.3f} in test reward at"
            f" {table.seeds} seeds ({POWER:.0%} power, α {ALPHA}, before Holm; pooled SD over"
            f" seeds {table.spread:.3f})."
        )
    if table.prompt_noise is not None:
        lines.append(
            f"Prompt sampling: within one run, the 95% interval of the test gain over its"
            f" {table.conditions.get('eval.prompts', '?')} prompts has a median half-width of"
            f" {table.prompt_noise:.3f}; intervals over seeds do not include this variance."
        )
    return [f"{line}  " for line in lines[:-1]] + lines[-1:]
