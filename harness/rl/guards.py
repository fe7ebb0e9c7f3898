"""Numerical guards: a NaN or inf is caught before it reaches the weights.

The runner catches `NonFinite`, stops the run with stop_reason `nonfinite` and names the
quantity and the update; the weights are those of the last good update.
"""

import math

import torch
from torch import Tensor


class NonFinite(ArithmeticError):
    """A quantity that must be finite was NaN or infinite (`quantity` names it)."""

    def __init__(self, quantity: str, detail: str = "") -> None:
        super().__init__(f"{quantity} is not finite{f' ({detail})' if detail else ''}")
        self.quantity = quantity


def check_finite(quantity: str, values: Tensor | float) -> None:
    """Raise NonFinite when any element of `values` is NaN or ±inf."""
    if isinstance(values, Tensor):
        bad = int((~torch.isfinite(values)).sum())
        if bad:
            raise NonFinite(quantity, f"{bad} of {values.numel()} values")
    elif not math.isfinite(values):
        raise NonFinite(quantity, str(values))
