"""Pure sampling: a policy's own generation defaults neutralised, so tokens come from softmax(z/T).

`generate` fills every field that the GenerationConfig it is given leaves unset from the model's
`generation_config` (repetition_penalty, no_repeat_ngram_size, min_length, bad_words_ids, …).
The old log-probs, the exact KL and the PPO/TRPO ratios all use the raw logits / T, so any such
processor would make the sampled tokens come from a different distribution than the one every
algorithm optimises. `neutralise` resets them on the loaded model, once, and reports which.
"""

import hashlib
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from transformers import GenerationConfig, LogitsProcessor

NEUTRAL: dict[str, Any] = {  # field → the value under which it changes nothing
    "repetition_penalty": 1.0,
    "encoder_repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "encoder_no_repeat_ngram_size": 0,
    "min_length": 0,
    "min_new_tokens": None,
    "bad_words_ids": None,
    "force_words_ids": None,
    "constraints": None,
    "sequence_bias": None,
    "suppress_tokens": None,
    "begin_suppress_tokens": None,
    "forced_bos_token_id": None,
    "forced_eos_token_id": None,
    "exponential_decay_length_penalty": None,
    "num_beams": 1,
    "num_beam_groups": 1,
    "diversity_penalty": 0.0,
    "length_penalty": 1.0,
    "penalty_alpha": None,
    "typical_p": 1.0,
    "epsilon_cutoff": 0.0,
    "eta_cutoff": 0.0,
    "min_p": None,
    "top_h": None,
    "top_k": 0,
    "top_p": 1.0,
    "guidance_scale": None,
    "renormalize_logits": False,
    "remove_invalid_values": False,
    "watermarking_config": None,
    "stop_strings": None,
    "dola_layers": None,
    "low_memory": None,
}


def neutralise(config: GenerationConfig) -> list[str]:
    """Set every sampling field of `config` to its neutral value; `field=old` for each changed."""
    changed = []
    for name, neutral in NEUTRAL.items():
        value = getattr(config, name, None)
        if value is not None and value != neutral:
            changed.append(f"{name}={value}")
            setattr(config, name, neutral)
    return changed


def neutral_fields() -> dict[str, Any]:
    """The neutral values that a GenerationConfig can hold explicitly (None stays unset)."""
    return {name: value for name, value in NEUTRAL.items() if value is not None}


class SeededGumbel(LogitsProcessor):
    """Sampling from softmax(z / T) with one random stream per row, for greedy `generate`.

    argmax(z / T + G) with G i.i.d. standard Gumbel is an exact draw from softmax(z / T)
    (the Gumbel-max trick). Each row draws G from its own generator, so which completion a row
    gets does not depend on which other rows share its batch. `generate` records the raw
    logits (output_logits) before this processor, so log-probs and KL are unaffected.
    """

    def __init__(self, seeds: Sequence[int], temperature: float, device: torch.device) -> None:
        self.generators = [torch.Generator(device=device).manual_seed(s) for s in seeds]
        self.temperature = temperature

    def __call__(self, input_ids: Tensor, scores: Tensor) -> Tensor:
        del input_ids
        vocab, device = scores.shape[-1], scores.device
        uniform = torch.stack(
            [torch.rand(vocab, generator=g, device=device) for g in self.generators]
        )
        tiny = torch.finfo(uniform.dtype).tiny
        gumbel = -torch.log(-torch.log(uniform.clamp_min(tiny)))
        return scores.float() / self.temperature + gumbel


def row_seed(*parts: object) -> int:
    """A 63-bit seed from the parts' text (run seed, prompt id, sample index), stable anywhere."""
    text = ":".join(map(str, parts))
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)
