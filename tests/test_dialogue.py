"""Dialogue: chat parsing, prompts, metrics by hand, the judge's disjoint data, and a tiny
end-to-end run with small reward models."""

import hashlib
import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import sacrebleu
from typer.testing import CliRunner

from harness.api.errors import BenchError
from harness.api.task import Example
from harness.cli import app
from tasks.dialogue import (
    JUDGE_RECIPE,
    REWARD_RECIPE,
    chat_context,
    chat_of,
    chitchat_split,
    dialogue,
    dialogue_metrics,
    judge_pairs,
    next_turn_examples,
    render_prompt,
    reward_pairs,
    reward_records,
)
from tasks.rewards.learned import learned
from tasks.rewards.training import (
    load_data,
    load_recipe,
    recipe_folder,
    train_reward_model,
)

CHAT = ("hi", "hello there", "how are you?", "good thanks, and you?", "fine")
# sha256 of the reward model's reserved pairs (seed 0, 2,500: its data up to task version 3) and
# of the judge's pairs: the judge must not change what the reward model reads, nor the cut of the
# reward model's data to 1,500 pairs in version 4 the judge's (a cached judge stays valid)
RESERVED_DATA_SHA = "0d76824bc1d27aaba623a262a28f6f90fe6cbc45df2f637ae70b5526eed3c851"
JUDGE_DATA_SHA = "5503e599a976c5783045180b17001789d1fc5ec75969d1a22825499f0289d5ae"


def sha(records: list) -> str:
    return hashlib.sha256(json.dumps([asdict(r) for r in records]).encode()).hexdigest()


@pytest.fixture(scope="module")
def small_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(reward model, judge) folders: the two recipes trained on 40 pairs each."""
    root = tmp_path_factory.mktemp("dialogue-rm")
    config = replace(REWARD_RECIPE.config, max_examples=40, max_length=64)
    train_reward_model("dialogue-small", config, root / "rm", progress=False, source=reward_records)
    judge = replace(JUDGE_RECIPE.config, max_examples=40, max_length=64)
    train_reward_model(
        "judge-small", judge, root / "judge", progress=False, source=JUDGE_RECIPE.records
    )
    return root / "rm", root / "judge"


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


def test_the_judge_reads_no_turn_of_the_reward_model_data():
    main = load_data(REWARD_RECIPE.config, REWARD_RECIPE.records)
    reserved = load_data(replace(REWARD_RECIPE.config, max_examples=2500), REWARD_RECIPE.records)
    assert sha(reserved) == RESERVED_DATA_SHA and main == reserved[:1500]
    # version 4's 1,500 pairs: a new recipe folder; the judge's folder and data are unchanged
    assert recipe_folder(REWARD_RECIPE).name == "dialogue-1e8a3f63559d"
    assert recipe_folder(JUDGE_RECIPE).name == "dialogue-judge-9c97f7bcdfaa"
    judge = load_data(JUDGE_RECIPE.config, JUDGE_RECIPE.records)
    assert sha(judge) == JUDGE_DATA_SHA
    assert len(main) == 1500 and len(judge) == 1000  # from > 2,000 candidate pairs
    assert set(main).isdisjoint(judge)
    assert {r.context for r in main}.isdisjoint(r.context for r in judge)
    main_turns = set().union(*(read for record, read in reward_pairs(0) if record in set(reserved)))
    judge_turns = set().union(*(read for _, read in judge_pairs(JUDGE_RECIPE.config.seed)))
    assert main_turns.isdisjoint(judge_turns) and len(judge_turns) > 10_000
    # other data, seed and kind of model (a fine-tuned cross-encoder); a recipe of its own
    judge_config, main_config = asdict(JUDGE_RECIPE.config), asdict(REWARD_RECIPE.config)
    changed = {key for key in main_config if judge_config[key] != main_config[key]}
    assert changed == {"data", "seed", "max_examples", "encoder", "precision"}
    assert (main_config["encoder"], judge_config["encoder"]) == ("frozen", "finetune")
    assert load_recipe("dialogue-judge") is JUDGE_RECIPE
    assert recipe_folder(JUDGE_RECIPE) != recipe_folder(REWARD_RECIPE)


def test_judge_rm_and_reference_reward_use_their_own_models(small_models):
    rm, judge = small_models
    task = dialogue(reward_model=str(rm), judge_model=str(judge))
    examples = task.examples("val")[:6]
    completions = ["sure, sounds good!", "lol", "I like pizza", "what?", "yes", "the sky is blue"]
    metrics = task.metrics(examples, completions)
    rewards = learned(str(rm), context=chat_context)(examples, completions)
    judged = learned(str(judge), context=chat_context)(examples, completions)
    assert metrics["judge_rm"] == pytest.approx(sum(judged) / 6, abs=1e-6)
    assert max(abs(a - b) for a, b in zip(rewards, judged, strict=True)) > 1e-3
    references = [e.references[0] for e in examples]
    ceiling = learned(str(rm), context=chat_context)(examples, references)
    assert metrics["reference_reward"] == pytest.approx(sum(ceiling) / 6, abs=1e-6)
    assert json.loads((judge / "reward_card.json").read_text())["seed"] == 1


def test_dialogue_runs_end_to_end_with_tiny_and_small_reward_models(
    tmp_path, bench_cache, small_models
):
    folder, judge = small_models
    args = ["run", "dialogue", "--algo", "reinforce", "--policy", "tiny", "--samples", "8"]
    args += ["--out", str(tmp_path / "runs"), "-o", f"task.reward_model={folder}"]
    args += ["-o", f"task.judge_model={judge}"]
    args += ["-o", "task.train_size=40", "-o", "task.length_penalty=0.1", "-o", "eval.prompts=2"]
    args += ["-o", "prompts_per_update=2", "-o", "rollout.samples_per_prompt=4"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    run_dir = Path(result.output.split("run dir")[1].split()[0])
    after = json.loads((run_dir / "result.json").read_text())["eval_after"]["test"]
    for key in (
        "eval/reward",
        "eval/reward_learned",
        "eval/sentence_bleu",
        "eval/rougeL",
        "eval/distinct_2",
        "eval/judge_rm",
        "eval/reference_reward",
    ):
        assert key in after
    assert 0.0 <= after["eval/reward_learned"] <= 1.0
    assert 0.0 <= after["eval/judge_rm"] <= 1.0
