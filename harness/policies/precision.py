"""Numeric precision of a policy's forward passes: fp32 (default) or bf16 autocast (opt-in).

bf16 runs every forward of the policy and its reference under `torch.autocast`: matmuls in
bf16, weights, optimizer state and every log-softmax, KL and loss in fp32 (log-probabilities
are widened in `tempered_log_softmax`). On CPUs with AVX512-BF16 and on GPUs this is the
largest speed-up there is, but sampling-time and update-time log-probs then differ by bf16
round-off, so PPO's first-epoch ratio is no longer exactly 1 (tests/test_precision.py states
the tolerance) and a bf16 run never pools with an fp32 one in a report.
"""

import functools
import types
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel

from harness.api.choices import Precision

AUTOCAST_DTYPES: dict[Precision, torch.dtype] = {"bf16": torch.bfloat16}


def autocast_forward(model: PreTrainedModel, precision: Precision) -> None:
    """Make every call of `model` (generate, forward, functional_call) run under autocast.

    The wrapper is bound to the instance, so `copy.deepcopy` (the frozen reference) rebinds
    it to the copy; weights and `state_dict` are untouched. fp32 leaves the model as it is.
    It keeps the class forward's signature: `generate` passes only the arguments that
    signature names (without it, no position_ids, and left-padded rows get wrong positions).
    """
    if precision not in AUTOCAST_DTYPES:
        return
    dtype = AUTOCAST_DTYPES[precision]

    @functools.wraps(type(model).forward)
    def forward(self: PreTrainedModel, *args: Any, **kwargs: Any) -> Any:
        with torch.autocast(self.device.type, dtype=dtype):
            return type(self).forward(self, *args, **kwargs)

    forward.autocast_dtype = dtype  # type: ignore[attr-defined]  # read by `autocast_region`
    model.forward = types.MethodType(forward, model)


def autocast_region(model: PreTrainedModel) -> AbstractContextManager[Any]:
    """One autocast region around many forwards of `model` (a whole `generate`), or nothing.

    Autocast caches the low-precision copy of each trainable weight until its outermost region
    ends; one region per decode loop casts the weights once instead of once per token (the
    same values, so the same tokens and logits).
    """
    dtype = getattr(model.forward, "autocast_dtype", None)
    return nullcontext() if dtype is None else torch.autocast(model.device.type, dtype=dtype)


def store_matmul_weights_low(model: PreTrainedModel) -> None:
    """Keep a frozen model's linear weights in its autocast dtype (none: leave it as it is).

    Autocast casts a frozen weight again at every call (it caches only trainable ones); the
    cast is exact rounding, so storing the rounded weight gives the same outputs, with half the
    memory. A linear layer tied to the input embedding (a tied LM head) keeps its fp32 weight:
    the embedding lookup is not autocast and must stay fp32.
    """
    dtype = getattr(model.forward, "autocast_dtype", None)
    if dtype is None:
        return
    embedding = model.get_input_embeddings().weight
    for module in model.modules():
        if isinstance(module, nn.Linear) and module.weight is not embedding:
            module.weight.data = module.weight.data.to(dtype)
            if module.bias is not None:
                module.bias.data = module.bias.data.to(dtype)
