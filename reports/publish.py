"""Copy what a report was built from (each run's config.json and result.json, each
selection.json) beside it, so that the report can be committed and rebuilt anywhere.

Checkpoints, samples, metrics.jsonl and weights stay behind: a run's result.json already holds
every number a leaderboard shows (its training curve included). `build_report` checks that the
copy rebuilds the same md, csv and json before it writes them.
"""

import shutil
from pathlib import Path

from reports.load import find_run_dirs, relative_name, report_root
from reports.tuning import find_selections

KEPT = ("config.json", "result.json")  # per run directory; a partial run keeps its config.json
COPY_FOLDER = "runs"


def copy_results(paths: list[Path], out: Path) -> Path:
    """Copy KEPT of every run directory and every selection.json below `paths` to `out/runs`,
    at the paths the report names them by (relative to its root); return `out/runs`.

    An earlier copy is replaced, so runs removed since do not linger in it."""
    root = report_root(paths)
    copy = out / COPY_FOLDER
    files = [directory / name for directory in find_run_dirs(paths) for name in KEPT]
    files += find_selections(paths)
    if copy.exists():
        shutil.rmtree(copy)
    for source in files:
        if source.exists():
            target = copy / relative_name(source, root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return copy
