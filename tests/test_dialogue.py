"""Dialogue: chat parsing, prompts, metrics by hand, and a tiny end-to-end run with a small RM."""

import json
from pathlib import Path

import pytest
import sacrebleu
from typer.testing import CliRunner

from harness.api.errors import BenchError
from harness.api.task import Example
from harness.cli import app
from tasks.dialogue import (
    chat_of,
    chitchat_split,
    dialogue,
    dialogue_metrics,
    next_turn_examples,
    render_prompt,
    reward_records,
)
from tasks.rewards.training import RewardTrainConfig, train_reward_model

CHAT = ("hi", "hello there", "how are you?", "good thanks, and you?", "fine")


def test_next_turn_examples_take_the_last_turns_and_the_real_reply():
    (example,) = next_turn_examples([("c1", CHAT)], context_turns=2, max_reply_words=30)
    assert example.id == "c1:3" and example.references == ("good thanks, and you?",)
    assert example.prompt == (
        "Write the next reply in this chat.\n\nA: hello there\nB: how are you?\nA:"
    )
    assert chat_of(example.prompt) == "A: hello there\nB: how are you?"
    # a reply longer than max_reply_words is skipped for the next one
    (later,) = next_turn_examples([("c1", CHAT)], context_turns=2, max_reply_words=3)
    assert later.id == "c1:4" and later.references == ("fine",)
    assert render_prompt(["a", "b", "c"]).endswith("B: a\nA: b\nB: c\nA:")


def test_chitchat_splits_are_disjoint_and_stable():
    ids = {s: {chat_id for chat_id, _ in chitchat_split(s)} for s in ("train", "val", "test")}
    assert not ids["train"] & ids["val"] and not ids["val"] & ids["test"]
    assert len(ids["val"]) > 200 and len(ids["train"]) > 5000
    task = dialogue(train_size=50)
    assert len(task.examples("train")) == 50
    assert task.examples("val")[0] == dialogue().examples("val")[0]
    pairs = reward_records(0)
    assert all(p.context and p.text and p.other for p in pairs[:50])
    with pytest.raises(BenchError, match="context_turns"):
        dialogue(context_turns=0)


def test_metrics_by_hand():
    examples = [Example("a", "p", ("see you at noon",))] * 2
    completions = ["see you at noon", "see you"]
    metrics = dialogue_metrics(examples, completions)
    assert metrics["rougeL"] == pytest.approx((1.0 + 2 * 0.5 * 1 / 1.5) / 2)
    bleu = sacrebleu.BLEU(effective_order=True)
    by_hand = [bleu.sentence_score(c, ["see you at noon"]).score / 100 for c in completions]
    assert metrics["sentence_bleu"] == pytest.approx(sum(by_hand) / 2)


def test_dialogue_runs_end_to_end_with_tiny_and_a_small_reward_model(tmp_path, bench_cache):
    config = RewardTrainConfig(kind="pairs", data="chitchat", max_examples=40, max_length=64)
    folder = tmp_path / "rm"
    train_reward_model("dialogue-small", config, folder, progress=False, source=reward_records)
    args = ["run", "dialogue", "--algo", "reinforce", "--policy", "tiny", "--samples", "8"]
    args += ["--out", str(tmp_path / "runs"), "-o", f"task.reward_model={folder}"]
    args += ["-o", "task.train_size=40", "-o", "task.length_penalty=0.1", "-o", "eval.prompts=2"]
    args += ["-o", "prompts_per_update=2", "-o", "rollout.samples_per_prompt=4"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    run_dir = Path(result.output.split("run dir")[1].split()[0])
    after = json.loads((run_dir / "result.json").read_text())["eval_after"]
    for key in (
        "eval/reward",
        "eval/reward_learned",
        "eval/sentence_bleu",
        "eval/rougeL",
        "eval/distinct_2",
    ):
        assert key in after
    assert 0.0 <= after["eval/reward_learned"] <= 1.0
