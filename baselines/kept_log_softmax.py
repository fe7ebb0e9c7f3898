"""π_old's log-softmax over the completions, kept small until TRPO's line search needs it.

The line search measures the exact mean KL(π_old‖π_θ) at every trial, so it needs π_old's whole
log-softmax (B, T, V), taken at θ_old before conjugate gradient: 0.2 GB on smollm2-135m (32
completions × 32 tokens × 49,152), held through CG, where TRPO's memory peaks. Taking it again
after CG would cost a forward pass that the compute column charges to TRPO. Instead: the logits
of every position after the first are the output embedding applied to the trunk's last hidden
state, H numbers (576) instead of V, so those hidden states are kept and the head is applied
again with θ_old's head weights when asked: the same call on the same shapes, so the same numbers
to the bit. The first position comes from the prompt pass and is kept as it is (B, 1, V).
`keep_log_softmax` checks the bits once and keeps the whole log-softmax where they differ (a
model that scales or caps its logits after the head, or has no output embedding).
"""

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.func import functional_call
from transformers import PreTrainedModel

from harness.policies.precision import autocast_region
from harness.rl.logprobs import tempered_log_softmax


@dataclass(frozen=True)
class KeptLogSoftmax:
    """One micro-batch's π_old log-softmax at `temperature`: `first` (B, T, V) whole when `hidden`
    is None, else its first position (B, 1, V) and the last hidden states of the others
    (B, T − 1, H)."""

    first: Tensor
    hidden: Tensor | None
    temperature: float

    def restore(self, model: PreTrainedModel, head_weights: dict[str, Tensor]) -> Tensor:
        """The log-softmax (B, T, V): the model's output embedding with `head_weights` (θ_old's)
        on the hidden states, in the model's own precision (autocast where it runs under it)."""
        if self.hidden is None:
            return self.first
        with autocast_region(model):
            logits = functional_call(model.get_output_embeddings(), head_weights, (self.hidden,))
        return torch.cat([self.first, tempered_log_softmax(logits, self.temperature)], dim=1)


def keep_log_softmax(
    model: PreTrainedModel, logp: Tensor, hidden: Tensor, temperature: float
) -> KeptLogSoftmax:
    """Keep `logp` (B, T, V), the tempered log-softmax the model gave with last hidden states
    `hidden` (B, T, H) at its current weights, in the small form where it restores to the bit."""
    logp = logp.detach()
    head = model.get_output_embeddings()
    if head is None:
        return KeptLogSoftmax(logp, None, temperature)
    kept = KeptLogSoftmax(logp[:, :1].clone(), hidden[:, 1:].detach().contiguous(), temperature)
    with torch.no_grad():
        again = kept.restore(model, dict(head.named_parameters()))
    return kept if torch.equal(again, logp) else KeptLogSoftmax(logp, None, temperature)
