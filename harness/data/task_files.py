"""Declarative task files (YAML) and `bench validate`.

A task file names its version, data (a local jsonl/csv next to the file, or a hub id), a prompt
and a reference template filled from each row's columns, a reward (a registered name, a name with
arguments, or a composite of weighted names plus a length penalty) and the metrics to report.
See docs/tasks-and-rewards.md "Add a task" and tasks/files/*.yaml.
"""

import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.api import registry
from harness.api.choices import SPLITS
from harness.api.errors import BenchError
from harness.api.task import Example, Generation, Reward, Task, TaskSpec

SUFFIXES = (".yaml", ".yml")
TOP_KEYS = (
    "name",
    "version",
    "description",
    "data",
    "prompt",
    "reference",
    "reward",
    "metrics",
    "generation",
)
REQUIRED = ("name", "version", "data", "prompt", "reference", "reward")
BUILTIN_FOLDER = Path(__file__).resolve().parents[2] / "tasks" / "files"


def builtin_files() -> list[registry.Entry]:
    """Task files shipped in tasks/files, by file stem (listed without reading them)."""
    return [
        registry.Entry(path.stem, str(path), f"task file {path.name}")
        for path in sorted(BUILTIN_FOLDER.glob("*.y*ml"))
    ]


def task_entries() -> dict[str, registry.Entry]:
    """Every task name: registered tasks, then the shipped task files, then plugins."""
    return registry.entries("tasks", builtin_files())


def task_factory(name: str) -> Callable[..., Task]:
    """The factory of a task: a registered name, a shipped task file or a path to a YAML file."""
    if name.endswith(SUFFIXES):
        return file_factory(name)
    entry = registry.resolve("tasks", name, builtin_files())
    if entry.target.endswith(SUFFIXES):
        return file_factory(entry.target)
    return registry.checked("tasks", entry, registry.import_target(entry.target))


def task_name(name: str) -> str:
    """The name a task's runs are filed under: a task file's declared `name`, else `name`."""
    return str(read_spec(Path(name))["name"]) if name.endswith(SUFFIXES) else name


def read_spec(path: Path) -> dict[str, Any]:
    """The parsed YAML of a task file, with its keys checked (yaml.safe_load: no objects)."""
    import yaml

    if not path.is_file():
        raise BenchError(f"task file '{path}' does not exist")
    try:
        spec = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise BenchError(f"task file '{path}' is not valid YAML: {err}".replace("\n", " ")) from err
    if not isinstance(spec, dict):
        raise BenchError(f"task file '{path}' must be a mapping of keys ({', '.join(TOP_KEYS)})")
    unknown = sorted(set(spec) - set(TOP_KEYS))
    missing = [key for key in REQUIRED if key not in spec]
    if unknown or missing:
        raise BenchError(
            f"task file '{path}': unknown keys {unknown}, missing keys {missing} "
            f"(keys: {', '.join(TOP_KEYS)})"
        )
    return spec


def file_factory(path: str | Path) -> Callable[..., TaskSpec]:
    """A task factory for one file; `max_new_tokens` and `train_size` are its `-o task.` options."""
    path = Path(path)
    spec = read_spec(path)
    generation = spec.get("generation") or {}
    tokens = generation.get("max_new_tokens", 32) if isinstance(generation, dict) else None
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
        raise BenchError(
            f"task file '{path}': generation must be a mapping like {{max_new_tokens: 32}} with "
            f"a positive whole number, got {spec.get('generation')!r}"
        )
    default_tokens = tokens

    def factory(max_new_tokens: int = default_tokens, train_size: int = 0) -> TaskSpec:
        return build_task(path, read_spec(path), max_new_tokens, train_size)

    factory.__doc__ = f"The task declared in {path}."
    return factory


def build_task(path: Path, spec: dict[str, Any], max_new_tokens: int, train_size: int) -> TaskSpec:
    """A TaskSpec from a parsed task file."""
    data = spec["data"] if isinstance(spec["data"], dict) else {"source": spec["data"]}
    source = str(data.get("source", ""))
    local = path.parent / source
    if Path(source.replace("{split}", "train")).suffix and not Path(source).is_absolute():
        source = str(local)
    metrics = [reward_from(entry, path.parent) for entry in spec.get("metrics", ["bleu", "chrf"])]

    def load_split(split: str) -> list[Example]:
        from harness.data.records import load_records

        rows = load_records(source, split, data.get("hub_config"))
        return [row_example(path, spec, row, i) for i, row in enumerate(rows)]

    def score_metrics(examples: Sequence[Example], completions: Sequence[str]) -> dict[str, float]:
        values = {m.name: m(examples, completions) for m in metrics}
        return {name: sum(v) / max(len(v), 1) for name, v in values.items()}

    return TaskSpec(
        name=str(spec["name"]),
        version=str(spec["version"]),
        description=str(spec.get("description", f"task file {path.name}")),
        load_split=load_split,
        reward=reward_from(spec["reward"], path.parent),
        score_metrics=score_metrics,
        generation=Generation(max_new_tokens=max_new_tokens),
        train_size=train_size,
    )


def row_example(path: Path, spec: dict[str, Any], row: dict[str, Any], index: int) -> Example:
    """Fill the prompt and reference templates from a row; names a missing column."""
    try:
        prompt = str(spec["prompt"]).format(**row)
        reference = str(spec["reference"]).format(**row)
    except KeyError as err:
        raise BenchError(
            f"task file '{path}': template column {err} not in data "
            f"(columns: {', '.join(sorted(row))})"
        ) from err
    return Example(id=str(row.get("id", index)), prompt=prompt, references=(reference,))


def reward_from(entry: Any, folder: Path | None = None) -> Reward:
    """A reward from `name`, `{name:, args:}` or `{components: {name: weight}, length_penalty:}`.

    `folder` is the task file's folder: a relative `path` argument naming a file (it has a
    suffix, e.g. `metrics/word_f1.py`) is read from there, as `data.source` is.
    """
    if isinstance(entry, str):
        return make_reward(entry, {})
    if isinstance(entry, dict) and "components" in entry:
        composite = registry.load("composites", "composite")  # pyproject.toml
        parts = {}
        for name, weight in dict(entry["components"]).items():
            if isinstance(weight, dict):
                parts[name] = (
                    float(weight.get("weight", 1.0)),
                    reward_from({"name": name, **weight}, folder),
                )
            else:
                parts[name] = (float(weight), make_reward(name, {}))
        return composite(
            parts, float(entry.get("length_penalty", 0.0)), int(entry.get("max_words", 0))
        )
    if isinstance(entry, dict) and "name" in entry:
        return make_reward(str(entry["name"]), file_args(dict(entry.get("args") or {}), folder))
    raise BenchError(f"cannot read reward {entry!r} (use a name, {{name, args}} or {{components}})")


def file_args(args: dict[str, Any], folder: Path | None) -> dict[str, Any]:
    """`args` with a relative file `path` (one with a suffix) resolved against `folder`."""
    path = args.get("path")
    if folder is None or not isinstance(path, str) or not Path(path).suffix:
        return args
    return args if Path(path).is_absolute() else {**args, "path": str(folder / path)}


def make_reward(name: str, args: dict[str, Any]) -> Reward:
    """A registered reward built with keyword arguments; names unknown arguments."""
    factory = registry.load("rewards", name)
    known = set(inspect.signature(factory).parameters)
    unknown = sorted(set(args) - known)
    if unknown:
        raise BenchError(
            f"reward '{name}' has no argument(s) {unknown} (arguments: {sorted(known)})"
        )
    return factory(**args)


def validate(target: str, count: int = 3) -> list[str]:
    """Build a task (file or name); render `count` val examples with their self-reward."""
    task = task_factory(target)()
    sizes = {split: len(task.examples(split)) for split in SPLITS}
    lines = [f"task {task.name} v{task.version}: {task.description}", f"reward {task.reward.name}"]
    lines.append("examples " + " · ".join(f"{s} {n}" for s, n in sizes.items()))
    if sizes["val"] == 0:
        raise BenchError(f"task '{task.name}' has no val examples: held-out evaluation needs some")
    shown = task.examples("val")[:count]
    rewards = task.reward(shown, [e.references[0] for e in shown])
    for example, reward in zip(shown, rewards, strict=True):
        lines += [
            "",
            f"[{example.id}] prompt:",
            example.prompt,
            "reference:",
            example.references[0],
        ]
        lines.append(f"reward of the reference against itself: {reward:.4f}")
    return lines
