"""Reading run directories: corrupt and partial ones are skipped with one-line warnings."""

import json
from pathlib import Path

import pytest
from report_fixtures import make_run

from harness.api.errors import BenchError
from reports.aggregate import build_tables
from reports.load import find_run_dirs, load_runs, report_root


def shown(path: Path, root: Path) -> str:
    """A run directory as the report shows it: relative to the report root."""
    return path.relative_to(root).as_posix()


def test_corrupt_and_partial_directories_are_skipped_with_one_line_each(tmp_path: Path) -> None:
    good = make_run(tmp_path, "ppo", 0)
    corrupt = make_run(tmp_path, "ppo", 1, reward=0.5)
    (corrupt / "result.json").write_text('{"task": "summ')
    partial = make_run(tmp_path, "ppo", 2, reward=0.6)
    (partial / "result.json").unlink()
    nan_run = make_run(tmp_path, "ppo", 3, reward=0.7)
    rewrite(nan_run, eval_after=None, stop_reason="nonfinite")
    runs, warnings = load_runs([tmp_path])
    assert [run.path for run in runs] == [good.resolve()]
    assert [run.name for run in runs] == ["summarization/ppo/" + good.name]
    assert len(warnings) == 3 and all("\n" not in line for line in warnings)
    assert f"skipped {shown(corrupt, tmp_path)}: result.json is not valid JSON" in warnings[0]
    assert warnings[1] == (
        f"skipped {shown(partial, tmp_path)}: no result.json (partial or interrupted run)"
    )
    expected = "no test split in eval_after (splits: none; stop_reason=nonfinite)"
    assert warnings[2] == f"skipped {shown(nan_run, tmp_path)}: {expected}"


def rewrite(path: Path, **changes: object) -> dict:
    """Apply `changes` to a run's result.json; return the result as written."""
    result = json.loads((path / "result.json").read_text())
    result.update(changes)
    (path / "result.json").write_text(json.dumps(result))
    return result


def test_a_result_without_a_test_split_or_with_an_old_schema_is_skipped(tmp_path: Path) -> None:
    val_only = make_run(tmp_path, "ppo", 0)
    result = json.loads((val_only / "result.json").read_text())
    rewrite(val_only, eval_after={"val": result["eval_after"]["val"]})
    nan_test = make_run(tmp_path, "ppo", 1)
    after = result["eval_after"] | {"test": {"eval/reward": None}}
    rewrite(nan_test, eval_after=after)
    old = make_run(tmp_path, "ppo", 2)
    rewrite(old, schema_version=2)
    odd_role = make_run(tmp_path, "ppo", 3)
    rewrite(odd_role, role="teacher")
    runs, warnings = load_runs([tmp_path])
    assert runs == [] and len(warnings) == 4
    reasons = dict(line.removeprefix("skipped ").split(": ", 1) for line in warnings)
    assert reasons[shown(val_only, tmp_path)] == (
        "no test split in eval_after (splits: val; stop_reason=samples)"
    )
    assert reasons[shown(nan_test, tmp_path)] == (
        "no finite eval/reward in eval_after[test] (stop_reason=samples)"
    )
    assert reasons[shown(old, tmp_path)] == (
        "result.json has schema_version 2; this reporter reads 3, 4, 5"
    )
    assert reasons[shown(odd_role, tmp_path)] == (
        "role 'teacher' is not one of report, tune, baseline, external (schema 5)"
    )


def test_splits_eval_curve_and_role_are_read(tmp_path: Path) -> None:
    make_run(tmp_path, "ppo", 0, reward=0.3, kl=0.02)
    (run,), warnings = load_runs([tmp_path])
    assert warnings == [] and run.role == "report" and not run.anchor and not run.tuning
    assert sorted(run.eval_after) == ["test", "val"]
    assert run.after["eval/reward"] == pytest.approx(0.3, abs=1e-12)
    assert run.eval_after["val"]["eval/reward"] == pytest.approx(0.35, abs=1e-12)
    assert run.after["eval/greedy/reward"] == pytest.approx(0.32, abs=1e-12)
    assert run.before["eval/reward"] == pytest.approx(0.1, abs=1e-12)
    assert [point["update"] for point in run.eval_curve] == [0, 1, 2]
    assert [point["eval/kl_exact"] for point in run.eval_curve] == pytest.approx([0, 0.01, 0.02])
    assert run.curve[-1]["forward_tokens"] == 3_000_000


def test_truncated_metrics_line_is_ignored(tmp_path: Path) -> None:
    path = make_run(tmp_path, "ppo", 0, reward=0.3)
    with (path / "metrics.jsonl").open("a") as handle:
        handle.write('{"kind": "train", "samples_seen": 96, "train/rew')
    (run,), warnings = load_runs([tmp_path])
    assert warnings == []
    assert [point["samples_seen"] for point in run.curve] == [32, 64]
    assert run.curve[-1]["train/reward"] == pytest.approx(0.3, abs=1e-12)


def test_a_run_directory_itself_and_roots_are_accepted(tmp_path: Path) -> None:
    one = make_run(tmp_path, "ppo", 0)
    make_run(tmp_path, "reinforce", 0)
    assert find_run_dirs([one]) == [one.resolve()]
    assert len(find_run_dirs([tmp_path, one])) == 2


def test_the_report_root_holds_every_path_given_and_names_each_run_below_it(
    tmp_path: Path,
) -> None:
    one = make_run(tmp_path / "a", "ppo", 0)
    two = make_run(tmp_path / "b", "ppo", 1)
    assert report_root([tmp_path / "a"]) == (tmp_path / "a").resolve()
    assert report_root([tmp_path / "a", tmp_path / "b"]) == tmp_path.resolve()
    assert report_root([one]) == one.parent.resolve()  # a run directory is named, never `.`
    runs, _ = load_runs([tmp_path / "a", two])
    assert [run.name for run in runs] == [shown(one, tmp_path), shown(two, tmp_path)]
    (run,), _ = load_runs([one])
    assert run.name == one.name


def test_no_run_directories_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchError, match="no run directories found under"):
        find_run_dirs([tmp_path / "empty"])
    with pytest.raises(BenchError, match="no such file or directory: '.*missing'"):
        find_run_dirs([tmp_path / "missing"])


def test_a_schema_3_result_is_read_with_role_trained_as_report(tmp_path: Path) -> None:
    old = make_run(tmp_path, "ppo", 0, reward=0.3)
    rewrite(old, schema_version=3, role="trained")
    make_run(tmp_path, "ppo", 1, reward=0.4)
    odd = make_run(tmp_path, "ppo", 2)
    rewrite(odd, schema_version=3, role="tune")  # schema 3 had no tuning runs
    runs, warnings = load_runs([tmp_path])
    assert [(run.seed, run.role) for run in runs] == [(0, "report"), (1, "report")]
    assert warnings == [
        f"skipped {shown(odd, tmp_path)}: role 'tune' is not one of trained, baseline (schema 3)"
    ]
    (table,), _ = build_tables(runs, allow_mixed=False)
    (row,) = table.rows
    assert row.label == "ppo" and not row.anchor and [run.seed for run in row.runs] == [0, 1]
    assert row.metrics["eval/reward"].mean == pytest.approx(0.35, abs=1e-12)
