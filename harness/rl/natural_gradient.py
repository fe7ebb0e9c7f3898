"""Natural-gradient pieces: the Fisher-vector product of the mean token KL and conjugate gradient.

Pure tensor math on a policy and a batch (no I/O): TRPO (baselines/trpo.py) solves F x = g with
them; any natural-gradient method can reuse them.
"""

import warnings
from collections.abc import Callable

import torch
import torch.autograd.forward_ad as fwAD
from torch import Tensor
from torch.func import functional_call
from torch.nn.attention import SDPBackend, sdpa_kernel
from transformers import PreTrainedModel

from harness.api.algorithm import LossSettings
from harness.api.batch import Batch
from harness.rl.logprobs import completion_outputs

JIT_DEPRECATION = r"`torch\.jit\.script` is deprecated"


def fisher_product(
    model: PreTrainedModel,
    params: list[torch.nn.Parameter],
    batch: Batch,
    damping: float,
    settings: LossSettings,
) -> Callable[[Tensor], Tensor]:
    """v ↦ (∇²_θ mean KL(π_old‖π_θ) + damping·I) v at θ = θ_old, in Gauss–Newton form JᵀMJ v.

    At θ_old the KL's gradient in the logits vanishes, so its Hessian is exactly JᵀMJ
    (Schraudolph 2002; Martens 2014, §9): J the Jacobian of the completion logits in θ, M the
    Fisher of each tempered softmax, M u = (p ⊙ u − p (pᵀu)) / T², over the token count. Each
    product is one Jacobian-vector product (forward-mode AD) and one backward through the
    logits' graph, kept from one forward: no double-backward graph (TRPO's memory peak).

    Every call returns the same buffer, overwritten by the next call (conjugate_gradient drops
    each product before asking for the next): a fresh 0.5 GB vector per product on smollm2-135m
    cost about a second of page faults each time.
    """
    keys = parameter_keys(model, params)
    count = batch.completion_mask.sum().clamp(min=1.0)
    outputs = []
    for micro in batch.micro_batches(settings.micro_batch_prompts):
        with sdpa_kernel(SDPBackend.MATH):  # the kernel of the JVP below: the same numbers
            logits = MicroLogits(model, micro)()
        exact = logits.detach().to(torch.promote_types(logits.dtype, torch.float32))
        probs = torch.softmax(exact / settings.temperature, -1).to(logits.dtype)
        outputs.append((micro, logits, probs))

    total = params[0].new_empty(sum(p.numel() for p in params))

    def product(vector: Tensor) -> Tensor:
        tangents = split_like(vector, params)
        total.zero_()
        for micro, logits, probs in outputs:
            with fwAD.dual_level(), sdpa_kernel(SDPBackend.MATH), warnings.catch_warnings():
                # torch's first make_dual loads its JVP decompositions with torch.jit.script,
                # which torch itself deprecates (torch 2.13): not ours to fix, so only that one.
                warnings.filterwarnings("ignore", JIT_DEPRECATION, DeprecationWarning)
                duals = {
                    k: fwAD.make_dual(p.detach(), t)
                    for k, p, t in zip(keys, params, tangents, strict=True)
                }
                jv = fwAD.unpack_dual(functional_call(MicroLogits(model, micro), duals, ())).tangent
            mjv = (
                probs * jv - probs * (probs * jv).sum(-1, keepdim=True)
            ) / settings.temperature**2
            weights = mjv * (micro.completion_mask[..., None] / count)
            accumulate_into(total, logits, weights, params)
        return total.add_(vector, alpha=damping)

    return product


def accumulate_into(
    total: Tensor, logits: Tensor, weights: Tensor, params: list[torch.nn.Parameter]
) -> None:
    """total += ∂(logits · weights)/∂θ, through the kept graph of `logits`.

    Each parameter's .grad is a view of `total`, so backward adds every gradient into it in
    place as soon as it is ready (autograd first sums a tied weight's contributions): no
    parameter-sized set of gradients is ever allocated (0.5 GB on smollm2-135m). Should
    autograd replace a .grad rather than add into it, the new value is copied back.
    """
    parts = split_like(total, params)
    for param, part in zip(params, parts, strict=True):
        param.grad = part
    try:
        torch.autograd.backward(logits, weights, retain_graph=True, inputs=params)
        for param, part in zip(params, parts, strict=True):
            if param.grad is not None and param.grad.data_ptr() != part.data_ptr():
                part.copy_(param.grad)
    finally:  # never leave a parameter's .grad pointing into the buffer
        for param in params:
            param.grad = None


class MicroLogits(torch.nn.Module):
    """The completion logits of one micro-batch as a module call, for `functional_call`."""

    def __init__(self, model: PreTrainedModel, micro: Batch) -> None:
        super().__init__()
        self.model, self.micro = model, micro

    def forward(self) -> Tensor:
        m = self.micro
        ids, mask = m.completion_ids, m.completion_mask
        return completion_outputs(self.model, m.prompt_ids, m.prompt_mask, ids, mask)[0]


def parameter_keys(model: PreTrainedModel, params: list[torch.nn.Parameter]) -> list[str]:
    """The names of `params` as seen from a MicroLogits wrapper (`model.<name>`)."""
    names = {id(p): name for name, p in model.named_parameters()}
    return [f"model.{names[id(p)]}" for p in params]


def split_like(vector: Tensor, params: list[torch.nn.Parameter]) -> list[Tensor]:
    """A flat vector cut into views shaped like `params`."""
    sizes = [p.numel() for p in params]
    return [part.view_as(p) for part, p in zip(vector.split(sizes), params, strict=True)]


def conjugate_gradient(
    product: Callable[[Tensor], Tensor], b: Tensor, iters: int, tol: float = 1e-10
) -> tuple[Tensor, Tensor]:
    """Solve A x = b for SPD A given v ↦ A v (Hestenes–Stiefel); returns (x, residual b − A x).

    Updates run in place: on smollm2-135m each vector is 0.5 GB, and out-of-place updates
    would hold a second copy of x, r and p at every iteration. Each A v is used up before the
    next is asked for, so `product` may return the same buffer every time (fisher_product does).
    """
    x, r, p = torch.zeros_like(b), b.clone(), b.clone()
    rr = (b @ b).item()
    for _ in range(iters):
        if rr <= tol:
            break
        ap = product(p)
        alpha = rr / (p @ ap).item()
        x.add_(p, alpha=alpha)
        r.sub_(ap, alpha=alpha)
        del ap
        new_rr = (r @ r).item()
        p.mul_(new_rr / rr).add_(r)
        rr = new_rr
    return x, r
