"""Policies: load a causal LM (named, hub id or local folder), format prompts, freeze a copy."""

import copy
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    PreTrainedModel,
)
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from harness.api import registry
from harness.api.choices import Precision
from harness.api.errors import BenchError, unknown_choice
from harness.api.task import Task
from harness.policies.cache import cache_root
from harness.policies.precision import autocast_forward, store_matmul_weights_low
from harness.policies.quiet import quiet_transformers
from harness.policies.sampling import neutralise


@dataclass
class Policy:
    """A causal LM with its tokenizer; `chat` wraps prompts in the tokenizer's chat template.

    `overridden` lists the generation defaults of the policy's own config that were reset so
    that sampling is pure softmax(logits / T) (see harness/policies/sampling.py).
    """

    name: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    chat: bool
    overridden: tuple[str, ...] = ()

    def format(self, prompt: str) -> str:
        """The text actually fed to the model for a task prompt."""
        if not self.chat:
            return prompt
        messages = [{"role": "user", "content": prompt}]
        return self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )


def policy_source(name: str) -> str:
    """registered | local folder | hub, for a policy name; nothing is loaded (checked up front)."""
    if name in registry.entries("policies"):
        return "registered"
    if Path(name).exists():
        if not (Path(name) / "config.json").is_file():
            raise BenchError(
                f"policy folder '{name}' is not a Hugging Face model folder (no config.json); "
                "give a registered policy, a hub id or a folder saved by save_pretrained"
            )
        return "local folder"
    if "/" in name:
        return "hub"
    raise unknown_choice(
        "policy", name, [*registry.entries("policies"), "<hub id>", "<local folder>"]
    )


def policy_folder(name: str, task: Task) -> tuple[Path | str, str]:
    """Folder or hub id to load for a policy name, and a note saying where it came from."""
    source = policy_source(name)
    if source == "registered":
        build = registry.load("policies", name)
        folder, built = build(task, cache_root())
        return folder, "built" if built else "cached"
    return (Path(name), source) if source == "local folder" else (name, source)


def load_policy(
    name: str, task: Task, device: str, precision: Precision = "fp32"
) -> tuple[Policy, str]:
    """Load a causal or seq2seq LM onto `device`, with a note (built/cached/hub/...).

    Weights are fp32 whatever the precision; bf16 runs the forward passes under autocast.
    """
    quiet_transformers()  # before policy_folder: building `tiny` saves it
    folder, note = policy_folder(name, task)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        seq2seq = getattr(AutoConfig.from_pretrained(folder), "is_encoder_decoder", False)
        auto = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
        model = auto.from_pretrained(folder, dtype=torch.float32)
    except OSError as err:
        reason = " ".join(str(err).split())  # one line, whatever the library printed
        raise BenchError(f"cannot load policy '{name}': {reason}") from err
    tokenizer.padding_side = "left"
    tokenizer.truncation_side = "left"  # a long prompt keeps its end: the cue, the chat header
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.to(device).eval()  # dropout off: update-time log-probs must match sampling-time ones
    autocast_forward(model, precision)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    overridden = tuple(neutralise(model.generation_config))
    chat = tokenizer.chat_template is not None
    policy = Policy(name=name, model=model, tokenizer=tokenizer, chat=chat, overridden=overridden)
    return policy, note


def frozen_copy(policy: Policy) -> Policy:
    """The reference policy: an independent copy with gradients off, in eval mode."""
    model = copy.deepcopy(policy.model).eval()
    model.requires_grad_(False)
    store_matmul_weights_low(model)
    return Policy(
        name=f"{policy.name} (reference)",
        model=model,
        tokenizer=policy.tokenizer,
        chat=policy.chat,
        overridden=policy.overridden,
    )
