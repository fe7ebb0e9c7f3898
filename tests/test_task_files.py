"""YAML task files: parsing, errors that name the bad key, `bench validate`, and a `bench run`."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.api.errors import BenchError
from harness.cli import app
from harness.data.task_files import file_factory, validate

TASK = """\
name: echo
version: "2"
description: repeat a word
data:
  source: rows.jsonl
prompt: "Repeat the word: {word}\\nAnswer:"
reference: "{word}"
reward:
  components:
    chrf: 1.0
    bleu: {weight: 0.5}
  length_penalty: 0.1
  max_words: 2
metrics: [chrf]
generation:
  max_new_tokens: 6
"""
WORDS = "apple river stone cloud paper garden window silver orange candle forest bridge".split()


@pytest.fixture()
def task_file(tmp_path: Path) -> Path:
    rows = [{"id": f"w{i}", "word": w} for i, w in enumerate(WORDS * 4)]
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    path = tmp_path / "echo.yaml"
    path.write_text(TASK)
    return path


def test_task_file_builds_a_task_with_a_composite_reward(task_file):
    task = file_factory(task_file)()
    assert (task.name, task.version, task.generation.max_new_tokens) == ("echo", "2", 6)
    train, val = task.examples("train"), task.examples("val")
    assert len(train) == 38 and len(val) == 5  # 80/10/10 of 48 rows in file order
    assert train[0].prompt == "Repeat the word: apple\nAnswer:" and train[0].references == (
        "apple",
    )
    totals, parts = task.reward.score(val[:1], [val[0].references[0] + " a b c"])
    assert parts["length_penalty"] == [pytest.approx(-0.2)]
    assert totals[0] == pytest.approx(parts["chrf"][0] + 0.5 * parts["bleu"][0] - 0.2)
    assert set(task.metrics(val, [e.references[0] for e in val])) == {"chrf"}


def test_validate_renders_references_scored_against_themselves(task_file):
    lines = validate(str(task_file), count=2)
    assert lines[0] == "task echo v2: repeat a word" and "train 38 · val 5 · test 5" in lines[2]
    assert lines.count("reward of the reference against itself: 1.5000") == 2
    result = CliRunner().invoke(app, ["validate", str(task_file), "--count", "1"])
    assert result.exit_code == 0 and "reward of the reference against itself" in result.output


@pytest.mark.parametrize(
    "change, message",
    [
        (('version: "2"\n', ""), "missing keys ['version']"),
        (("metrics:", "metric:"), "unknown keys ['metric']"),
        (('{word}"\nreward', '{wrd}"\nreward'), "template column 'wrd' not in data"),
        (("chrf: 1.0", "chrff: 1.0"), "unknown reward 'chrff'"),
    ],
)
def test_bad_task_files_fail_in_one_line(task_file, change, message):
    task_file.write_text(TASK.replace(*change))
    result = CliRunner().invoke(app, ["validate", str(task_file)])
    assert result.exit_code == 2 and message in result.output, result.output


def test_missing_task_file_is_a_bench_error(tmp_path):
    with pytest.raises(BenchError, match="does not exist"):
        file_factory(tmp_path / "nope.yaml")


def test_task_file_runs_through_bench_run_and_logs_components(task_file, bench_cache, tmp_path):
    args = ["run", str(task_file), "--algo", "reinforce", "--policy", "tiny", "--samples", "8"]
    args += ["--out", str(tmp_path / "runs"), "-o", "prompts_per_update=2"]
    args += ["-o", "rollout.samples_per_prompt=4", "-o", "eval.prompts=2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    run_dir = Path(result.output.split("run dir")[1].split()[0])
    outcome = json.loads((run_dir / "result.json").read_text())
    assert outcome["task_version"] == "2" and outcome["spent"]["samples"] == 8
    for key in ("eval/reward_chrf", "eval/reward_bleu", "eval/reward_length_penalty", "eval/chrf"):
        assert key in outcome["eval_after"]["test"]
    train = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert "train/reward_chrf" in next(row for row in train if row["kind"] == "train")


def test_shipped_task_file_is_registered_by_name():
    from harness.data.task_files import task_entries

    assert "capitals" in task_entries()
    lines = validate("capitals", count=1)
    assert lines[0].startswith("task capitals v1")
