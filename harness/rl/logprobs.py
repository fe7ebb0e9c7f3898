"""Token log-probabilities of sampled completions, sharing each prompt's forward pass.

A rollout has P prompts and k completions per prompt (rows of one prompt are consecutive).
The prompt is run once, its key/value cache is repeated k times, and only the completion
tokens are run on top of it; logits are produced only at completion positions. This is what
keeps a 135M-parameter policy affordable on two CPU cores.
"""

import torch
from torch import Tensor
from transformers import PreTrainedModel

from harness.policies.kv_cache import returned_cache, with_cache
from harness.policies.seq2seq import is_seq2seq, seq2seq_outputs


def prompt_positions(prompt_mask: Tensor) -> Tensor:
    """Position ids of left-padded prompts, as `generate` assigns them (pads get 0)."""
    return (prompt_mask.long().cumsum(-1) - 1).clamp(min=0)


def completion_logits(
    model: PreTrainedModel,
    prompt_ids: Tensor,
    prompt_mask: Tensor,
    completion_ids: Tensor,
    completion_mask: Tensor,
) -> Tensor:
    """Logits (B, T, V) that predict each completion token; B = P·k, prompts (P, L) left-padded.

    The result at [b, t] is the model's next-token logits after prompt b//k and completion
    tokens b, 0..t-1, exactly what `generate` computed when it sampled token t.
    """
    logits, _ = completion_outputs(model, prompt_ids, prompt_mask, completion_ids, completion_mask)
    return logits


def completion_outputs(
    model: PreTrainedModel,
    prompt_ids: Tensor,
    prompt_mask: Tensor,
    completion_ids: Tensor,
    completion_mask: Tensor,
    with_hidden: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """`completion_logits` and, with `with_hidden`, the trunk's last hidden states (B, T, H)."""
    if is_seq2seq(model):  # encoder–decoder policies: see harness/seq2seq.py
        return seq2seq_outputs(model, prompt_ids, prompt_mask, completion_ids, with_hidden)
    k = completion_ids.shape[0] // prompt_ids.shape[0]
    prompt_out = model(
        input_ids=prompt_ids,
        attention_mask=prompt_mask,
        position_ids=prompt_positions(prompt_mask),
        use_cache=True,
        logits_to_keep=1,
        output_hidden_states=with_hidden,
    )
    first = prompt_out.logits[:, -1:, :].repeat_interleave(k, dim=0)
    first_hidden = last_hidden(prompt_out, k) if with_hidden else None
    if completion_ids.shape[1] == 1:
        return first, first_hidden
    cache = returned_cache(prompt_out)
    cache.batch_repeat_interleave(k)
    start = prompt_mask.long().sum(-1).repeat_interleave(k)
    steps = torch.arange(completion_ids.shape[1] - 1, device=completion_ids.device)
    mask = torch.cat([prompt_mask.repeat_interleave(k, dim=0), completion_mask[:, :-1]], dim=1)
    rest = model(
        input_ids=completion_ids[:, :-1],
        attention_mask=mask.long(),
        position_ids=start[:, None] + steps[None, :],
        **with_cache(model, cache),
        use_cache=True,
        output_hidden_states=with_hidden,
    )
    logits = torch.cat([first, rest.logits], dim=1)
    if not with_hidden:
        return logits, None
    return logits, torch.cat([first_hidden, rest.hidden_states[-1]], dim=1)


def last_hidden(prompt_out, k: int) -> Tensor:
    """The final hidden state at each prompt's last position, repeated k times: (P·k, 1, H)."""
    return prompt_out.hidden_states[-1][:, -1:, :].repeat_interleave(k, dim=0)


def tempered_log_softmax(logits: Tensor, temperature: float) -> Tensor:
    """log softmax(logits / T) over the vocabulary (…, V), computed in at least fp32.

    bf16/fp16 logits are widened to fp32 (their log-softmax is too coarse for ratios), fp64 is
    kept; every log-probability and KL of the harness goes through this one function.
    """
    wide = logits.to(torch.promote_types(logits.dtype, torch.float32))
    return torch.log_softmax(wide / temperature, dim=-1)


def gather_tokens(logprobs: Tensor, token_ids: Tensor) -> Tensor:
    """log π(token) (B, T) picked from log-probabilities over the vocabulary (B, T, V)."""
    return logprobs.gather(-1, token_ids.unsqueeze(-1)).squeeze(-1)


def gather_logprobs(logits: Tensor, token_ids: Tensor, temperature: float = 1.0) -> Tensor:
    """log π(token) (B, T) from logits (B, T, V) under the tempered distribution."""
    return gather_tokens(tempered_log_softmax(logits, temperature), token_ids)


def tempered_entropy(logits: Tensor, temperature: float) -> Tensor:
    """Exact entropy H(softmax(logits / T)) = −Σ_v p_v log p_v at each position: (…, V) → (…)."""
    logp = tempered_log_softmax(logits, temperature)
    return -(logp.exp() * logp).sum(-1)
