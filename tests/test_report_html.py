"""index.html in headless Chromium: loads without console messages and shows every plot; a
one-update run's curves show their points; the leaderboard's row labels stay in view."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_fixtures import make_anchor, make_run
from rich.console import Console

from reports.aggregate import build_tables
from reports.build import build_report
from reports.load import load_runs
from reports.plots import PASSES_AXIS, SAMPLES_AXIS, curve_figure

CHROMIUM = shutil.which("chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=5000",
)


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on a local page with a throw-away profile and console logging."""
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr"]
    command += ["--v=0", *extra, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=90)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (apt-get install chromium)")
def test_index_html_renders_every_plot_without_console_messages(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    for seed in (0, 1):
        make_run(root, "ppo", seed, 0.3 + seed / 100, kl=0.02)
        make_run(root, "reinforce", seed, 0.2 + seed / 100, kl=0.01)
        make_anchor(root, "start", seed)
        make_anchor(root, "lead-9", seed, reward=0.25)
    out = tmp_path / "report"
    build_report([root], out, False, Console(quiet=True))
    page = out / "index.html"

    dom = chromium(page, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout)
    assert body is not None, dom.stdout[:500]
    attributes = dict(re.findall(r'data-(\w+)="([^"]*)"', body.group(1)))
    # Set by the page's own script after the load event: 6 plots, none broken, no JS errors.
    assert attributes == {"images": "6", "broken": "0", "errors": "0", "ready": "yes"}
    assert len(re.findall(r"<img [^>]*data-plot=", dom.stdout)) == 6
    # Chromium logs every console message (any level, CSP violations included) as CONSOLE.
    console_lines = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console_lines == []

    shot = tmp_path / "page.png"
    taken = chromium(
        page, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1400,2400"
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_a_one_update_run_draws_each_curve_as_a_marked_point_with_its_ci(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    for seed in (0, 1, 2):  # one update each; the runs' token passes differ by seed
        make_run(root, "ppo", seed, 0.3 + seed / 50, kl=0.02, updates=1)
    tables, _ = build_tables(load_runs([root])[0], False)
    for axis in (SAMPLES_AXIS, PASSES_AXIS):
        axes = curve_figure(tables[0], "train/reward", "training reward", axis).axes[0]
        (line,) = axes.get_lines()[:1]
        assert line.get_marker() == "o" and line.get_markersize() > 0
        # one point: the mean over seeds of x and of the train reward (0.3, 0.32, 0.34)
        assert len(line.get_xdata()) == 1 and line.get_ydata()[0] == pytest.approx(0.32)
        expected_x = 32 if axis == SAMPLES_AXIS else (1_500_000 + 10_000 + 500_000) / 1e6
        assert line.get_xdata()[0] == pytest.approx(expected_x)
        # no band (it would need two points) but an error bar from the CI's low to its high
        bars = [c for c in axes.collections if c.get_segments()]
        (segment,) = bars[0].get_segments()
        assert segment[0][1] < 0.32 < segment[1][1]


SCROLL_CHECK = """<script>window.addEventListener('load',function(){
  var box=document.querySelector('.scroll'),row=box.querySelector('tbody tr');
  box.scrollLeft=600;var left=box.getBoundingClientRect().left+box.clientLeft;
  function at(i){return Math.round(row.cells[i].getBoundingClientRect().left-left)}
  var d=document.body.dataset;d.scrolled=box.scrollLeft;d.rank=at(0);d.algo=at(1);d.seeds=at(3);
});</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (apt-get install chromium)")
def test_the_row_labels_stay_in_view_when_the_leaderboard_scrolls_sideways(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    for seed in (0, 1):
        make_run(root, "ppo", seed, 0.3 + seed / 100, kl=0.02)
        make_anchor(root, "start", seed)
    out = tmp_path / "report"
    build_report([root], out, False, Console(quiet=True))
    text = (out / "index.html").read_text()
    assert ".board .pin{position:sticky;left:0;" in text and ".board .pin.algo{left:48px;" in text
    assert '<td class="pin rank">1</td><td class="label pin algo">' in text
    # Scroll the table right in a narrow window, then measure where the cells are.
    page = tmp_path / "scrolled.html"
    page.write_text(text.replace("</body>", SCROLL_CHECK + "</body>"))
    dom = chromium(page, tmp_path / "profile", "--dump-dom", "--window-size=900,700")
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout)
    assert body is not None, dom.stdout[:500]
    found = {key: int(value) for key, value in re.findall(r'data-(\w+)="(-?\d+)"', body.group(1))}
    assert found["scrolled"] > 0 and found["seeds"] < 0  # the table did scroll ...
    assert (found["rank"], found["algo"]) == (0, 48)  # ... and the labels stayed at its left
