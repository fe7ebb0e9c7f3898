"""Reward models on a frozen encoder: embeddings against sentence-transformers, the features by
hand, training on real dialogue pairs and IMDB-free movie sentences, and scoring that reproduces
the card's held-out accuracy; bf16 fine-tuning; the tiny policy's step cap."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from sentence_transformers import SentenceTransformer

from harness.api.errors import BenchError
from harness.api.task import Example
from harness.policies import tiny
from tasks.rewards.dialogue_pairs import REWARD_RECIPE, reward_records
from tasks.rewards.embedding import embed, embed_all
from tasks.rewards.frozen_encoder import HEAD, LINEAR, features, needed, rows_features
from tasks.rewards.learned import learned
from tasks.rewards.objective import score_center
from tasks.rewards.overlap import overlap_features
from tasks.rewards.training import (
    RewardTrainConfig,
    backbone_folder,
    load_data,
    train_reward_model,
)

TEXTS = [
    "hi",
    "Do you want to grab lunch tomorrow near the office?",
    "The printer on the third floor is broken again, so I printed it downstairs.",
    "sure!",
]


@pytest.fixture(scope="module")
def minilm():
    """(encoder, tokenizer) of the bundled all-MiniLM-L6-v2."""
    from transformers import AutoModel, AutoTokenizer

    folder = backbone_folder("minilm")
    return AutoModel.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)


def test_embeddings_match_sentence_transformers(minilm):
    encoder, tokenizer = minilm
    reference = SentenceTransformer(backbone_folder("minilm"), device="cpu")
    expected = reference.encode(TEXTS, normalize_embeddings=True, convert_to_tensor=True)
    got = embed(encoder, tokenizer, TEXTS, max_length=128)
    assert got.shape == (4, 384)
    torch.testing.assert_close(got, expected.cpu(), atol=2e-5, rtol=0)
    # one at a time (no padding) gives the same rows as a length-sorted padded batch
    alone = torch.cat([embed(encoder, tokenizer, [t], max_length=128) for t in TEXTS])
    torch.testing.assert_close(alone, got, atol=2e-5, rtol=0)


def test_features_by_hand_and_each_context_embedded_once(minilm):
    encoder, tokenizer = minilm
    u, v = torch.tensor([[0.5, -0.25]]), torch.tensor([[1.0, 0.75]])  # exact in binary
    assert features(u, v).tolist() == [[0.5, -0.1875, 0.5, 1.0, 1.0, 0.75]]
    assert features(None, v) is v
    contexts = [TEXTS[1], TEXTS[1], TEXTS[2]]
    assert needed(LINEAR, contexts, TEXTS[:3]) == TEXTS[:3]  # the contexts are texts already
    vectors = embed_all(encoder, tokenizer, needed(LINEAR, contexts, TEXTS[:3]), 128)
    got = rows_features(LINEAR, contexts, TEXTS[:3], vectors)
    each = embed(encoder, tokenizer, contexts, 128)
    expected = features(each, embed(encoder, tokenizer, TEXTS[:3], 128))
    torch.testing.assert_close(got, expected, atol=2e-5, rtol=0)


def test_copy_features_by_hand():
    context = "A: hi there\nB: do you like hiking in the mountains?"
    # the context's last turn, each context line's words once; cosines from made-up vectors
    vectors = {
        context: torch.tensor([1.0, 0.0]),
        "hi there": torch.tensor([0.0, 1.0]),
        "do you like hiking in the mountains?": torch.tensor([0.6, 0.8]),
        "yes I love hiking": torch.tensor([0.8, 0.6]),
    }
    (row,) = rows_features("copy+context", [context], ["yes I love hiking"], vectors).tolist()
    # cos(u, v) = 0.8, cos(last, v) = 0.48 + 0.48, max over the two turns = 0.96
    assert row[:3] == pytest.approx([0.8, 0.96, 0.96], abs=1e-6)
    assert row[3:] == pytest.approx(overlap_features(context, "yes I love hiking"), abs=1e-6)
    (turns,) = rows_features("copy+turns", [context], ["yes I love hiking"], vectors).tolist()
    mean = torch.nn.functional.normalize(torch.tensor([0.6, 1.8]), dim=0)
    expected = [float(mean @ torch.tensor([0.8, 0.6])), 0.96, 0.6, 0.0, 0.96]
    assert turns[:5] == pytest.approx(expected, abs=1e-6)


def test_score_center_by_hand():
    first, second = torch.tensor([[1.0], [3.0]]), torch.tensor([[0.0], [-2.0]])
    assert score_center("pairs", first, second) == 0.5  # (1 + 3 + 0 − 2) / 4
    assert score_center("labels", torch.zeros(2, 2), torch.tensor([0, 1])) == 0.0


@pytest.fixture(scope="module")
def dialogue_head(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, RewardTrainConfig]:
    """The dialogue recipe (a head on frozen MiniLM) on 300 real chitchat pairs: the last 60
    held out, trained on the first 200 of the other 240 (`train_examples`)."""
    config = replace(REWARD_RECIPE.config, max_examples=300, train_examples=200)
    folder = tmp_path_factory.mktemp("frozen") / "dialogue-300"
    recipe = replace(REWARD_RECIPE, probes=None)  # the card's probes: test_reward_cards.py
    card = train_reward_model("dialogue-300", config, folder, progress=False, recipe=recipe)
    return folder, card, config


def test_frozen_head_learns_real_replies_and_saves_its_head(dialogue_head):
    folder, card, _ = dialogue_head
    assert card["config"]["encoder"] == "frozen" and card["examples"] == {
        "train": 200,
        "heldout": 60,
    }
    assert card["heldout_accuracy"] >= 0.7  # chance 0.5; cosine alone reaches ≈ 0.85 on 500
    assert {HEAD, "model.safetensors", "tokenizer.json", "reward_card.json"} <= {
        p.name for p in folder.iterdir()
    }
    assert json.loads((folder / "reward_card.json").read_text()) == card


def test_learned_reward_reproduces_the_cards_heldout_accuracy(dialogue_head):
    folder, card, config = dialogue_head
    records = load_data(config, reward_records)
    heldout = records[int(len(records) * 0.8) :]  # train_examples leaves them as they were
    examples = [Example(str(i), r.context or "", ("-",)) for i, r in enumerate(heldout)]
    reward = learned(path=str(folder), context="prompt", batch_size=7)
    chosen = reward(examples, [r.text for r in heldout])
    rejected = reward(examples, [r.other or "" for r in heldout])
    assert all(0.0 <= s <= 1.0 for s in chosen + rejected)
    right = sum(c > r for c, r in zip(chosen, rejected, strict=True)) / len(heldout)
    assert right == pytest.approx(card["heldout_accuracy"], abs=1e-9)
    # scored from the held-out texts' mean: their log-odds average 0, real replies score > 0.5
    # (uncentred, this head's σ(s) was < 1e-3 for every one of them)
    log_odds = torch.logit(torch.tensor(chosen + rejected, dtype=torch.float64))
    assert abs(log_odds.mean().item()) < 1e-4 and sum(chosen) / len(chosen) > 0.5
    with pytest.raises(BenchError, match="reads a context and a text; its context setting 'none'"):
        learned(path=str(folder))(examples[:2], ["a", "b"])  # trained with contexts, read without
    one_by_one = learned(path=str(folder), context="prompt", batch_size=1)(
        examples[:5], [r.text for r in heldout[:5]]
    )
    assert one_by_one == pytest.approx(chosen[:5], abs=1e-5)


def test_frozen_labels_and_bf16_fine_tuning_on_movie_sentences(tmp_path):
    good = ["a moving, beautifully acted film", "funny and warm, I loved it", "superb"]
    bad = ["a dull, boring mess", "the worst film this year", "tedious and badly acted"]
    rows = [{"text": f"{t} ({i})", "label": 1} for i in range(10) for t in good]
    rows += [{"text": f"{t} ({i})", "label": 0} for i in range(10) for t in bad]
    data = tmp_path / "labels.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    frozen = RewardTrainConfig(kind="labels", data=str(data), max_length=32, encoder="frozen")
    card = train_reward_model("frozen-labels", frozen, tmp_path / "frozen", progress=False)
    assert card["heldout_accuracy"] >= 0.9  # 12 held-out rows, each a train sentence's twin
    scores = learned(path=str(tmp_path / "frozen"))(
        [Example("a", "p", ("r",))] * 2, ["I loved it, superb", "boring and tedious"]
    )
    assert scores[0] > 0.5 > scores[1]
    bf16 = replace(frozen, encoder="finetune", precision="bf16", epochs=2, lr=1e-4)
    card = train_reward_model("bf16-labels", bf16, tmp_path / "bf16", progress=False)
    assert card["config"]["precision"] == "bf16" and card["heldout_accuracy"] >= 0.75
    with pytest.raises(BenchError, match="unknown encoder 'cold' \\(encoders: finetune, frozen"):
        train_reward_model("x", replace(frozen, encoder="cold"), tmp_path / "x", progress=False)
    with pytest.raises(BenchError, match="unknown precision 'fp8' \\(precisions: fp32, bf16"):
        train_reward_model("x", replace(frozen, precision="fp8"), tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()


def test_tiny_warm_start_stops_at_its_step_cap(summarization_task, monkeypatch):
    examples = summarization_task.examples("train")[:40]  # 3 batches of 16 per epoch
    recipe = tiny.TinyRecipe(vocab_size=300, hidden_size=16, layers=1, heads=2, sft_epochs=2)
    tokenizer = tiny.train_tokenizer(examples, recipe)
    steps = []
    step = torch.optim.AdamW.step
    monkeypatch.setattr(
        torch.optim.AdamW, "step", lambda self, *a, **k: steps.append(1) or step(self, *a, **k)
    )

    def warm(cap: int) -> dict:
        steps.clear()
        model = tiny.new_model(tokenizer, replace(recipe, sft_max_steps=cap))
        tiny.warm_start(model, tokenizer, examples, replace(recipe, sft_max_steps=cap))
        return {"steps": len(steps), "weights": model.state_dict()}

    capped, exact, loose = warm(4), warm(6), warm(100)
    assert (capped["steps"], exact["steps"], loose["steps"]) == (4, 6, 6)
    for name, value in loose["weights"].items():  # a cap above the schedule changes nothing
        assert torch.equal(value, exact["weights"][name])
    assert not torch.equal(capped["weights"]["lm_head.weight"], exact["weights"]["lm_head.weight"])


def test_tiny_answer_loss_is_the_models_own_loss(summarization_task):
    examples = summarization_task.examples("train")[:6]
    recipe = tiny.TinyRecipe(vocab_size=300, hidden_size=16, layers=1, heads=2)
    tokenizer = tiny.train_tokenizer(examples, recipe)
    model = tiny.new_model(tokenizer, recipe)
    pairs = [
        (tokenizer(e.prompt)["input_ids"], tokenizer(" " + e.references[0])["input_ids"])
        for e in examples
    ]
    input_ids, mask, labels = tiny.sft_batch(pairs, tokenizer, recipe)
    assert (labels == -100).any() and (mask == 0).any()  # prompts and padding carry no loss
    ours = tiny.answer_loss(model, input_ids, mask, labels)
    ours_grad = torch.autograd.grad(ours, model.lm_head.weight)[0]
    theirs = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
    theirs_grad = torch.autograd.grad(theirs, model.lm_head.weight)[0]
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(ours_grad, theirs_grad)
