"""Experiment trackers: every metrics.jsonl row, the config and held-out samples, mirrored.

`bench run --log tensorboard,wandb` (RunConfig.log) opens them; metrics.jsonl stays the record
and a tracker is a view of it. Every numeric key of a row is a series, at step = the row's
`update`. Rows are told apart by their series group (`group`): `train` for train rows, and per
evaluation its split and decoding (`val`, `test`, `val_greedy`, `test_greedy`), since those
rows share their keys (`eval/reward`) and their step. TensorBoard: one run (sub-folder of
RUN_DIR/tensorboard) per group, tag = the key; wandb: `<group>/<key>` for eval rows.

A resumed run opens fresh trackers and replays the rows metrics.jsonl kept at the checkpoint
(`RunLog.replay`), so no point from an update that was redone is shown twice.
"""

import json
import os
import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from harness.config.run_config import RunConfig, tracker_names
from harness.rundir.layout import append_jsonl

Row = dict[str, Any]
TENSORBOARD_FOLDER = "tensorboard"


class Tracker(Protocol):
    """Where a run's rows go besides metrics.jsonl."""

    def log_row(self, row: Row) -> None:
        """One metrics.jsonl row (kind=train or kind=eval)."""

    def log_samples(self, row: Row, samples: list[Row]) -> None:
        """The held-out samples of the evaluation whose row is `row`."""

    def close(self) -> None:
        """Flush and release (called once, also after Ctrl-C and errors)."""


@dataclass
class RunLog:
    """A run's rows: appended (flushed) to metrics.jsonl, then sent to each tracker."""

    run_dir: Path
    trackers: list[Tracker] = field(default_factory=list)

    def append(self, row: Row) -> None:
        """Append one row to metrics.jsonl (flushed) and send it to the trackers."""
        append_jsonl(self.run_dir / "metrics.jsonl", row)
        if self.trackers:
            with kept_rng():
                for tracker in self.trackers:
                    tracker.log_row(row)

    def samples(self, row: Row, samples: list[Row]) -> None:
        """Send an evaluation's samples (already saved under samples/) to the trackers."""
        if self.trackers:
            with kept_rng():
                for tracker in self.trackers:
                    tracker.log_samples(row, samples)

    def replay(self) -> None:
        """Send a resumed run's kept metrics.jsonl rows, and their evaluations' samples."""
        metrics = self.run_dir / "metrics.jsonl"
        if not self.trackers or not metrics.exists():
            return
        for line in metrics.read_text().splitlines():
            row = json.loads(line)
            with kept_rng():
                for tracker in self.trackers:
                    tracker.log_row(row)
            if row.get("kind") != "eval":
                continue
            name = samples_name(row["label"], row["split"], row["decoding"])
            path = self.run_dir / "samples" / f"{name}.jsonl"
            if path.exists():
                self.samples(row, [json.loads(x) for x in path.read_text().splitlines()])

    def close(self) -> None:
        """Close every tracker."""
        for tracker in self.trackers:
            tracker.close()


def open_trackers(config: RunConfig, run_dir: Path) -> list[Tracker]:
    """The trackers named by `config.log` (checked before: known names, packages installed)."""
    kinds = {"tensorboard": TensorBoardTracker, "wandb": WandbTracker}
    with kept_rng():
        return [kinds[name](config, run_dir) for name in tracker_names(config.log)]


@contextmanager
def kept_rng() -> Iterator[None]:
    """Run tracker (third-party) code without moving the run's random streams (Python, NumPy,
    torch CPU), so that logging can never change a run's results."""
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


def samples_name(label: str, split: str, decoding: str) -> str:
    """The stem of an evaluation's samples file: eval_<label>_<split>[_greedy]."""
    return f"eval_{label}_{split}" + ("_greedy" if decoding == "greedy" else "")


def group(row: Row) -> str:
    """A row's series group: train, or the evaluation's split (with _greedy)."""
    if row.get("kind") != "eval":
        return str(row.get("kind", "train"))
    return row["split"] + ("_greedy" if row["decoding"] == "greedy" else "")


def scalars(row: Row) -> dict[str, float]:
    """The numeric values of a row by key; `update` is the step, not a series."""
    return {
        key: float(value)
        for key, value in row.items()
        if key != "update" and isinstance(value, int | float) and not isinstance(value, bool)
    }


def flat_config(config: RunConfig) -> dict[str, bool | int | float | str]:
    """The resolved config as dotted keys with scalar values (hyper-parameters)."""
    flat: dict[str, bool | int | float | str] = {}

    def visit(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                visit(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, bool | int | float | str):
            flat[prefix] = value
        else:  # None, lists: as JSON text
            flat[prefix] = json.dumps(value)

    visit("", config.to_dict())
    return flat


def samples_table(row: Row, samples: list[Row]) -> str:
    """A Markdown table of an evaluation's samples (id, reward, generation, references)."""

    def cell(value: Any) -> str:
        text = " / ".join(map(str, value)) if isinstance(value, list) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    title = (
        f"**{row['label']}** · {row['split']} · {row['decoding']} · update {row['update']} · "
        f"{row['samples_seen']} samples seen"
    )
    lines = [title, "", "| id | reward | generation | references |", "|---|---|---|---|"]
    for sample in samples:
        reward = f"{sample['reward']:.3f}" if "reward" in sample else ""
        parts = (sample.get("id", ""), reward, sample.get("generation", ""))
        lines.append(f"| {' | '.join(map(cell, parts))} | {cell(sample.get('references', ''))} |")
    return "\n".join(lines)


class TensorBoardTracker:
    """Event files in RUN_DIR/tensorboard: the config (text and hparams) at its root, one run
    per series group below it (train, val, test, val_greedy, test_greedy), tag = row key."""

    def __init__(self, config: RunConfig, run_dir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

        self.folder = run_dir / TENSORBOARD_FOLDER
        shutil.rmtree(self.folder, ignore_errors=True)  # a resumed run replays its kept rows
        self.make = SummaryWriter
        self.writers: dict[str, Any] = {}
        root = self.writer("")
        text = json.dumps(config.to_dict(), indent=2)
        root.add_text("config", "\n".join("    " + line for line in text.splitlines()))
        root.file_writer.add_summary(hparams_summary(config))
        root.flush()

    def writer(self, name: str) -> Any:
        """The SummaryWriter of one run (sub-folder), opened on first use."""
        if name not in self.writers:
            self.writers[name] = self.make(str(self.folder / name))
        return self.writers[name]

    def log_row(self, row: Row) -> None:
        """Each numeric key as a scalar in the row's group, at step = update."""
        writer = self.writer(group(row))
        for key, value in scalars(row).items():
            writer.add_scalar(key, value, global_step=row["update"])
        writer.flush()  # a live TensorBoard sees each update as it lands

    def log_samples(self, row: Row, samples: list[Row]) -> None:
        """The samples as a Markdown table, text tag `samples` of the row's group."""
        writer = self.writer(group(row))
        writer.add_text("samples", samples_table(row, samples), global_step=row["update"])
        writer.flush()

    def close(self) -> None:
        """Flush and close every event file."""
        for writer in self.writers.values():
            writer.close()


def hparams_summary(config: RunConfig) -> Any:
    """TensorBoard's hparams session summary of the config: its metrics are then every scalar
    of the run's groups (train, val, test, ...), which the HPARAMS tab finds by itself."""
    from tensorboard.plugins.hparams import summary_v2

    return summary_v2.hparams_pb(flat_config(config))


class WandbTracker:
    """A wandb run (offline unless WANDB_MODE says otherwise) in RUN_DIR/wandb: the config, the
    rows against `update`, a wandb.Table of samples per evaluation."""

    def __init__(self, config: RunConfig, run_dir: Path) -> None:
        os.environ.setdefault("WANDB_MODE", "offline")  # no network needed; `wandb sync` uploads
        import wandb

        self.wandb = wandb
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "rl-lm-bench"),
            name="/".join(run_dir.parts[-3:]),
            group=f"{run_dir.parts[-3]}/{config.algo}",
            job_type=config.role,
            dir=str(run_dir),
            config=config.to_dict(),
        )
        self.run.define_metric("update")
        self.run.define_metric("*", step_metric="update")

    def log_row(self, row: Row) -> None:
        """Train keys as they are, eval keys as `<group>/<key>`; x-axis `update`."""
        prefix = "" if row.get("kind") == "train" else f"{group(row)}/"
        values = {prefix + key: value for key, value in scalars(row).items()}
        self.run.log({"update": row["update"], **values})

    def log_samples(self, row: Row, samples: list[Row]) -> None:
        """The samples as a wandb.Table under `<group>/samples`."""
        columns = list(samples[0]) if samples else []
        data = [
            [json.dumps(s[c]) if isinstance(s[c], list) else s[c] for c in columns] for s in samples
        ]
        table = self.wandb.Table(columns=columns, data=data)
        self.run.log({"update": row["update"], f"{group(row)}/samples": table})

    def close(self) -> None:
        """Finish the wandb run (offline: its files stay in RUN_DIR/wandb)."""
        self.run.finish()
