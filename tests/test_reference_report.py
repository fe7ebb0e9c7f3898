"""The committed CPU reference leaderboard (reports/reference/) rebuilds byte for byte from the
run results committed beside it, on any machine: `bench report reports/reference/runs`."""

from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app
from reports.build import FILES

REFERENCE = Path(__file__).resolve().parents[1] / "reports" / "reference"


def test_the_reference_leaderboard_rebuilds_from_its_committed_runs(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(REFERENCE / "runs"), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in FILES[:3]:  # md, csv, json (index.html embeds plots)
        assert (tmp_path / name).read_bytes() == (REFERENCE / name).read_bytes(), name
    results = list((REFERENCE / "runs").rglob("result.json"))
    trained = [p for p in results if p.parent.parent.name in ("reinforce", "ppo", "trpo", "grpo")]
    assert len(trained) == 4 * (3 + 5)  # 3 tuning trials and 5 report seeds per algorithm
    assert not list((REFERENCE / "runs").rglob("checkpoint*"))
