"""The words around the numbers: table titles, the KL line and how every number was made."""

from harness.api.choices import KL_GRADIENTS
from harness.api.schema import REPORT_SPLIT
from reports.aggregate import CI_METHOD, MIN_SEEDS, Table
from reports.columns import DAGGER
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


def kl_line(table: Table) -> str:
    """`KL penalty: β 0.01, k1 in the reward; its gradient is that of the sequence KL(π‖π_ref)`."""
    conditions = table.conditions
    placement = conditions.get("rollout.kl_placement", "reward")
    estimator = conditions.get("rollout.kl_estimator", "k1")
    meaning = KL_GRADIENTS.get((placement, estimator), "not a supported KL option")
    target = conditions.get("rollout.kl_target")
    coef = f"β {conditions.get('rollout.kl_coef', 'mixed')}" + (
        f" adapted to {target} nats/sequence" if target is not None else ""
    )
    return f"KL penalty: {coef}, {estimator} in the {placement}; its gradient: {meaning}."


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
