"""The result.json schema, stop reasons and metric keys: declared once, read by the reporter.

Torch-free, so `bench report` can import it. The writer (harness/run/result.py) builds a
`RunResult`; the reader (reports/load.py) refuses a file whose `schema_version` it does not know.
Bump SCHEMA_VERSION whenever a key changes meaning or disappears.
"""

from typing import Any, TypedDict

SCHEMA_VERSION = 2  # 2: kl_gradient
BUDGET_REASONS = ("samples", "tokens", "updates", "seconds")
STOP_REASONS = (*BUDGET_REASONS, "interrupted", "nonfinite")
EVAL_METRICS = (  # every task's evaluation has these (prefixed `eval/`); tasks add their own
    "reward",
    "kl_exact",
    "kl_exact_seq",
    "kl_k1",
    "kl_k1_seq",
    "distinct_1",
    "distinct_2",
    "self_bleu",
    "length",
    "tokens",
)
EVAL_ROW_METRICS = ("seconds",)  # also in each evaluation's metrics.jsonl row
CURVE_KEYS = ("samples_seen", "train/reward", "train/kl_exact")


class RunResult(TypedDict):
    """result.json of one run; written last, so its absence marks an unfinished run."""

    schema_version: int
    task: str
    task_version: str
    algo: str
    policy: str
    seed: int
    stop_reason: str  # one of STOP_REASONS
    completed: bool  # stop_reason in BUDGET_REASONS
    spent: dict[str, float]  # samples, tokens, updates, seconds
    eval_before: dict[str, float]  # `eval/<metric>`
    eval_after: dict[str, float] | None  # None when the run was interrupted
    heldout_gain: dict[str, Any] | None  # paired-bootstrap CI of the held-out reward change
    kl_gradient: str  # what the KL term's gradient is (choices.KL_GRADIENTS)
    curve: list[dict[str, float]]  # CURVE_KEYS per update
    peak_rss_mb: float
    config: dict[str, Any]  # the resolved RunConfig
    env: dict[str, Any]  # provenance: versions, device, torch threads, git commit


REQUIRED_KEYS = tuple(RunResult.__annotations__)


def version_problem(result: dict[str, Any]) -> str | None:
    """Why a result.json cannot be read by this version (None when it can)."""
    found = result.get("schema_version")
    if found == SCHEMA_VERSION:
        return None
    if found is None:
        return f"result.json has no schema_version (this reporter reads version {SCHEMA_VERSION})"
    return f"result.json has schema_version {found!r}; this reporter reads {SCHEMA_VERSION}"
