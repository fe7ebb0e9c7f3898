"""Run-directory files: written whole, and readable as any new file would be."""

import os
import stat
from pathlib import Path

from harness.rundir.layout import write_json


def test_atomic_writes_get_the_mode_of_an_ordinary_new_file(tmp_path: Path) -> None:
    """mkstemp makes 0600 files; result.json must be readable wherever open() files are."""
    write_json(tmp_path / "result.json", {"reward": 0.5})
    (tmp_path / "plain.txt").write_text("x")
    mode = stat.S_IMODE((tmp_path / "result.json").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert mode == 0o666 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
