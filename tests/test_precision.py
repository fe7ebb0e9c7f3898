"""`precision=bf16`: autocast forwards that keep generate's arguments, a PPO ratio near 1, a
frozen reference of its own, a config check, and reports that never pool bf16 with fp32."""

import copy
import hashlib
import json
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from unittest.mock import patch

import pytest
import torch
from report_fixtures import make_run

from harness.api.errors import BenchError
from harness.launch import build_config
from harness.loop.rollout import sample_rollout
from harness.policies.policy import Policy, frozen_copy
from harness.policies.precision import autocast_forward
from harness.rl.logprobs import completion_logits, gather_logprobs
from harness.rundir.layout import run_dir_for
from reports.aggregate import build_tables
from reports.load import load_runs

# bf16 keeps 8 mantissa bits: sampling (incremental, KV cache) and the update (one full pass)
# round differently, so a token's first-epoch ratio π_θ/π_old is 1 only up to that round-off.
# Measured on the tiny policy: max |ratio − 1| ≈ 0.02; fp32 agrees to 1e-4.
BF16_RATIO_TOLERANCE = 0.1


def bf16_copy(policy: Policy) -> Policy:
    """An independent copy of `policy` whose forwards run under bf16 autocast."""
    model = copy.deepcopy(policy.model)
    autocast_forward(model, "bf16")
    return replace(policy, model=model)


def first_epoch_ratios(policy: Policy, examples: list) -> torch.Tensor:
    """π_θ/π_old on every sampled token before any step: the update's pass over the rollout."""
    torch.manual_seed(0)
    rollout = sample_rollout(policy, examples, 4, 12, 0.7, 64)
    old = gather_logprobs(rollout.logits, rollout.completion_ids, 0.7)
    with torch.no_grad():
        logits = completion_logits(
            policy.model,
            rollout.prompt_ids,
            rollout.prompt_mask,
            rollout.completion_ids,
            rollout.completion_mask,
        )
    new = gather_logprobs(logits, rollout.completion_ids, 0.7)
    return torch.exp(new - old)[rollout.completion_mask.bool()]


def test_bf16_first_epoch_ratio_stays_near_one(tiny_policy, summarization_task) -> None:
    examples = summarization_task.examples("train")[:4]
    fp32 = first_epoch_ratios(tiny_policy, examples)
    assert (fp32 - 1).abs().max().item() < 1e-4
    bf16 = first_epoch_ratios(bf16_copy(tiny_policy), examples)
    assert bf16.numel() > 20
    assert (bf16 - 1).abs().max().item() < BF16_RATIO_TOLERANCE
    assert (bf16 - 1).abs().max().item() > 0  # it is bf16: round-off shows


def test_bf16_forward_is_autocast_and_close_to_fp32(tiny_policy, summarization_task) -> None:
    policy = bf16_copy(tiny_policy)
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        low = policy.model(input_ids=ids).logits
        full = tiny_policy.model(input_ids=ids).logits
    assert low.dtype == torch.bfloat16 and full.dtype == torch.float32
    assert torch.allclose(low.float(), full, atol=0.1)
    assert next(policy.model.parameters()).dtype == torch.float32  # weights stay fp32


def test_frozen_copy_of_a_bf16_policy_runs_its_own_weights(tiny_policy) -> None:
    policy = bf16_copy(tiny_policy)
    reference = frozen_copy(policy)
    assert reference.model.forward.__self__ is reference.model
    with torch.no_grad():
        for parameter in policy.model.parameters():
            parameter.add_(1.0)  # the policy moves; the reference must not follow
        ids = torch.tensor([[5, 6, 7]])
        expected = tiny_policy.model(input_ids=ids).logits
        assert torch.allclose(reference.model(input_ids=ids).logits.float(), expected, atol=0.1)


def test_low_stored_reference_weights_give_the_same_logits(tiny_policy) -> None:
    policy = bf16_copy(tiny_policy)
    reference = frozen_copy(policy)
    linear = reference.model.model.layers[0].mlp.down_proj
    assert linear.weight.dtype == torch.bfloat16  # stored low: autocast would round it anyway
    assert reference.model.get_input_embeddings().weight.dtype == torch.float32
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    with torch.no_grad():
        expected = policy.model(input_ids=ids).logits
        assert torch.equal(reference.model(input_ids=ids).logits, expected)


def test_one_autocast_region_per_generate_changes_no_token(tiny_policy, summarization_task):
    policy = bf16_copy(tiny_policy)
    examples = summarization_task.examples("train")[:2]
    torch.manual_seed(1)
    once = sample_rollout(policy, examples, 2, 8, 0.7, 64)
    with patch("harness.loop.rollout.autocast_region", lambda model: nullcontext()):
        torch.manual_seed(1)
        per_call = sample_rollout(policy, examples, 2, 8, 0.7, 64)
    assert torch.equal(once.completion_ids, per_call.completion_ids)
    assert torch.equal(once.logits, per_call.logits)


def test_unknown_precision_is_refused_naming_the_choices() -> None:
    with pytest.raises(BenchError, match="precision must be one of bf16, fp32; got .fp16."):
        build_config("summarization", "reinforce", overrides=["precision=fp16"])


def test_fp32_run_directory_names_are_unchanged_by_the_setting() -> None:
    fp32 = build_config("summarization", "reinforce", policy="tiny")
    before = fp32.to_dict()  # the settings a run directory's name hashed before `precision`
    for key in ("out", "checkpoint", "log", "seed", "precision"):
        del before[key]
    digest = hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()[:6]
    assert run_dir_for(fp32).name == f"seed0-{digest}"
    assert run_dir_for(replace(fp32, precision="bf16")) != run_dir_for(fp32)


def test_reports_never_pool_bf16_with_fp32(tmp_path: Path) -> None:
    make_run(tmp_path, "ppo", 0, config_changes={"precision": "bf16"})
    make_run(tmp_path, "ppo", 1, config_changes={"precision": "fp32"})
    make_run(tmp_path / "old", "ppo", 2)  # a config.json from before `precision` existed
    runs, _ = load_runs([tmp_path])
    with pytest.raises(BenchError, match=r"precision \(bf16 ×1, fp32 ×2\)"):
        build_tables(runs, allow_mixed=False)
    tables, _ = build_tables(runs, allow_mixed=True)
    rows = {row.label: sorted(run.seed for run in row.runs) for row in tables[0].rows}
    assert sorted(rows.values()) == [[0], [1, 2]]
    assert any("precision=bf16" in label for label in rows)
