"""The closed choices of a run config, declared once as `Literal` types.

The config checks values against these before anything is loaded, and the modules that act on a
choice key their tables by the same type, so a new option is added in one place.
"""

from typing import Literal, get_args

Split = Literal["train", "val", "test"]
Advantage = Literal[
    "rloo",
    "group-norm",
    "group-mean",
    "batch-whiten",
    "group-batch-whiten",
    "remax",
    "batch-mean",
    "ema",
    "none",
    "gae",
]
RatioLevel = Literal["token", "sequence"]
GROUP_ESTIMATORS = ("rloo", "group-norm", "group-mean", "group-batch-whiten")  # need k ≥ 2
LossAgg = Literal[
    "seq-mean-token-sum", "seq-mean-token-mean", "token-mean", "seq-mean-token-sum-norm"
]
KLPlacement = Literal["reward", "loss"]
KLEstimator = Literal["k1", "k2", "k3"]
Precision = Literal["fp32", "bf16"]  # forward passes (bf16: autocast, harness/policies/precision)
RunRole = Literal["report", "tune", "external"]  # a leaderboard row, a tuning trial, `bench eval`

SPLITS: tuple[Split, ...] = get_args(Split)

# What the gradient of the KL term is, for each allowed (placement, estimator) pair. With
# sequences, only k1 summed into the return gives the gradient of the sequence KL(π‖π_ref);
# in the loss, k2 and k3 act per token at each visited prefix (Tang & Munos 2025,
# arXiv 2506.09477). Tested by exact enumeration in tests/test_kl_gradients.py.
KL_GRADIENTS: dict[tuple[KLPlacement, KLEstimator], str] = {
    ("reward", "k1"): "sequence KL(π‖π_ref) (k1 in the return: exact)",
    ("loss", "k2"): "per-token KL(π‖π_ref) at each visited prefix (not the sequence KL)",
    ("loss", "k3"): "per-token reverse KL(π_ref‖π) at each visited prefix (GRPO's choice)",
}
KL_REFUSED: dict[tuple[KLPlacement, KLEstimator], str] = {
    ("loss", "k1"): "k1 in the loss has zero expected gradient (a silent no-op)",
    ("reward", "k2"): "k2 in the reward is a biased estimate of the sequence KL",
    ("reward", "k3"): "k3 in the reward is a biased estimate of the sequence KL",
}
