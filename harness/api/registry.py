"""Name → "module:attr" registries for tasks, rewards, algorithms and policies.

Every entry, built-in or third-party, is an entry point in the groups `bench.tasks`,
`bench.rewards`, `bench.algorithms` and `bench.policies` (and `bench.composites`: the weighted sum
a task file's `components` builds, never listed). This project's own entries (pyproject.toml)
are the built-ins, so the engine names no module of `tasks/` or `baselines/`.

Nothing here imports the targets until asked: `bench --help` and `bench list` must stay fast and
must not import torch. A built-in's description is the `#:` comment line right above its target's
definition (Sphinx's doc-comment mark). It is read from the source with `ast` after locating the
file one package level at a time, so neither the target nor its packages are imported. A comment
rather than a docstring: it fits a `def` and an assignment alike, and the task factories'
docstrings already open the generated reference pages. Entry-point metadata comes sorted by name,
so the built-ins are listed module by module in the order of their package's `__all__`, and in
source order within a module.
"""

import ast
import importlib
import importlib.util
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.machinery import ModuleSpec, PathFinder
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Literal

from harness.api.errors import BenchError, unknown_choice

Kind = Literal["tasks", "rewards", "algorithms", "policies", "composites"]
KINDS: tuple[Kind, ...] = ("tasks", "rewards", "algorithms", "policies")  # what `bench list` shows
SINGULAR = {
    "tasks": "task",
    "rewards": "reward",
    "algorithms": "algorithm",
    "policies": "policy",
    "composites": "composite reward",
}
DIST = "rl-lm-bench"  # this project's distribution (pyproject.toml): its entry points are built-in


@dataclass(frozen=True)
class Entry:
    """One registered name: where it lives and what it is, without importing it."""

    name: str
    target: str
    description: str
    origin: str = "built-in"


def entries(kind: Kind, extra: Iterable[Entry] = ()) -> dict[str, Entry]:
    """All entries of one kind: built-ins, then `extra` (e.g. task files), then installed plugins.

    A later source never shadows an earlier one.
    """
    points = entry_points(group=f"bench.{kind}")
    own = [point for point in points if distribution(point) == DIST]
    if not own:
        raise BenchError(
            f"no built-in {kind} found: the {DIST} entry points are not installed "
            "(reinstall with pip install -e .)"
        )
    found: dict[str, Entry] = {}
    for point in sorted(own, key=lambda point: listing_key(point.value)):
        found.setdefault(point.name, Entry(point.name, point.value, description(point.value)))
    for entry in extra:
        found.setdefault(entry.name, entry)
    for point in points:
        if point.name not in found:
            dist = point.dist.name if point.dist is not None else "plugin"
            found[point.name] = Entry(point.name, point.value, f"plugin from {dist}", origin=dist)
    return found


def distribution(point: EntryPoint) -> str | None:
    """The normalized name of the distribution that declares `point` (PEP 503), if known."""
    return None if point.dist is None else re.sub(r"[-_.]+", "-", point.dist.name).lower()


@cache
def description(target: str) -> str:
    """The `#:` comment lines right above the definition of `target`'s attribute, or `target`."""
    module, _, attr = target.partition(":")
    source = module_source(module)
    node = source and binding(source[1], attr)
    if source is None or node is None:
        return target
    lines = source[0]
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
    above: list[str] = []
    while first > 0 and lines[first - 1].startswith("#:"):
        first -= 1
        above.insert(0, lines[first].removeprefix("#:").strip())
    return " ".join(above) or target


@cache
def listing_key(target: str) -> tuple[str, int, str, int]:
    """Sort key of a built-in: its package, the module's place in the package's `__all__`
    (unnamed modules last, by name), the module and the line of the target's definition."""
    module, _, attr = target.partition(":")
    package, _, leaf = module.rpartition(".")
    names = all_names(package)
    source = module_source(module)
    node = source and binding(source[1], attr)
    rank = names.index(leaf) if leaf in names else len(names)
    return package, rank, module, node.lineno if node else 0


def all_names(package: str) -> list[str]:
    """The literal `__all__` of a package's `__init__.py`, or an empty list."""
    source = module_source(package) if package else None
    node = source and binding(source[1], "__all__")
    if not isinstance(node, ast.Assign):
        return []
    try:
        names = ast.literal_eval(node.value)
    except ValueError:
        return []
    return [str(name) for name in names]


@cache
def module_source(module: str) -> tuple[list[str], ast.Module] | None:
    """The source lines and syntax tree of `module`, found without importing it or its parents."""
    parts = module.split(".")
    spec: ModuleSpec | None = importlib.util.find_spec(parts[0])  # top level: imports nothing
    for depth in range(2, len(parts) + 1):
        if spec is None or not spec.submodule_search_locations:
            return None
        spec = PathFinder.find_spec(".".join(parts[:depth]), list(spec.submodule_search_locations))
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    text = Path(spec.origin).read_text(encoding="utf-8")
    return text.splitlines(), ast.parse(text)


def binding(tree: ast.Module, name: str) -> ast.stmt | None:
    """The top-level `def`, `class` or assignment that binds `name`, if any."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == name:
                return node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return node
    return None


def resolve(kind: Kind, name: str, extra: Iterable[Entry] = ()) -> Entry:
    """Find an entry by name, or raise a BenchError with the valid names and a did-you-mean."""
    known = entries(kind, extra)
    if name not in known:
        raise unknown_choice(SINGULAR[kind], name, known)
    return known[name]


def load(kind: Kind, name: str) -> Any:
    """Import the object registered under `name` and check that it is what `kind` needs."""
    entry = resolve(kind, name)
    return checked(kind, entry, import_target(entry.target))


def checked(kind: Kind, entry: Entry, loaded: Any) -> Any:
    """`loaded` itself, or a one-line BenchError when it is not an Algorithm / a factory."""
    if kind == "algorithms":
        from harness.api.algorithm import Algorithm  # lazy: listing entries never imports torch

        if not isinstance(loaded, Algorithm):
            raise BenchError(
                f"algorithm '{entry.name}' ({entry.target}) is a {type(loaded).__name__}, "
                "not a harness.api.algorithm.Algorithm"
            )
    elif not callable(loaded):
        raise BenchError(
            f"{SINGULAR[kind]} '{entry.name}' ({entry.target}) is a {type(loaded).__name__}, "
            f"not a callable {SINGULAR[kind]} factory"
        )
    return loaded


def import_target(target: str) -> Any:
    """Import "package.module:attr" and return the attribute."""
    module_name, _, attr = target.partition(":")
    if not attr:
        raise BenchError(f"registry target '{target}' must look like 'package.module:attr'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        raise BenchError(f"cannot import '{module_name}' (target '{target}'): {err}") from err
    try:
        return getattr(module, attr)
    except AttributeError as err:
        raise BenchError(f"'{module_name}' has no attribute '{attr}' (target '{target}')") from err
