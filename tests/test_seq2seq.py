"""Seq2seq policies: a tiny random-init T5 goes through generate, log-probs, reference and a run."""

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from harness.api.task import Example
from harness.cli import app
from harness.loop.rollout import sample_rollout
from harness.policies.policy import frozen_copy, load_policy
from harness.policies.tiny import TinyRecipe, train_tokenizer
from harness.rl.logprobs import completion_logits


@pytest.fixture(scope="module")
def t5_folder(tmp_path_factory: pytest.TempPathFactory, summarization_task) -> Path:
    """A random-init T5-shaped model with a BPE tokenizer trained on aclsum, saved to a folder."""
    from transformers import T5Config, T5ForConditionalGeneration

    folder = tmp_path_factory.mktemp("t5")
    tokenizer = train_tokenizer(
        summarization_task.examples("train")[:40], TinyRecipe(vocab_size=512)
    )
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
        dropout_rate=0.0,
    )
    torch.manual_seed(0)
    T5ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def rollout_of(folder: Path, task):
    policy, note = load_policy(str(folder), task, "cpu")
    assert note == "local folder" and policy.model.config.is_encoder_decoder
    examples = [
        Example("a", "Summarize: we study reward models.", ("x",)),
        Example("b", "Summarize: a much longer prompt about policy gradients and KL.", ("y",)),
    ]
    torch.manual_seed(1)
    return policy, sample_rollout(policy, examples, 3, 6, 1.0, 64)


def test_seq2seq_logprobs_equal_generate_and_a_plain_forward(t5_folder, summarization_task):
    policy, rollout = rollout_of(t5_folder, summarization_task)
    assert rollout.completion_ids.shape[0] == 6 and len(rollout.completions) == 6
    logits = completion_logits(
        policy.model,
        rollout.prompt_ids,
        rollout.prompt_mask,
        rollout.completion_ids,
        rollout.completion_mask,
    )
    mask = rollout.completion_mask.bool()
    assert torch.allclose(logits[mask], rollout.logits[mask], atol=1e-5)
    start = policy.model.config.decoder_start_token_id
    for row in range(6):  # each row alone, unpadded: the plain encoder-decoder forward
        prompt = rollout.prompt_ids[row // 3][rollout.prompt_mask[row // 3].bool()][None]
        decoder = torch.cat([torch.tensor([start]), rollout.completion_ids[row, :-1]])[None]
        plain = policy.model(input_ids=prompt, decoder_input_ids=decoder).logits[0]
        keep = mask[row]
        assert torch.allclose(logits[row][keep], plain[keep], atol=1e-5)


def test_seq2seq_reference_copy_is_frozen_and_equal(t5_folder, summarization_task):
    policy, rollout = rollout_of(t5_folder, summarization_task)
    reference = frozen_copy(policy)
    assert not any(p.requires_grad for p in reference.model.parameters())
    args = (
        rollout.prompt_ids,
        rollout.prompt_mask,
        rollout.completion_ids,
        rollout.completion_mask,
    )
    with torch.no_grad():
        ours = completion_logits(policy.model, *args)
        theirs = completion_logits(reference.model, *args)
    assert torch.equal(ours, theirs)


def test_seq2seq_policy_runs_through_bench_run(t5_folder, bench_cache, tmp_path):
    args = ["run", "summarization", "--algo", "reinforce", "--policy", str(t5_folder)]
    args += ["--samples", "8", "--out", str(tmp_path), "-o", "prompts_per_update=2"]
    args += ["-o", "rollout.samples_per_prompt=4", "-o", "eval.prompts=2"]
    args += ["-o", "task.max_source_words=30", "-o", "task.max_new_tokens=6"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    run_dir = Path(result.output.split("run dir")[1].split()[0])
    outcome = json.loads((run_dir / "result.json").read_text())
    assert outcome["spent"]["samples"] == 8 and outcome["eval_after"]["test"]["eval/kl_exact"] > 0
