"""Sampling k completions per prompt in one batched `generate` call (KV cache on)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor
from transformers import GenerationConfig, LogitsProcessorList

from harness.api.batch import prompt_chunks
from harness.api.task import Example
from harness.policies.kv_cache import returned_cache, with_cache
from harness.policies.policy import Policy
from harness.policies.precision import autocast_region
from harness.policies.sampling import SeededGumbel, neutral_fields
from harness.policies.seq2seq import decoder_tokens, is_seq2seq
from harness.rl.kl import exact_kl
from harness.rl.logprobs import completion_logits, gather_logprobs, prompt_positions

Draw = Literal["sample", "greedy"] | tuple[int, ...]


@dataclass(frozen=True)
class Rollout:
    """P prompts × k completions; the k completions of a prompt are consecutive rows.

    prompt_ids, prompt_mask: (P, L) left-padded. completion_ids: (B, T) with B = P·k.
    completion_mask: (B, T) float, 1 up to and including the first end-of-sequence token.
    logits: (B, T, V) the sampling policy's logits at each completion position (no grad).
    """

    examples: tuple[Example, ...]
    prompt_ids: Tensor
    prompt_mask: Tensor
    completion_ids: Tensor
    completion_mask: Tensor
    logits: Tensor
    completions: tuple[str, ...]
    samples_per_prompt: int

    def repeated_examples(self) -> list[Example]:
        """The example of each completion row (B,)."""
        return [e for e in self.examples for _ in range(self.samples_per_prompt)]


def encode_prompts(
    policy: Policy, examples: Sequence[Example], max_prompt_tokens: int
) -> tuple[Tensor, Tensor]:
    """Left-padded prompt ids and mask (P, L), cut from the left to `max_prompt_tokens`."""
    texts = [policy.format(e.prompt) for e in examples]
    encoded = policy.tokenizer(
        texts,
        return_tensors="pt",
        padding=True,
        truncation=True,
        max_length=max_prompt_tokens,
        add_special_tokens=not policy.chat,
    )
    device = policy.model.device
    return encoded["input_ids"].to(device), encoded["attention_mask"].to(device)


def completion_mask(completion_ids: Tensor, eos_token_id: int) -> Tensor:
    """1.0 for tokens up to and including the first EOS, 0.0 after it (B, T)."""
    is_eos = (completion_ids == eos_token_id).long()
    after_eos = (is_eos.cumsum(-1) - is_eos) > 0
    return (~after_eos).float()


def shared_prompt_cache(policy: Policy, prompt_ids: Tensor, prompt_mask: Tensor, k: int):
    """KV cache of every prompt but its last token, computed once and repeated k times.

    `generate` with num_return_sequences would prefill each prompt k times; with this cache it
    runs only the last prompt token and the new tokens.
    """
    if prompt_ids.shape[1] < 2 or is_seq2seq(policy.model):
        return None
    cache = returned_cache(
        policy.model(
            input_ids=prompt_ids[:, :-1],
            attention_mask=prompt_mask[:, :-1],
            position_ids=prompt_positions(prompt_mask[:, :-1]),
            use_cache=True,
            logits_to_keep=1,
        )
    )
    cache.batch_repeat_interleave(k)
    return cache


@torch.no_grad()
def sample_rollout(
    policy: Policy,
    examples: Sequence[Example],
    samples_per_prompt: int,
    max_new_tokens: int,
    temperature: float,
    max_prompt_tokens: int,
    draw: Draw = "sample",
) -> Rollout:
    """Draw `samples_per_prompt` completions for each example, as `draw` says.

    "sample": pure ancestral sampling from softmax(z / T) on the global RNG (training).
    A tuple of row seeds (one per completion row): the same distribution, each row from its own
    stream (held-out evaluation: a row's completion does not depend on the batch it is in).
    "greedy": argmax decoding. No top-k/top-p/repetition processors in any case: the tokens
    must come from exactly the distribution whose log-probabilities the algorithms optimise.
    """
    prompt_ids, prompt_mask = encode_prompts(policy, examples, max_prompt_tokens)
    eos = policy.tokenizer.eos_token_id
    sampling = draw == "sample"
    processors = LogitsProcessorList()
    if not isinstance(draw, str):
        processors.append(SeededGumbel(draw, temperature, prompt_ids.device))
    settings = GenerationConfig(
        **neutral_fields(),  # pure sampling even for a model whose own defaults were never reset
        do_sample=sampling,
        temperature=temperature if sampling else 1.0,
        max_new_tokens=max_new_tokens,
        eos_token_id=eos,
        pad_token_id=policy.tokenizer.pad_token_id,
        output_logits=True,
        return_dict_in_generate=True,
    )
    policy.model.eval()
    k = samples_per_prompt
    with autocast_region(policy.model):
        out = policy.model.generate(
            input_ids=prompt_ids.repeat_interleave(k, dim=0),
            attention_mask=prompt_mask.repeat_interleave(k, dim=0),
            **with_cache(policy.model, shared_prompt_cache(policy, prompt_ids, prompt_mask, k)),
            generation_config=settings,
            logits_processor=processors,
        )
    if is_seq2seq(policy.model):
        completion_ids = decoder_tokens(out.sequences)
    else:
        completion_ids = out.sequences[:, prompt_ids.shape[1] :]
    mask = completion_mask(completion_ids, eos)
    texts = policy.tokenizer.batch_decode(
        completion_ids * mask.long() + (1 - mask.long()) * eos, skip_special_tokens=True
    )
    return Rollout(
        examples=tuple(examples),
        prompt_ids=prompt_ids,
        prompt_mask=prompt_mask,
        completion_ids=completion_ids,
        completion_mask=mask,
        logits=torch.stack(out.logits, dim=1),
        completions=tuple(t.strip() for t in texts),
        samples_per_prompt=samples_per_prompt,
    )


def reference_scores(
    reference: Policy, rollout: Rollout, temperature: float, micro_batch_prompts: int
) -> tuple[Tensor, Tensor, Tensor]:
    """(old_logprobs, ref_logprobs, exact_kl), each (B, T), in chunks of prompts.

    old_logprobs come from the logits recorded while sampling; the exact KL(π‖π_ref) sums over
    the whole vocabulary at every completion position. The pass runs under inference mode (no
    autograd bookkeeping at all); the (B, T) results are cloned out of it so that the update's
    graph may use them.
    """
    with torch.inference_mode():
        old_parts, ref_parts, kl_parts = [], [], []
        chunks = prompt_chunks(
            len(rollout.examples), rollout.samples_per_prompt, micro_batch_prompts
        )
        for prompts, rows in chunks:
            ids = rollout.completion_ids[rows]
            ref_logits = completion_logits(
                reference.model,
                rollout.prompt_ids[prompts],
                rollout.prompt_mask[prompts],
                ids,
                rollout.completion_mask[rows],
            )
            old_parts.append(gather_logprobs(rollout.logits[rows], ids, temperature))
            ref_parts.append(gather_logprobs(ref_logits, ids, temperature))
            kl_parts.append(exact_kl(rollout.logits[rows], ref_logits, temperature))
        scores = torch.cat(old_parts), torch.cat(ref_parts), torch.cat(kl_parts)
    old, ref, kl = (score.clone() for score in scores)  # outside: ordinary tensors
    return old, ref, kl


def encode_references(
    policy: Policy, examples: Sequence[Example], max_new_tokens: int
) -> tuple[Tensor, Tensor]:
    """Each example's first reference as its completion: ids and completion_mask (B, T).

    Tokenized as the policy would generate it: continuing the formatted prompt (after a space
    unless the prompt ends in whitespace or is a chat turn), EOS appended, cut to
    `max_new_tokens` (a cut reference ends without EOS, like a completion at the limit), padded
    with EOS so that `completion_mask` masks the padding.
    """
    eos = policy.tokenizer.eos_token_id
    rows = []
    for example in examples:
        formatted = policy.format(example.prompt)
        joint = "" if policy.chat or formatted[-1:].isspace() else " "
        ids = policy.tokenizer(joint + example.references[0], add_special_tokens=False)
        rows.append((ids["input_ids"] + [eos])[:max_new_tokens])
    width = max(len(row) for row in rows)
    ids = torch.tensor([row + [eos] * (width - len(row)) for row in rows])
    ids = ids.to(policy.model.device)
    return ids, completion_mask(ids, eos)


def reference_rollout(
    policy: Policy,
    examples: Sequence[Example],
    max_new_tokens: int,
    max_prompt_tokens: int,
    micro_batch_prompts: int,
) -> Rollout:
    """A Rollout whose completions are the examples' references (one per prompt, k = 1).

    `logits` are the policy's own at the reference tokens (completion_logits, in chunks of
    prompts, no grad), so reference_scores, the step-size probe and the batch of an update
    treat it exactly like a sampled rollout. Nothing is generated.
    """
    prompt_ids, prompt_mask = encode_prompts(policy, examples, max_prompt_tokens)
    ids, mask = encode_references(policy, examples, max_new_tokens)
    policy.model.eval()
    with torch.no_grad():  # not inference mode: the logits leave this function
        logits = torch.cat(
            [
                completion_logits(
                    policy.model, prompt_ids[rows], prompt_mask[rows], ids[rows], mask[rows]
                )
                for rows, _ in prompt_chunks(len(examples), 1, micro_batch_prompts)
            ]
        )
    return Rollout(
        examples=tuple(examples),
        prompt_ids=prompt_ids,
        prompt_mask=prompt_mask,
        completion_ids=ids,
        completion_mask=mask,
        logits=logits,
        completions=tuple(example.references[0] for example in examples),
        samples_per_prompt=1,
    )
