"""`bench report` end to end: the four files, one-line errors, and no torch import."""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from report_fixtures import make_anchor, make_run
from typer.testing import CliRunner

from harness.cli import app

FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "index.html")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def runs(tmp_path: Path) -> Path:
    """Two algorithms × two seeds, the start and lead-9 anchor rows, one corrupt directory."""
    root = tmp_path / "runs"
    for seed in (0, 1):
        make_run(root, "ppo", seed, 0.3 + seed / 100)
        make_run(root, "reinforce", seed, 0.2 + seed / 100)
        make_anchor(root, "start", seed)
        make_anchor(root, "lead-9", seed, reward=0.25)
    broken = root / "summarization" / "ppo" / "broken"
    broken.mkdir(parents=True)
    (broken / "result.json").write_text("{")
    return root


def test_bench_report_writes_the_four_files_and_each_figure_as_a_png(
    runs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", str(runs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    figures = ("reward", "compute", "kl", "frontier", "kl_curve", "diversity")
    pngs = [f"summarization-{name}.png" for name in figures]
    assert sorted(path.name for path in out.iterdir()) == sorted([*FILES, *pngs])
    assert all((out / png).read_bytes().startswith(b"\x89PNG") for png in pngs)
    assert "warning: skipped" in result.output and "broken" in result.output
    data = json.loads((out / "leaderboard.json").read_text())
    rows = data["tables"][0]["rows"]
    assert [row["row"] for row in rows] == ["ppo", "lead-9", "reinforce", "start"]
    assert "does not beat lead-9 (0.250)" in rows[2]["flags"]
    html = (out / "index.html").read_text()
    assert html.count('src="data:image/png;base64,') == 6
    assert 'data-plot="compute"' in html and "start (anchor)" in html
    assert "Matched KL: 0.0075 nats/token" in html and "does not beat lead-9 (0.250)" in html
    assert "http://" not in html and "https://" not in html
    assert "&lt;b&gt;&amp;" in html  # generations are escaped, never injected


def test_md_csv_and_json_are_the_same_bytes_wherever_the_runs_and_the_report_lie(
    runs: Path, tmp_path: Path
) -> None:
    moved = tmp_path / "elsewhere" / "deeper" / "runs"
    shutil.copytree(runs, moved)
    for source, out in ((runs, tmp_path / "report"), (moved, moved.parent / "r")):
        result = CliRunner().invoke(app, ["report", str(source), "--out", str(out)])
        assert result.exit_code == 0, result.output
    for name in FILES[:3]:
        text = (tmp_path / "report" / name).read_text()
        assert text == (moved.parent / "r" / name).read_text(), name
        assert str(tmp_path) not in text and str(tmp_path.resolve()) not in text, name
    rows = json.loads((tmp_path / "report" / "leaderboard.json").read_text())["tables"][0]["rows"]
    assert rows[0]["runs"] == [f"summarization/ppo/{p.name}" for p in sorted(runs.glob("*/ppo/s*"))]


def test_bench_report_errors_are_one_line_exit_2(runs: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(app, ["report", str(empty), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "no run directories found under" in result.output
    make_run(runs, "ppo", 5, config_changes={"rollout.samples_per_prompt": 2})
    result = CliRunner().invoke(app, ["report", str(runs), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "rollout.samples_per_prompt (2 ×1, 4 ×4)" in result.output
    mixed = ["report", str(runs), "--out", str(tmp_path / "r"), "--allow-mixed"]
    result = CliRunner().invoke(app, mixed)
    assert result.exit_code == 0 and "MIXED SETTINGS" in result.output
    assert "MIXED SETTINGS" in (tmp_path / "r" / "leaderboard.md").read_text()


def test_report_never_imports_torch(runs: Path, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from rich.console import Console
        import reports.build
        reports.build.build_report([Path({str(runs)!r})], Path({str(tmp_path / "r")!r}),
                                   False, Console(quiet=True))
        assert (Path({str(tmp_path / "r")!r}) / "index.html").exists()
        print("torch" in sys.modules, "transformers" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
