"""The `evaluate` reward: the shipped word-F1 metric, references, errors, and a task file run."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.api.errors import BenchError
from harness.api.task import Example
from harness.cli import app
from harness.data.task_files import BUILTIN_FOLDER, validate
from tasks.rewards.evaluated import evaluated

WORD_F1 = str(BUILTIN_FOLDER / "metrics" / "word_f1.py")
# A metric that takes a list of references per prediction and returns a non-numeric entry.
LIST_METRIC = """\
import datasets
import evaluate


class Counted(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="counts references",
            citation="",
            features=datasets.Features(
                {
                    "predictions": datasets.Value("string"),
                    "references": datasets.Sequence(datasets.Value("string")),
                }
            ),
        )

    def _compute(self, predictions, references):
        return {"n_refs": [len(r) for r in references], "label": "many"}
"""


def example(*references: str) -> Example:
    return Example(id="e", prompt="p", references=references)


def test_word_f1_matches_a_hand_computation():
    import evaluate

    metric = evaluate.load(WORD_F1, keep_in_memory=True)
    predictions = ["the cat sat on the mat", "Paris", "a a a b", "", "x y"]
    references = ["The cat is on the mat", "Paris, France", "a b b", "", ""]
    result = metric.compute(predictions=predictions, references=references)
    # overlaps: the×2 cat on mat = 5 of 6|6; 1 of 1|2; min counts a1 b1 = 2 of 4|3; empty rules
    f1 = [5 / 6, 2 / 3, 4 / 7, 1.0, 0.0]
    assert result["f1"] == pytest.approx(f1, abs=1e-6)
    assert result["precision"] == pytest.approx([5 / 6, 1.0, 0.5, 1.0, 0.0], abs=1e-6)
    assert result["recall"] == pytest.approx([5 / 6, 0.5, 2 / 3, 1.0, 0.0], abs=1e-6)
    assert result["mean_f1"] == pytest.approx(sum(f1) / 5, abs=1e-6)


def test_reward_keeps_the_best_reference_scales_and_batches_or_calls_per_completion():
    examples = [example("Paris, France", "Paris"), example("a b b")]
    completions = ["Paris", "a a a b"]
    per_example = evaluated(WORD_F1, key="f1", scale=2.0)
    assert per_example.name == "word_f1(f1)"
    assert per_example(examples, completions) == pytest.approx([2.0, 8 / 7], abs=1e-6)
    scalar = evaluated(WORD_F1, key="mean_f1")  # one number per call: called per completion
    assert scalar(examples, completions) == pytest.approx([1.0, 4 / 7], abs=1e-6)


def test_a_metric_taking_reference_lists_gets_all_references_at_once(tmp_path):
    (tmp_path / "counted.py").write_text(LIST_METRIC)
    reward = evaluated(str(tmp_path / "counted.py"), key="n_refs")
    assert reward([example("a", "b", "c"), example("d")], ["x", "y"]) == [3.0, 1.0]
    with pytest.raises(BenchError, match="key 'label' holds 'many', not a finite number"):
        evaluated(str(tmp_path / "counted.py"), key="label")([example("a")], ["x"])


def test_a_bad_key_names_the_keys_the_metric_returned():
    with pytest.raises(BenchError) as err:
        evaluated(WORD_F1, key="f2")([example("Paris")], ["Paris"])
    assert str(err.value).endswith("no key 'f2' (keys: f1, mean_f1, precision, recall)")


def test_a_missing_local_metric_file_is_one_line(tmp_path):
    with pytest.raises(BenchError, match="metric file '.*missing.py' does not exist"):
        evaluated(str(tmp_path / "missing.py"), key="f1")


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("key: f1}", "key: f2}", "no key 'f2' (keys: f1, mean_f1, precision, recall)"),
        ("word_f1.py, key: f1}", "nope.py, key: f1}", "metrics/nope.py' does not exist"),
    ],
)
def test_task_file_errors_are_one_line(tmp_path, old, new, message):
    text = (BUILTIN_FOLDER / "capitals_f1.yaml").read_text().replace(old, new)
    text = text.replace("source: capitals.jsonl", f"source: {BUILTIN_FOLDER}/capitals.jsonl")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "word_f1.py").write_text(Path(WORD_F1).read_text())
    (tmp_path / "bad.yaml").write_text(text)
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "bad.yaml")])
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_shipped_task_file_uses_the_metric_as_reward_and_metric(bench_cache, tmp_path):
    lines = validate("capitals_f1", count=2)
    assert lines[1] == "reward word_f1(f1)"
    assert lines.count("reward of the reference against itself: 1.0000") == 2
    args = ["run", "capitals_f1", "--algo", "reinforce", "--policy", "tiny", "--samples", "8"]
    args += ["--out", str(tmp_path / "runs"), "-o", "prompts_per_update=2"]
    args += ["-o", "rollout.samples_per_prompt=4", "-o", "eval.prompts=2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    run_dir = Path(result.output.split("run dir")[1].split()[0])
    outcome = json.loads((run_dir / "result.json").read_text())
    assert outcome["spent"]["samples"] == 8
    test = outcome["eval_after"]["test"]
    for key in ("eval/word_f1(f1)", "eval/word_f1(precision)", "eval/chrf"):
        assert 0.0 <= test[key] <= 1.0, key
