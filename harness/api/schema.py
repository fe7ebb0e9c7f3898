"""The result.json schema, stop reasons and metric keys: declared once, read by the reporter.

Torch-free, so `bench report` can import it. The writer (harness/run/result.py) builds a
`RunResult`; the reader (reports/load.py) refuses a file whose `schema_version` it does not know.
Bump SCHEMA_VERSION whenever a key changes meaning or disappears.
"""

from typing import Any, NotRequired, TypedDict

SCHEMA_VERSION = 5  # 2: kl_gradient; 3: evals per split (sampled + greedy), role, eval_curve;
# 4: role report | tune | baseline (3 wrote "trained" for what is now "report"); 5: optional
# judge keys in eval_curve and heldout_gain["judges"], optional reward_cards
# An anchor row (`start`, `lead-n`, `echo`: what a trained row is read against) is marked on disk
# by role and stop reason "baseline": the name predates "anchor", and result.json keeps it.
ANCHOR = "baseline"
BUDGET_REASONS = ("samples", "tokens", "updates", "seconds")
# ANCHOR, evaluated: the stop reason of an anchor row and of an external checkpoint's row
STOP_REASONS = (*BUDGET_REASONS, "interrupted", "nonfinite", ANCHOR, "evaluated")
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
    "eos_share",
    "entropy",
    "novel_bigrams",
    "copy_rate",
    "repeat_4gram",
    "msttr",
)
EXTRACTIVE_METRICS = ("coverage", "density", "compression")  # tasks with `extractive = True`
GREEDY_PREFIX = "eval/greedy/"  # greedy-decoding counterparts of every `eval/` metric
FINAL_SPLITS = ("val", "test")  # evaluated at the start and the end; during training: val only
REPORT_SPLIT = "test"  # the leaderboard's split; sweeps select on val
# report: a leaderboard row; tune: a sweep's tuning trial (never a row); baseline (ANCHOR): an
# anchor row, `start` (the untrained policy) or a text anchor (`lead-n`, `echo`); external: a
# checkpoint trained elsewhere (`bench eval`)
ROLES = ("report", "tune", ANCHOR, "external")
# Chunk sizes that bound memory but leave the results unchanged (up to float round-off).
MEMORY_ONLY = ("rollout.micro_batch_prompts", "eval.batch_prompts")
# An algorithm's parts: presets (grpo, dapo, ...) set them and `-o` may override them. Rows of a
# leaderboard may differ in them (a GRPO row differs from a PPO row in its estimator), runs are
# pooled into one row only when they match, and each row shows its parts.
ALGORITHM_PARTS = (
    "rollout.advantage",
    "rollout.loss_agg",
    "rollout.dynamic_sampling",
    "rollout.kl_coef",
    "rollout.kl_placement",
    "rollout.kl_estimator",
    "rollout.kl_target",
    "rollout.kl_adapt_rate",
    "rollout.ema_decay",
    "rollout.gamma",
    "rollout.lam",
    "rollout.value_coef",
)
# What defines an evaluation (config sections and dotted keys; with the task's version): a
# anchor row is written once per seed for these and pooled with trained runs on these only.
EVALUATION_SECTIONS = ("policy", "precision", "task_options", "eval")
DEFAULT_PRECISION = "fp32"  # what a config.json without `precision` (before it existed) ran
EVALUATION_ROLLOUT = ("rollout.temperature", "rollout.max_new_tokens", "rollout.max_prompt_tokens")
EVAL_ROW_METRICS = ("seconds",)  # also in each evaluation's metrics.jsonl row
CURVE_KEYS = ("samples_seen", "train/reward", "train/kl_exact", "forward_tokens", "backward_tokens")
EVAL_CURVE_KEYS = ("update", "samples_seen", "eval/reward", "eval/kl_exact")  # val, sampled
# A judge is a task metric scoring the same completions with a model the policy never trained on
# (`eval/judge_rm`, `eval/judge_vader`): from version 5 it joins eval_curve and has a held-out
# gain like the reward's (heldout_gain["judges"]), so a report can set reward against judge.
JUDGE_PREFIX = "eval/judge_"


class RunResult(TypedDict):
    """result.json of one run; written last, so its absence marks an unfinished run."""

    schema_version: int
    task: str
    task_version: str
    algo: str  # a registered algorithm, `start` or a text anchor such as `lead-9`
    role: str  # one of ROLES
    policy: str
    seed: int
    stop_reason: str  # one of STOP_REASONS
    completed: bool  # stop_reason in BUDGET_REASONS
    spent: dict[str, float]  # samples, tokens, updates, seconds, forward_tokens, backward_tokens
    eval_before: dict[str, dict[str, float]]  # split → `eval/<metric>` and `eval/greedy/<metric>`
    eval_after: dict[str, dict[str, float]] | None  # the same; None when the run was interrupted
    eval_curve: list[dict[str, float]]  # EVAL_CURVE_KEYS of every val evaluation, in order
    heldout_gain: dict[str, Any] | None  # paired-bootstrap CI of the test reward change (5: and
    # "judges": {"eval/judge_<name>": the same CI for that judge's mean score}, when it has one)
    kl_gradient: str  # what the KL term's gradient is (choices.KL_GRADIENTS)
    curve: list[dict[str, float]]  # CURVE_KEYS per update (supervised: no train/reward)
    peak_rss_mb: float
    config: dict[str, Any]  # the resolved RunConfig
    env: dict[str, Any]  # provenance: versions, device, torch threads, git commit
    # version 5, optional: the reward and judge models a run read, by role ("reward", then the
    # judge metric's name): name, fingerprint (sha256 of the weights), held-out accuracy and, per
    # probe family, {real_beats_probe, n, held_out} (tasks/rewards/cards.py)
    reward_cards: NotRequired[dict[str, dict[str, Any]]]


REQUIRED_KEYS = tuple(k for k in RunResult.__annotations__ if k in RunResult.__required_keys__)


def version_problem(
    result: dict[str, Any], readable: tuple[int, ...] = (SCHEMA_VERSION,)
) -> str | None:
    """Why a reader of the `readable` versions cannot read a result.json (None when it can)."""
    found = result.get("schema_version")
    if found in readable and not isinstance(found, bool):
        return None
    versions = ", ".join(map(str, readable))
    if found is None:
        return f"result.json has no schema_version (this reporter reads version {versions})"
    return f"result.json has schema_version {found!r}; this reporter reads {versions}"
