"""`bench eval`: a saved checkpoint scored by the same evaluation as `bench run`, its rows in the
report beside trained runs, a checkpoint series, and every bad input refused in one line."""

import json
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from transformers import AutoTokenizer
from typer.testing import CliRunner

from harness.cli import app
from harness.launch import build_config, run
from harness.metrics.stats import t_interval
from reports.aggregate import build_tables
from reports.load import load_runs
from reports.matched import kl_grid, row_kl_curve

SMALL = [
    "prompts_per_update=2",
    "rollout.samples_per_prompt=2",
    "eval.prompts=3",
    "task.max_source_words=30",
    "task.max_new_tokens=8",
    "lr=1e-3",
]
EVAL = ["-o", "eval.prompts=3", "-o", "task.max_source_words=30", "-o", "task.max_new_tokens=8"]


@pytest.fixture(scope="module")
def trained(bench_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reinforce run on tiny that saved its policy (RUN_DIR/policy)."""
    out = tmp_path_factory.mktemp("runs")
    config = build_config(
        "summarization", "reinforce", policy="tiny", samples=8, seed=0, out=str(out),
        overrides=SMALL,
    )  # fmt: skip
    return run(config, Console(quiet=True), export=True)


def bench_eval(*args: str) -> tuple[int, str]:
    """Run `bench eval ARGS` in-process; (exit code, output)."""
    result = CliRunner().invoke(app, ["eval", "summarization", *args, *EVAL])
    return result.exit_code, result.output


def result_of(out: Path, name: str) -> dict:
    """The result.json of the only run of row `name` under `out`."""
    (path,) = (out / "summarization" / name).glob("*/result.json")
    return json.loads(path.read_text())


def test_a_saved_policy_scores_exactly_as_the_run_that_trained_it(trained: Path) -> None:
    out = trained.parents[2]  # the same root: the run's start row is taken, not made again
    code, output = bench_eval("--policy", str(trained / "policy"), "--reference", "tiny",
                              "--name", "saved", "--out", str(out))  # fmt: skip
    assert code == 0, output
    assert "start eval   the reference's start row's, not repeated" in output
    ran = json.loads((trained / "result.json").read_text())
    evaluated = result_of(out, "saved")
    assert evaluated["eval_after"] == ran["eval_after"]  # every split, sampled and greedy
    assert evaluated["eval_before"] == ran["eval_before"]
    assert evaluated["heldout_gain"] == ran["heldout_gain"]
    assert (evaluated["role"], evaluated["stop_reason"]) == ("external", "evaluated")
    external = evaluated["external"]
    assert external["reference"] == "tiny" and len(external["fingerprint"]) == 16
    assert external["fingerprint"] != external["reference_fingerprint"]  # it was trained


def test_the_starting_policy_against_itself_is_its_start_row(bench_cache, tmp_path) -> None:
    code, output = bench_eval("--policy", "tiny", "--reference", "tiny", "--name", "same",
                              "--out", str(tmp_path))  # fmt: skip
    assert code == 0, output
    start = result_of(tmp_path, "start")  # written by this call: no run had made it
    same = result_of(tmp_path, "same")
    for split in ("val", "test"):
        assert same["eval_after"][split] == start["eval_after"][split]
    assert same["eval_after"]["test"]["eval/kl_exact"] < 1e-6  # the start row's ≈ 0, not new
    assert same["external"]["fingerprint"] == same["external"]["reference_fingerprint"]


def test_the_report_puts_the_external_row_beside_trained_rows(trained: Path) -> None:
    out = trained.parents[2]
    code, output = bench_eval("--policy", str(trained / "policy"), "--reference", "tiny",
                              "--name", "beside", "--out", str(out))  # fmt: skip
    assert code == 0, output
    runs, skipped = load_runs([out])
    assert skipped == []  # RUN_DIR/policy (a model's config.json) is not a run of its own
    (table,), _ = build_tables(runs, allow_mixed=False)
    rows = {row.label: row for row in table.rows}
    assert {"reinforce", "start", "beside"} <= set(rows)
    beside = rows["beside"]
    assert beside.role == "external" and beside.test("best") is not None
    notes = "; ".join(beside.flags)
    assert "external checkpoint" in notes and "evaluation noise only" in notes
    # one seed: the reward's interval is over the 3 test prompts (t), not over seeds
    reward = beside.metrics["eval/reward"]
    assert reward == t_interval(beside.runs[0].prompt_rewards) and reward.n == 3


def test_a_checkpoint_series_is_evaluated_in_numeric_order(trained: Path, tmp_path) -> None:
    series = tmp_path / "series"
    for step in (10, 2, 100):  # 10 < 100 as numbers, not as text
        shutil.copytree(trained / "policy", series / f"checkpoint-{step}")
    code, output = bench_eval("--policy", str(series), "--reference", "tiny", "--out",
                              str(tmp_path / "out"))  # fmt: skip
    assert code == 0, output
    result = result_of(tmp_path / "out", "series")
    assert result["external"]["checkpoints"] == [2, 10, 100]
    assert [point["update"] for point in result["eval_curve"]] == [0, 2, 10, 100]
    runs, _ = load_runs([tmp_path / "out"])
    (table,), _ = build_tables(runs, allow_mixed=False)
    row = next(row for row in table.rows if row.label == "series")
    xs, intervals = row_kl_curve(row.runs, kl_grid(row.runs), "t")
    assert len(xs) > 0 and len(intervals) == len(xs)  # the plot draws its curve


def test_no_reference_gives_its_own_table_without_kl(trained: Path, tmp_path) -> None:
    code, output = bench_eval("--policy", str(trained / "policy"), "--name", "alone", "--out",
                              str(tmp_path))  # fmt: skip
    assert code == 0, output
    result = result_of(tmp_path, "alone")
    assert result["eval_before"] == {} and result["heldout_gain"] is None
    assert "eval/kl_exact" not in result["eval_after"]["test"]
    runs, _ = load_runs([tmp_path])
    tables, _ = build_tables(runs, allow_mixed=False)
    assert [table.task for table in tables] == ["summarization (external, no reference)"]


def bad_folders(trained: Path, root: Path) -> dict[str, Path]:
    """A folder that is no model, an empty series folder, a model with another vocabulary."""
    plain, empty = root / "plain", root / "empty"
    plain.mkdir()
    (plain / "notes.txt").write_text("no model here")
    empty.mkdir()
    other = root / "other-vocab"
    shutil.copytree(trained / "policy", other)
    tokenizer = AutoTokenizer.from_pretrained(other)
    tokenizer.add_tokens(["zzz-not-in-tiny"])
    tokenizer.save_pretrained(other)
    return {"plain": plain, "empty": empty, "other": other}


def test_bad_inputs_exit_2_with_one_line_and_write_nothing(trained: Path, tmp_path) -> None:
    folders = bad_folders(trained, tmp_path)
    policy = str(trained / "policy")
    cases = {
        "missing": (["--policy", str(tmp_path / "nowhere")], "no such folder"),
        "not a model": (["--policy", str(folders["plain"])], "holds no model"),
        "no checkpoints": (["--policy", str(folders["empty"])], "no checkpoint-N/ folders"),
        "vocabularies": (["--policy", str(folders["other"]), "--reference", "tiny"],
                         "differs from the reference's"),
        "algorithm name": (["--policy", policy, "--name", "reinforce"],
                           "is a registered algorithm's name"),
        "bad key": (["--policy", policy, "-o", "lr=1e-3"], "unknown option 'lr'"),
    }  # fmt: skip
    for case, (args, words) in cases.items():
        out = tmp_path / case.replace(" ", "-")
        code, output = bench_eval(*args, "--out", str(out))
        assert code == 2, (case, output)
        assert words in output and len(output.strip().splitlines()) == 1, (case, output)
        assert not out.exists(), case
    unknown = CliRunner().invoke(app, ["eval", "summarisation", "--policy", policy])
    assert unknown.exit_code == 2 and "did you mean 'summarization'" in unknown.output
