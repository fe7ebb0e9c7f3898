"""Encoder–decoder (seq2seq) policies behind the same Policy interface as causal LMs.

The prompt goes to the encoder once per prompt; its states are repeated for the k completions
and the decoder runs on [decoder_start, completion tokens 0..T-2], so position t predicts
completion token t, exactly as `generate` did when it sampled it.
"""

import torch
from torch import Tensor
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput


def is_seq2seq(model: PreTrainedModel) -> bool:
    """Whether a model is an encoder–decoder (T5, BART, Marian, …)."""
    return bool(getattr(model.config, "is_encoder_decoder", False))


def seq2seq_outputs(
    model: PreTrainedModel,
    prompt_ids: Tensor,
    prompt_mask: Tensor,
    completion_ids: Tensor,
    with_hidden: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Logits (B, T, V) for each completion token and, with `with_hidden`, decoder states (B, T, H).

    B = P·k completions, prompts (P, L); the encoder runs once per prompt.
    """
    k = completion_ids.shape[0] // prompt_ids.shape[0]
    encoded = model.get_encoder()(input_ids=prompt_ids, attention_mask=prompt_mask)
    states = encoded.last_hidden_state.repeat_interleave(k, dim=0)
    start = torch.full(
        (completion_ids.shape[0], 1),
        model.config.decoder_start_token_id,
        dtype=completion_ids.dtype,
        device=completion_ids.device,
    )
    out = model(
        encoder_outputs=BaseModelOutput(last_hidden_state=states),
        attention_mask=prompt_mask.repeat_interleave(k, dim=0),
        decoder_input_ids=torch.cat([start, completion_ids[:, :-1]], dim=1),
        output_hidden_states=with_hidden,
    )
    hidden = out.decoder_hidden_states[-1] if with_hidden else None
    return out.logits, hidden


def decoder_tokens(sequences: Tensor) -> Tensor:
    """The sampled tokens of a seq2seq `generate` output (drop the decoder start token)."""
    return sequences[:, 1:]
