"""Reading task data from a hub dataset or a local jsonl/csv file through `datasets`."""

import os
from pathlib import Path
from typing import Any

from harness.api.errors import BenchError

HUB_SPLITS = {"train": "train", "val": "validation", "test": "test"}
LOCAL_SHARES = {"train": (0.0, 0.8), "val": (0.8, 0.9), "test": (0.9, 1.0)}


def load_records(source: str, split: str, hub_config: str | None = None) -> list[dict[str, Any]]:
    """Rows of one split from a local file or a hub dataset id.

    A local path may contain `{split}` (filled with train/val/test); a single file without it
    is cut 80/10/10 in file order, so the held-out rows never change between runs.
    """
    local = Path(source.replace("{split}", split))
    if local.suffix in (".jsonl", ".json", ".csv"):
        return read_local(local, source, split)
    return read_hub(source, split, hub_config)


def read_local(path: Path, source: str, split: str) -> list[dict[str, Any]]:
    """Rows of a local jsonl/csv file (or the split's share of one file)."""
    import datasets

    if not path.exists():
        raise BenchError(f"data file '{path}' does not exist")
    builder = "csv" if path.suffix == ".csv" else "json"
    if path.stat().st_size == 0:
        raise BenchError(f"data file '{path}' is empty")
    datasets.disable_progress_bars()  # a few hundred rows: a bar is only noise on the console
    try:
        rows = datasets.load_dataset(builder, data_files=str(path), split="train").to_list()
    except Exception as err:  # datasets raises many types for a malformed file
        reason = " ".join(str(err).split()) or type(err).__name__
        raise BenchError(f"cannot read data file '{path}': {reason}") from err
    if "{split}" in source:
        return rows
    start, stop = LOCAL_SHARES[split]
    return rows[int(start * len(rows)) : int(stop * len(rows))]


def read_hub(name: str, split: str, hub_config: str | None) -> list[dict[str, Any]]:
    """Rows of a hub dataset split; fails with a clear message when offline."""
    import datasets

    if os.environ.get("HF_DATASETS_OFFLINE") == "1" or os.environ.get("HF_HUB_OFFLINE") == "1":
        offline_hint = " (HF_HUB_OFFLINE/HF_DATASETS_OFFLINE is set: only cached datasets load)"
    else:
        offline_hint = ""
    try:
        data = datasets.load_dataset(name, hub_config, split=HUB_SPLITS[split])
    except Exception as err:  # datasets raises many types for a missing hub or dataset
        reason = " ".join(str(err).split())  # one line
        raise BenchError(f"cannot load hub dataset '{name}'{offline_hint}: {reason}") from err
    return data.to_list()
