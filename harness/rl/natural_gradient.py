"""Natural-gradient pieces: the Fisher-vector product of the mean token KL and conjugate gradient.

Pure tensor math on a policy and a batch (no I/O): TRPO (baselines/trpo.py) solves F x = g with
them; any natural-gradient method can reuse them.
"""

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.autograd.forward_ad as fwAD
from torch import Tensor
from torch.func import functional_call
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.utils import parameters_to_vector
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
    cost about a second of page faults each time. Call it inside `flat_parameters(params)`:
    otherwise forward-mode AD copies every tangent, another parameter-sized vector per product.
    """
    keys = parameter_keys(model, params)
    count = batch.completion_mask.sum().clamp(min=1.0)
    outputs = []
    for micro in batch.micro_batches(settings.micro_batch_prompts):
        # The default attention kernel: a fused one keeps no attention matrices for the
        # backward. The JVP below needs the math kernel (no fused one has forward-mode AD), so
        # J v and Jᵀu round differently: products agree to ~4e-6 relative in fp32 on smollm2.
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
            weights = softmax_fisher_product(probs, jv, settings.temperature)
            del jv  # a (B, T, V) tensor: not kept through the backward
            weights.mul_(micro.completion_mask[..., None] / count)
            accumulate_into(total, logits, weights, params)
        return total.add_(vector, alpha=damping)

    return product


def softmax_fisher_product(probs: Tensor, u: Tensor, temperature: float) -> Tensor:
    """M u for M the Fisher of a tempered softmax in its logits: (p ⊙ u − p (pᵀu)) / T².

    probs, u: (B, T, V) → (B, T, V); M = (diag p − p pᵀ) / T² is the Hessian of KL(p‖softmax(z/T))
    in z at p's own logits.
    """
    weighted = probs * u
    return (weighted - probs * weighted.sum(-1, keepdim=True)) / temperature**2


@contextmanager
def flat_parameters(params: list[torch.nn.Parameter]) -> Iterator[Tensor]:
    """Inside: every parameter a view of one flat vector (yielded); after: each its own storage.

    Forward-mode AD takes a tangent as it is only when it has the primal's storage layout. The
    tangents fisher_product passes are views of one flat vector (conjugate gradient's), so with
    parameters that own their storage each product copied all of them: 0.5 GB more at TRPO's
    memory peak on smollm2-135m. Values never change; the swap costs one copy each way.
    Outside, parameters own their storage again, as save_pretrained expects (safetensors takes
    tensors that share storage for tied weights).
    """
    flat = parameters_to_vector(params).detach()
    for param, view in zip(params, split_like(flat, params), strict=True):
        param.data = view
    try:
        yield flat
    finally:
        for param in params:
            param.data = param.data.clone()


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


def module_weights(
    module: torch.nn.Module, params: list[torch.nn.Parameter], vector: Tensor
) -> dict[str, Tensor]:
    """`module`'s parameters by name, as views of `vector` (θ flat, over `params`) where they are
    among `params`, else as they are: weights for `functional_call` at θ."""
    views = {id(p): view for p, view in zip(params, split_like(vector, params), strict=True)}
    return {name: views.get(id(p), p) for name, p in module.named_parameters()}


@dataclass(frozen=True)
class Solution:
    """Conjugate gradient's answer: x ≈ A⁻¹b, ‖r‖ (the recursive residual r ≈ b − A x), xᵀA x
    and bᵀx."""

    x: Tensor
    residual_norm: float
    curvature: float
    b_dot_x: float


def conjugate_gradient(
    product: Callable[[Tensor], Tensor], b: Tensor, iters: int, tol: float = 1e-10
) -> Solution:
    """Solve A x = b for SPD A given v ↦ A v (Hestenes–Stiefel); b is used up as the residual.

    The caller gets xᵀA x and bᵀx as numbers instead of keeping a copy of b (on smollm2-135m each
    vector is 0.5 GB). xᵀA x is carried along exactly, without assuming the directions stay
    A-conjugate (in fp32 they drift: Σᵢ αᵢ rᵢᵀrᵢ was off by up to 5e-4 relative):
    (x + α p)ᵀA(x + α p) = xᵀA x + α (2 xᵀA p + α pᵀA p). Then bᵀx = xᵀ(A x) + xᵀr, since the
    residual r = b − Σᵢ αᵢ A pᵢ and A x = Σᵢ αᵢ A pᵢ. Updates run in place for the same reason;
    each A v is used up before the next is asked for, so `product` may return the same buffer
    every time (fisher_product does).
    """
    x, r, p = torch.zeros_like(b), b, b.clone()
    rr, curvature = (r @ r).item(), 0.0
    for _ in range(iters):
        if rr <= tol:
            break
        ap = product(p)
        pap = (p @ ap).item()
        alpha = rr / pap
        curvature += alpha * (2.0 * (x @ ap).item() + alpha * pap)
        x.add_(p, alpha=alpha)
        r.sub_(ap, alpha=alpha)
        del ap
        new_rr = (r @ r).item()
        p.mul_(new_rr / rr).add_(r)
        rr = new_rr
    return Solution(x, math.sqrt(rr), curvature, curvature + (x @ r).item())
