"""Advantage estimators shared by every algorithm, selected by `rollout.advantage`.

All take sequence returns (B,) with the k completions of each prompt in consecutive rows and
return advantages (B,).
"""

from collections.abc import Callable

from torch import Tensor

from harness.errors import unknown_choice


def leave_one_out(returns: Tensor, samples_per_prompt: int) -> Tensor:
    """RLOO: A_i = R_i − mean_{j≠i} R_j over the k samples of the same prompt.

    Kool et al. 2019, "Buy 4 REINFORCE samples, get a baseline for free!"; Ahmadian et al.
    2024, eq. 6. Equivalent to k/(k−1) · (R_i − mean_j R_j).
    """
    k = samples_per_prompt
    if k < 2:
        raise ValueError(f"rloo needs samples_per_prompt >= 2, got {k}")
    grouped = returns.view(-1, k)
    baseline = (grouped.sum(-1, keepdim=True) - grouped) / (k - 1)
    return (grouped - baseline).reshape(-1)


def batch_mean(returns: Tensor, samples_per_prompt: int) -> Tensor:
    """A_i = R_i − mean over the whole batch (a constant baseline)."""
    del samples_per_prompt
    return returns - returns.mean()


def no_baseline(returns: Tensor, samples_per_prompt: int) -> Tensor:
    """A_i = R_i: plain REINFORCE without a baseline."""
    del samples_per_prompt
    return returns.clone()


ESTIMATORS: dict[str, Callable[[Tensor, int], Tensor]] = {
    "rloo": leave_one_out,
    "batch-mean": batch_mean,
    "none": no_baseline,
}


def estimate(name: str, returns: Tensor, samples_per_prompt: int) -> Tensor:
    """Apply the estimator called `name`."""
    if name not in ESTIMATORS:
        raise unknown_choice("advantage estimator", name, ESTIMATORS)
    return ESTIMATORS[name](returns, samples_per_prompt)
