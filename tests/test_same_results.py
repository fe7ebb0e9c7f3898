"""benchmarks/same_results.py: what it leaves out, and that it finds any other difference."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("same_results", ROOT / "benchmarks/same_results.py")
same_results = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(same_results)


def write_run(folder: Path, reward: float, seconds: float, out: str) -> None:
    folder.mkdir(parents=True)
    result = {"spent": {"samples": 8, "seconds": seconds}, "config": {"out": out}, "r": reward}
    result["env"] = {"git_commit": out[-1], "torch": "2.13.0"}
    (folder / "result.json").write_text(json.dumps(result))
    rows = [{"update": 1, "train/reward": reward, "time/update": seconds, "eval/seconds": 2.0}]
    (folder / "metrics.jsonl").write_text("\n".join(json.dumps(row) for row in rows))


def test_wall_time_memory_the_out_folder_and_the_commit_are_left_out(tmp_path: Path) -> None:
    write_run(tmp_path / "a/task/algo/seed0", 0.5, 1.0, "/runs/a")
    write_run(tmp_path / "b/task/algo/seed0", 0.5, 9.0, "/runs/b")
    lines = same_results.compare(tmp_path / "a", tmp_path / "b")
    assert lines == [
        "task/algo/seed0/metrics.jsonl: identical",
        "task/algo/seed0/result.json: identical",
    ]


def test_a_computed_value_that_differs_is_named_with_its_place(tmp_path: Path) -> None:
    write_run(tmp_path / "a/task/algo/seed0", 0.5, 1.0, "/runs/a")
    write_run(tmp_path / "b/task/algo/seed0", 0.25, 1.0, "/runs/a")
    lines = same_results.compare(tmp_path / "a", tmp_path / "b")
    assert "    [0].train/reward: 0.5 ≠ 0.25" in lines
    assert "    .r: 0.5 ≠ 0.25" in lines
    assert same_results.differences({"a": 1, "b": 2}, {"b": 2, "a": 1}) == [": key order differs"]
