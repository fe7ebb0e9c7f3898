"""`bench report --copy-results`: the results a report was built from, committed beside it,
rebuild its md, csv and json byte for byte, and carry no checkpoints, samples or weights."""

import json
from pathlib import Path

import pytest
from report_fixtures import make_anchor, make_partial_run, make_run
from test_report_tuning import SELECTION, TUNE
from typer.testing import CliRunner

from harness.cli import app
from reports.build import FILES


@pytest.fixture()
def study(tmp_path: Path) -> Path:
    """A sweep folder as `bench sweep` leaves it: report runs, anchor rows, tune runs, a partial
    run, selection.json, and a checkpoint that must not be copied."""
    root = tmp_path / "runs" / "study"
    for seed in (0, 1, 2):
        make_run(root, "ppo", seed, 0.3 + seed / 100)
        make_run(root, "reinforce", seed, 0.25 + seed / 100)
        make_anchor(root, "start", seed)
        make_anchor(root, "lead-9", seed, reward=0.22)
    make_run(root, "ppo", 100, 0.9, config_changes=TUNE)
    make_partial_run(root, "reinforce", 7)
    (root / "selection.json").write_text(json.dumps(SELECTION))
    (next(root.glob("summarization/ppo/seed0-*")) / "checkpoint.pt").write_bytes(b"weights")
    return root


def bench(*args: str) -> str:
    """Run `bench ARGS`; its output (exit code 0 asserted)."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_the_copy_rebuilds_md_csv_and_json_byte_for_byte(study: Path, tmp_path: Path) -> None:
    published = tmp_path / "reports" / "reference"
    printed = bench("report", str(study), "--out", str(published), "--copy-results")
    assert f"results copied → {published / 'runs'}" in printed
    copied = sorted(p.relative_to(published / "runs").as_posix() for p in
                    (published / "runs").rglob("*") if p.is_file())  # fmt: skip
    originals = sorted(p.parent.relative_to(study).as_posix() for p in study.rglob("config.json"))
    expected = ["selection.json"]
    expected += [f"{run}/config.json" for run in originals]
    finished = [run for run in originals if (study / run / "result.json").exists()]
    expected += [f"{run}/result.json" for run in finished]
    assert copied == sorted(expected) and len(originals) == 14  # 13 finished, 1 partial
    rebuilt = tmp_path / "elsewhere" / "x"
    bench("report", str(published / "runs"), "--out", str(rebuilt))
    for name in FILES[:3]:
        assert (rebuilt / name).read_bytes() == (published / name).read_bytes(), name
    markdown = (published / "leaderboard.md").read_text()
    assert "no result.json (partial or interrupted run)" in markdown  # the partial run's note
    assert "lr=1e-05" in markdown  # the tuning record came along


def test_a_copy_that_would_not_rebuild_the_report_is_refused(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reports.publish.KEPT", ("result.json",))  # the partial run vanishes
    out = tmp_path / "published"
    result = CliRunner().invoke(app, ["report", str(study), "--out", str(out), "--copy-results"])
    assert result.exit_code == 2
    assert "do not rebuild this report; nothing was written" in result.output
    assert not (out / "leaderboard.md").exists() and not (out / "runs").exists()
    assert [p.name for p in out.iterdir()] == []  # no staging folder left behind


def test_a_copy_overlapping_the_runs_reported_is_refused(study: Path, tmp_path: Path) -> None:
    out = study / "report"
    result = CliRunner().invoke(app, ["report", str(study), "--out", str(out), "--copy-results"])
    assert result.exit_code == 2 and "overlaps the runs reported (another --out)" in result.output
    assert not out.exists()
    published = tmp_path / "published"
    bench("report", str(study), "--out", str(published), "--copy-results")
    before = sorted(p for p in (published / "runs").rglob("*"))
    inner = str(published / "runs" / "summarization")  # replacing runs/ would delete it
    result = CliRunner().invoke(app, ["report", inner, "--out", str(published), "--copy-results"])
    assert result.exit_code == 2 and "overlaps the runs reported (another --out)" in result.output
    assert sorted(p for p in (published / "runs").rglob("*")) == before
