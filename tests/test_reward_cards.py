"""Reward-model cards: the per-family figures by hand count, probe families, copy features by
hand, the `echo` text anchor, judges' held-out gains, and `bench reward card --json`."""

import json
import random
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from harness.api.task import Example
from harness.cli import app
from harness.loop.heldout import EvalResult, heldout_gain
from harness.metrics.stats import share_interval
from harness.run.anchors import echo, text_anchors
from tasks.rewards import learned as learned_module
from tasks.rewards import probes
from tasks.rewards.cards import Probe, figures, flat_rows, probe_figures, summary
from tasks.rewards.dialogue_pairs import REWARD_RECIPE, val_probes
from tasks.rewards.learned import learned
from tasks.rewards.overlap import overlap_features
from tasks.rewards.training import train_reward_model

PROBES = [
    Probe("A: hi\nB: how are you?", "good, you?", (("echo", "how are you?"), ("generic", "Ok."))),
    Probe("A: lunch?", "sure, at noon", (("echo", "lunch?"),)),  # generic: a generic reply
    Probe("A: so tired", "go to bed!", (("echo", "so tired"), ("generic", "Yes."))),
]


def test_figures_by_hand_count():
    contexts, texts = flat_rows(PROBES)
    assert texts == ["good, you?", "how are you?", "Ok.", "sure, at noon", "lunch?"] + [
        "go to bed!",
        "so tired",
        "Yes.",
    ]
    assert contexts[:3] == [PROBES[0].context] * 3 and contexts[3:5] == [PROBES[1].context] * 2
    # real vs echo: 0.9 > 0.2 win, 0.5 = 0.5 a tie (no win), 0.4 < 0.7 loss → 1 of 3
    # real vs generic: 0.9 > 0.3 win, 0.4 > 0.1 win → 2 of 2
    scores = [0.9, 0.2, 0.3, 0.5, 0.5, 0.4, 0.7, 0.1]
    assert figures(PROBES, scores, held_out=("generic",)) == {
        "echo": {"real_beats_probe": 1 / 3, "n": 3, "held_out": False},
        "generic": {"real_beats_probe": 1.0, "n": 2, "held_out": True},
    }
    with pytest.raises(ValueError, match="9 scores for 8 probe texts"):
        figures(PROBES, [*scores, 0.0], held_out=())
    # probe_figures scores each text once with the scorer it is given: here, word counts
    calls = []

    def words(ctx, txt):
        calls.append(len(txt))
        return [float(len(t.split())) for t in txt]

    counted = probe_figures(PROBES, words, held_out=())
    assert calls == [8]
    # echo: 2 > 3 no, 3 > 1 yes, 3 > 2 yes; generic: 2 > 1 yes, 3 > 1 yes
    assert counted["echo"]["real_beats_probe"] == pytest.approx(2 / 3, abs=1e-12)
    assert counted["generic"]["real_beats_probe"] == 1.0
    card = {"heldout_accuracy": 0.75, "probes": counted}
    assert summary(card) == {"accuracy": 0.75, "families": counted}


def test_probe_families_on_a_chat():
    turns = ["hi there", "do you like hiking in the mountains?", "yes a lot"]
    rng = random.Random(0)
    assert probes.echo(turns) == "yes a lot"
    assert probes.earlier_turn(turns, rng) in turns[:2]
    span = probes.partial_copy(turns, random.Random(1))
    assert span and any(span in t and span != t for t in turns)
    assert probes.truncated("I would love to go hiking") == "I would love"  # min(4, 6 // 2)
    assert probes.truncated("sure thing") == "sure thing sure thing"
    assert probes.generic("yeah haha", rng, probes.GENERIC_PROBES) is None  # itself generic
    assert probes.generic("I went there in May", rng, ["Okay."]) == "Okay."
    assert probes.context_turns("A: hi: there\nB: ok") == ["hi: there", "ok"]
    assert not set(probes.GENERIC_PROBES) & set(probes.GENERIC_REPLIES)


def test_overlap_features_by_hand():
    context = "A: do you like dogs?\nB: I like dogs a lot"
    echo_row = overlap_features(context, "I like dogs a lot")
    assert echo_row[:6] == [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    reply = overlap_features(context, "cats are better cats are better")
    # words: cats are better cats are better; none in the last turn, none in any turn
    assert reply[:4] == [0.0, 0.0, 0.0, 0.0]
    # bigrams: (cats are) (are better) (better cats) (cats are) (are better): 2 of 5 again
    assert reply[8] == pytest.approx(2 / 5, abs=1e-12) and reply[9] == 0.0
    half = overlap_features(context, "I like cats")  # i, like in the last turn; cats not
    assert half[0] == pytest.approx(2 / 3, abs=1e-12) and half[2] == pytest.approx(1 / 2)
    assert overlap_features(context, "")[9] == 1.0


def test_echo_anchor_is_the_last_turn_without_its_label():
    example = Example("c:3", "Write the next reply.\n\nB: hi!\nA: Hello\nB: how are you?\nA:", ())
    assert echo(example) == "how are you?"

    class Chat:
        echo = True
        extractive = False

    assert [name for name, _ in text_anchors(Chat())] == ["echo"]
    assert text_anchors(object()) == []


def test_judges_get_a_heldout_gain_like_the_reward():
    before = EvalResult({}, [0.1, 0.2, 0.3], [], (), {"eval/judge_rm": [0.5, 0.5, 0.5]})
    after = EvalResult({}, [0.2, 0.3, 0.4], [], (), {"eval/judge_rm": [0.4, 0.4, 0.4]})
    gain = heldout_gain(before, after, seed=0)
    assert gain["mean"] == pytest.approx(0.1, abs=1e-9)
    judge = gain["judges"]["eval/judge_rm"]
    assert judge["mean"] == pytest.approx(-0.1, abs=1e-9) and judge["n"] == 3
    assert judge["low"] == pytest.approx(-0.1, abs=1e-9)  # every prompt changed by −0.1
    assert "judges" not in heldout_gain(replace(before, prompt_judges={}), after, seed=0)


def test_bench_reward_card_json_matches_a_hand_count(tmp_path):
    few = val_probes()[:6]
    recipe = replace(REWARD_RECIPE, probes=lambda: few)
    config = replace(REWARD_RECIPE.config, max_examples=40, max_length=64)
    card = train_reward_model("card-small", config, tmp_path / "rm", progress=False, recipe=recipe)
    result = CliRunner().invoke(app, ["reward", "card", str(tmp_path / "rm"), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed == {"accuracy": card["heldout_accuracy"], "families": card["probes"]}
    model = learned(path=str(tmp_path / "rm"), context="prompt")
    for family in ("echo", "generic", "partial_copy"):
        rows = [(p, dict(p.probes)[family]) for p in few if family in dict(p.probes)]
        examples = [Example(str(i), p.context or "", ("-",)) for i, (p, _) in enumerate(rows)]
        real = model(examples, [p.real for p, _ in rows])
        probe = model(examples, [text for _, text in rows])
        wins = sum(r > q for r, q in zip(real, probe, strict=True))
        assert printed["families"][family] == {
            "real_beats_probe": wins / len(rows),
            "n": len(rows),
            "held_out": family == "partial_copy",
        }
    table = CliRunner().invoke(app, ["reward", "card", str(tmp_path / "rm")])
    assert table.exit_code == 0 and "held-out accuracy" in table.output
    wins = round(card["probes"]["echo"]["real_beats_probe"] * card["probes"]["echo"]["n"])
    echo = share_interval(wins, card["probes"]["echo"]["n"])
    assert f"{echo.low:.1%} – {echo.high:.1%}" in table.output  # the Wilson interval
    assert "partial_copy" in table.output and "no (held out)" in table.output


def test_training_a_recipe_says_so_on_stderr_only(tmp_path, monkeypatch, capsys):
    """`bench reward card NAME --json` on an empty cache trains first: stdout stays JSON."""
    trained = []
    monkeypatch.setattr(
        learned_module, "train_reward_model", lambda *args, **kw: trained.append(args)
    )
    learned_module.train_recipe(REWARD_RECIPE, tmp_path / "rm")
    out, err = capsys.readouterr()
    assert trained and out == "" and "training the 'dialogue' reward model once" in err
