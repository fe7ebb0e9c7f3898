"""index.html in headless Chromium: loads without console messages and shows every plot."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_fixtures import make_baseline, make_run
from rich.console import Console

from reports.build import build_report

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
        make_baseline(root, "start", seed)
        make_baseline(root, "lead-9", seed, reward=0.25)
    out = tmp_path / "report"
    build_report([root], out, False, Console(quiet=True))
    page = out / "index.html"

    dom = chromium(page, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout)
    assert body is not None, dom.stdout[:500]
    attributes = dict(re.findall(r'data-(\w+)="([^"]*)"', body.group(1)))
    # Set by the page's own script after the load event: 5 plots, none broken, no JS errors.
    assert attributes == {"images": "5", "broken": "0", "errors": "0", "ready": "yes"}
    assert len(re.findall(r"<img [^>]*data-plot=", dom.stdout)) == 5
    # Chromium logs every console message (any level, CSP violations included) as CONSOLE.
    console_lines = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console_lines == []

    shot = tmp_path / "page.png"
    taken = chromium(
        page, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1400,2400"
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
