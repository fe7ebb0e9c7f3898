"""Copy what a report was built from (each run's config.json and result.json, each
selection.json) beside it, so that the report can be committed and rebuilt anywhere.

Checkpoints, samples, metrics.jsonl and weights stay behind: a run's result.json already holds
every number a leaderboard shows (its training curve included). `build_report` copies into a
staging folder, checks that it rebuilds the same md, csv and json, and only then replaces the
previous copy and writes the report.
"""

import shutil
from pathlib import Path

from reports.load import find_run_dirs, relative_name, report_root
from reports.tuning import find_selections

KEPT = ("config.json", "result.json")  # per run directory; a partial run keeps its config.json
COPY_FOLDER = "runs"


def copy_results(paths: list[Path], target: Path) -> None:
    """Copy KEPT of every run directory and every selection.json below `paths` into the new
    folder `target`, at the paths the report names them by (relative to its root)."""
    root = report_root(paths)
    files = [directory / name for directory in find_run_dirs(paths) for name in KEPT]
    files += find_selections(paths)
    for source in files:
        if source.exists():
            copied = target / relative_name(source, root)
            copied.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copied)


def overlapping(paths: list[Path], copy: Path) -> bool:
    """True when the copy folder would lie inside a reported path or hold one (replacing it
    would then delete results it is copied from)."""
    folder = copy.resolve()
    return any(
        folder.is_relative_to(path.resolve()) or path.resolve().is_relative_to(folder)
        for path in paths
    )
