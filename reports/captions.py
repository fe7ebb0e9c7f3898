"""The words around the numbers: table titles, the KL lines and how every number was made."""

from harness.api.schema import REPORT_SPLIT
from reports.aggregate import CI_METHOD, MIN_SEEDS, Row, Table
from reports.columns import DAGGER
from reports.parts import NO_KL, kl_meaning, kl_setting, kl_words
from reports.pooling import RULE
from reports.significance import ALPHA, TEST_NAME

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
BASELINES = (
    "Baseline rows are scored on the same prompts and ranked with the trained rows: start = the"
    " policy before training, lead-n = the first n source words as the output. Their Δ vs start"
    " is n/a; a trained row whose mean test reward does not exceed a lead-n row's is flagged"
    " 'does not beat lead-n'."
)
MATCHED = (
    "Matched KL: KL* = the largest per-token exact KL(π‖π_ref) on val that every trained run"
    " reached (the minimum over trained runs of the maximum along the run's val eval curve)."
    " Each trained run's val reward at KL* is interpolated linearly in KL on the first segment of"
    " its eval curve (in update order) that reaches KL*; a row shows the mean over seeds with"
    " the same CI. n/a for baseline rows, and for every row when KL* is 0."
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
        if not row.baseline:
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


def named(rows: list[Row]) -> str:
    """The rows' labels, comma-separated, in table order."""
    return ", ".join(row.label for row in rows)


def method_lines() -> list[str]:
    """How the numbers were made, printed once at the top of every report."""
    return [
        f"Every number is a mean over seeds with its CI [low, high]: {CI_METHOD}.",
        f"{RANKING} 'vs best' is a {TEST_NAME} against the rank-1 row (* p < {ALPHA}, n.s."
        " otherwise).",
        SPLITS,
        BASELINES,
        MATCHED,
        COMPUTE,
        HACKING,
        f"{DAGGER} the cell rests on fewer than {MIN_SEEDS} seeds: its CI is not reliable.",
        f"Pooling: {RULE}",
    ]


def method_record() -> dict[str, str | float]:
    """The same notes as leaderboard.json's `method`."""
    return {
        "ci": CI_METHOD,
        "test": TEST_NAME,
        "alpha": ALPHA,
        "rank": RANKING,
        "splits": SPLITS,
        "baselines": BASELINES,
        "matched_kl": MATCHED,
        "compute": COMPUTE,
        "hacking": HACKING,
        "pooling": RULE,
    }
