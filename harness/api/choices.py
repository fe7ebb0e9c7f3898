"""The closed choices of a run config, declared once as `Literal` types.

The config checks values against these before anything is loaded, and the modules that act on a
choice key their tables by the same type, so a new option is added in one place.
"""

from typing import Literal, get_args

Split = Literal["train", "val", "test"]
Advantage = Literal["rloo", "batch-mean", "ema", "none", "gae"]
KLPlacement = Literal["reward", "loss"]
KLEstimator = Literal["k1", "k2", "k3"]

SPLITS: tuple[Split, ...] = get_args(Split)
