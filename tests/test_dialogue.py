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
    chat_context,
    chat_of,
    chitchat_split,
    dialogue,
    dialogue_metrics,
    next_turn_examples,
    render_prompt,
)
from tasks.rewards.dialogue_pairs import (
    HARD,
    JUDGE_RECIPE,
    REWARD_RECIPE,
    far_turns,
    judge_pairs,
    reward_pairs,
    reward_records,
    val_probes,
)
from tasks.rewards.learned import learned
from tasks.rewards.probes import FAMILIES
from tasks.rewards.training import (
    load_data,
    load_recipe,
    recipe_folder,
    train_reward_model,
)

CHAT = ("hi", "hello there", "how are you?", "good thanks, and you?", "fine")
# sha256 of the reward model's reserved pairs without their hard negatives: version 4's pairs
# (its held-out ordinary pairs are the ones version 4's 0.820 was measured on), then with them
# (task version 5), and of the judge's pairs (version 5)
ORDINARY_DATA_SHA = "0d76824bc1d27aaba623a262a28f6f90fe6cbc45df2f637ae70b5526eed3c851"
RESERVED_DATA_SHA = "d0a47382b2e3724591784276db190a9e56933c2cd08334f38d0eac0361f3994e"
JUDGE_DATA_SHA = "909155dfc021c0dc65547381129698dc664c93a0e65419ae30611824d93b6b71"


def sha(records: list, drop: tuple[str, ...] = ()) -> str:
    rows = [{k: v for k, v in asdict(r).items() if k not in drop} for r in records]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


@pytest.fixture(scope="module")
def small_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(reward model, judge) folders: the two recipes trained on 40 pairs each."""
    root = tmp_path_factory.mktemp("dialogue-rm")
    config = replace(REWARD_RECIPE.config, max_examples=40, max_length=64)
    recipe = replace(REWARD_RECIPE, probes=lambda: val_probes()[:4])
    train_reward_model("dialogue-small", config, root / "rm", progress=False, recipe=recipe)
    judge = replace(JUDGE_RECIPE.config, max_examples=40, max_length=64)
    recipe = replace(JUDGE_RECIPE, probes=lambda: val_probes()[:4])
    train_reward_model("judge-small", judge, root / "judge", progress=False, recipe=recipe)
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
    assert sha(reserved, drop=("negatives",)) == ORDINARY_DATA_SHA  # version 4's pairs
    assert sha(reserved) == RESERVED_DATA_SHA and main == reserved[:1500]
    assert recipe_folder(REWARD_RECIPE).name == "dialogue-b6144f62386f"  # task version 6
    assert recipe_folder(JUDGE_RECIPE).name == "dialogue-judge-be2022446c70"
    assert recipe_folder(load_recipe("sentiment")).name == "sentiment-cddd72ae9945"  # as before
    judge = load_data(JUDGE_RECIPE.config, JUDGE_RECIPE.records)
    assert sha(judge) == JUDGE_DATA_SHA
    assert len(main) == 1500 and len(judge) == 1000  # from > 2,000 candidate pairs
    assert set(main).isdisjoint(judge)
    assert {r.context for r in main}.isdisjoint(r.context for r in judge)
    main_turns = set().union(*(read for record, read in reward_pairs(0) if record in set(reserved)))
    judge_turns = set().union(*(read for _, read in judge_pairs(JUDGE_RECIPE.config.seed)))
    assert main_turns.isdisjoint(judge_turns) and len(judge_turns) > 10_000
    # other data, seed, mix of negatives and features (both heads on the frozen encoder)
    judge_config, main_config = asdict(JUDGE_RECIPE.config), asdict(REWARD_RECIPE.config)
    changed = {key for key in main_config if judge_config[key] != main_config[key]}
    assert changed == {"data", "seed", "max_examples", "features"}
    assert load_recipe("dialogue-judge") is JUDGE_RECIPE
    assert recipe_folder(JUDGE_RECIPE) != recipe_folder(REWARD_RECIPE)


def test_hard_negatives_by_family():
    records = reward_records(0)
    assert all(
        tuple(f for f, _ in r.negatives) == tuple(f for f in HARD if f in dict(r.negatives))
        for r in records[:200]
    )
    every = [dict(r.negatives) for r in records]
    assert all(set(n) <= set(HARD) for n in every)
    assert sum("echo" in n for n in every) == len(every)  # every chat has a last turn
    for record, negatives in zip(records[:50], every[:50], strict=True):
        turns = record.context.split("\n")
        assert negatives["echo"] == turns[-1].split(": ", 1)[1]
        assert negatives["earlier_turn"] in {line.split(": ", 1)[1] for line in turns[:-1]}
        assert negatives["truncated"] != record.text
    judge = [dict(r.negatives) for r in load_data(JUDGE_RECIPE.config, JUDGE_RECIPE.records)]
    assert all(len(n) <= 3 for n in judge) and sum(len(n) == 3 for n in judge) > 700
    assert far_turns(8, 4) == [0, 6, 7]  # ≥ 2 from turn 4, not its context (1, 2, 3)
    probes = val_probes()
    assert len(probes) == 158 and {f for p in probes for f, _ in p.probes} == set(FAMILIES)
    assert not any(f == "partial_copy" for r in records for f, _ in r.negatives)


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
    result = json.loads((run_dir / "result.json").read_text())
    after = result["eval_after"]["test"]
    # the judge joins the val curve and has a held-out gain like the reward's (schema 5)
    assert [set(point) >= {"eval/reward", "eval/judge_rm"} for point in result["eval_curve"]]
    assert all("eval/judge_rm" in point for point in result["eval_curve"])
    cards = result["reward_cards"]
    assert set(cards) == {"reward", "judge_rm"} and len(cards["reward"]["fingerprint"]) == 16
    assert set(cards["reward"]["families"]) == set(FAMILIES)
    echo_rows = list((tmp_path / "runs" / "dialogue" / "echo").glob("seed0-*/result.json"))
    assert len(echo_rows) == 1
    echo_result = json.loads(echo_rows[0].read_text())
    assert echo_result["algo"] == "echo" and "eval/judge_rm" in echo_result["eval_after"]["test"]
    judge_gain = result["heldout_gain"]["judges"]["eval/judge_rm"]
    assert set(judge_gain) == {"mean", "low", "high", "n"} and judge_gain["n"] == 2
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
