"""Reading run directories: corrupt and partial ones are skipped with one-line warnings."""

import json
from pathlib import Path

import pytest
from report_fixtures import make_run

from harness.api.errors import BenchError
from reports.load import find_run_dirs, load_runs


def test_corrupt_and_partial_directories_are_skipped_with_one_line_each(tmp_path: Path) -> None:
    good = make_run(tmp_path, "ppo", 0)
    corrupt = make_run(tmp_path, "ppo", 1, reward=0.5)
    (corrupt / "result.json").write_text('{"task": "summ')
    partial = make_run(tmp_path, "ppo", 2, reward=0.6)
    (partial / "result.json").unlink()
    nan_run = make_run(tmp_path, "ppo", 3, reward=0.7)
    result = json.loads((nan_run / "result.json").read_text())
    result.update(eval_after=None, stop_reason="nonfinite")
    (nan_run / "result.json").write_text(json.dumps(result))
    runs, warnings = load_runs([tmp_path])
    assert [run.path for run in runs] == [good.resolve()]
    assert len(warnings) == 3 and all("\n" not in line for line in warnings)
    assert f"skipped {corrupt.resolve()}: result.json is not valid JSON" in warnings[0]
    assert (
        warnings[1] == f"skipped {partial.resolve()}: no result.json (partial or interrupted run)"
    )
    assert "no finite eval/reward in eval_after (stop_reason=nonfinite)" in warnings[2]


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


def test_no_run_directories_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchError, match="no run directories found under"):
        find_run_dirs([tmp_path / "empty"])
    with pytest.raises(BenchError, match="no such file or directory: '.*missing'"):
        find_run_dirs([tmp_path / "missing"])
