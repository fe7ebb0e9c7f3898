"""The supervised row: its cross-entropy by hand, learning, the budget, `bench list`, the report."""

import copy
import dataclasses
import json

import pytest
import torch
from rich.console import Console
from test_losses import loss_batch
from typer.testing import CliRunner

from baselines import supervised
from harness.api.algorithm import LossSettings, UpdateContext
from harness.api.batch import Batch
from harness.api.errors import BenchError
from harness.cli import app
from harness.launch import build_config
from harness.rl.logprobs import gather_logprobs


def test_loss_is_the_mean_negative_log_softmax_at_the_reference_tokens():
    logits = torch.tensor(
        [[[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], [[2.0, 2.0, 2.0], [0.3, 0.1, -0.2]]],
        dtype=torch.float64,
    )
    ids = torch.tensor([[1, 2], [0, 1]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    logprobs = gather_logprobs(logits, ids)
    # By hand: log softmax(z)_y = z_y − log Σ_v exp z_v at the three unmasked tokens.
    row0 = [2.0 - torch.log(torch.tensor([1.0, 2.0, 0.5]).exp().sum()).item()]
    row0.append(3.0 - torch.log(torch.tensor([0.0, -1.0, 3.0]).exp().sum()).item())
    row1 = [2.0 - torch.log(torch.tensor([2.0, 2.0, 2.0]).exp().sum()).item()]
    batch, config = loss_batch(logprobs, torch.zeros(2), mask), supervised.Config()
    token_mean = LossSettings(0.7, 1, loss_agg="token-mean")
    loss, stats = supervised.loss(logprobs, batch, config, token_mean)
    expected = -(sum(row0) + sum(row1)) / 3
    assert loss.item() == pytest.approx(expected, abs=1e-6)
    assert stats["train/nll"].item() == pytest.approx(expected, abs=1e-6)  # the token mean
    seq_sum = LossSettings(0.7, 1)  # the default: Σ_t per sequence, mean over sequences
    expected = -(sum(row0) + sum(row1)) / 2
    loss, _ = supervised.loss(logprobs, batch, config, seq_sum)
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def reference_batch(policy, examples, max_new_tokens: int = 12):
    """The batch and rollout an update would get for these examples' references."""
    from harness.loop.rollout import reference_rollout

    rollout = reference_rollout(policy, examples, max_new_tokens, 256, 4)
    zeros = torch.zeros(len(examples))
    logprobs = gather_logprobs(rollout.logits, rollout.completion_ids)
    batch = Batch(
        prompt_ids=rollout.prompt_ids, prompt_mask=rollout.prompt_mask,
        completion_ids=rollout.completion_ids, completion_mask=rollout.completion_mask,
        old_logprobs=logprobs, ref_logprobs=logprobs, returns=zeros, advantages=zeros,
    )  # fmt: skip
    return batch, rollout


def heldout_nll(policy, examples) -> float:
    """Mean token NLL (T = 1) of the examples' references under the policy."""
    batch, _ = reference_batch(policy, examples)
    return supervised.token_nll(batch.old_logprobs, batch.completion_mask).item()


def test_updates_lower_the_nll_of_heldout_references(tiny_policy, summarization_task):
    policy = dataclasses.replace(tiny_policy, model=copy.deepcopy(tiny_policy.model))
    train, val = summarization_task.examples("train"), summarization_task.examples("val")[:16]
    config = supervised.Config(lr=1e-3)
    optimizer = supervised.ALGORITHM.init(policy.model, config)
    # The sampling temperature must not reach the loss: train/nll is the T = 1 NLL.
    context = UpdateContext(LossSettings(0.7, 4, max_new_tokens=12))
    before = heldout_nll(policy, val)
    for update in range(4):
        batch, _ = reference_batch(policy, train[16 * update : 16 * (update + 1)])
        expected = supervised.token_nll(batch.old_logprobs, batch.completion_mask).item()
        stats = supervised.update(policy.model, batch, config, optimizer, context)
        assert stats["train/nll"] == pytest.approx(expected, abs=1e-5)
    after = heldout_nll(policy, val)
    assert after < before - 0.05, (before, after)


def test_a_reference_is_the_completion_the_policy_would_write(tiny_policy, summarization_task):
    example = summarization_task.examples("train")[0]
    _, rollout = reference_batch(tiny_policy, [example], max_new_tokens=40)
    eos = tiny_policy.tokenizer.eos_token_id
    ids = rollout.completion_ids[0][rollout.completion_mask[0].bool()].tolist()
    assert ids[-1] == eos and eos not in ids[:-1]
    assert tiny_policy.tokenizer.decode(ids[:-1]) == " " + example.references[0]
    _, cut = reference_batch(tiny_policy, [example], max_new_tokens=3)
    assert cut.completion_ids.shape == (1, 3) and cut.completion_mask.sum() == 3  # no EOS: cut


@pytest.fixture(scope="module")
def two_runs(bench_cache, tmp_path_factory):
    """A supervised and a reinforce run on tiny in one output folder, 64 samples each."""
    from harness.launch import build_config, run

    out = tmp_path_factory.mktemp("supervised-runs")
    dirs = {}
    for algo in ("supervised", "reinforce"):
        config = build_config(
            "summarization", algo, policy="tiny", samples=64, seed=0, out=str(out),
            overrides=["prompts_per_update=4", "rollout.samples_per_prompt=4", "eval.prompts=2",
                       "task.max_source_words=40", "task.max_new_tokens=12"],
        )  # fmt: skip
        dirs[algo] = run(config, Console(quiet=True))
    return out, dirs


def test_samples_64_trains_on_exactly_64_examples(two_runs):
    _, dirs = two_runs
    lines = (dirs["supervised"] / "metrics.jsonl").read_text().splitlines()
    rows = [row for row in map(json.loads, lines) if row["kind"] == "train"]
    assert [row["samples_seen"] for row in rows] == [16, 32, 48, 64]  # 4 prompts × 4 per update
    assert all("train/reward" not in row and row["train/nll"] > 0 for row in rows)
    assert all(row["train/kl_exact"] >= 0 and row["train/kl_step"] > 0 for row in rows)
    assert rows[-1]["train/kl_exact"] > 0  # the updates moved the policy
    result = json.loads((dirs["supervised"] / "result.json").read_text())
    assert result["spent"]["samples"] == 64 and result["stop_reason"] == "samples"
    assert result["algo"] == "supervised" and "eval/reward" in result["eval_after"]["test"]


def test_bench_list_shows_supervised():
    result = CliRunner().invoke(app, ["list"])
    assert result.exit_code == 0 and "supervised" in result.output


def test_the_report_has_a_supervised_row_next_to_reinforce(two_runs, tmp_path):
    out, _ = two_runs
    report = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", str(out), "--out", str(report)])
    assert result.exit_code == 0, result.output
    rows = json.loads((report / "leaderboard.json").read_text())["tables"][0]["rows"]
    trained = sorted(row["row"] for row in rows if row["role"] == "report")
    assert trained == ["reinforce", "supervised"]
    assert "supervised" in (report / "leaderboard.md").read_text()


def test_the_parts_column_says_no_advantages_and_no_kl(two_runs):
    _, dirs = two_runs
    config = json.loads((dirs["supervised"] / "config.json").read_text())
    assert config["rollout"]["advantage"] == "none" and config["rollout"]["kl_coef"] == 0.0


@pytest.mark.parametrize("override", ["rollout.kl_coef=0.05", "rollout.advantage=rloo"])
def test_a_part_supervised_cannot_use_is_refused(override):
    with pytest.raises(BenchError, match=f"supervised trains on references.*{override}"):
        build_config("summarization", "supervised", overrides=[override])
