"""The package layers import in one direction only, and no module imports itself in a circle.

An AST walk over every module of the packages, function-level (lazy) imports included: a module
may import its own layer and the layers below it, never one above, and the import graph has no
cycle. Nor may `harness/` name a module of `tasks/` or `baselines/` in a string (an import by
name that the graph cannot see; the built-ins are entry points in pyproject.toml instead).
docs/development.md "Layout" explains the layers.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("harness", "tasks", "baselines", "reports")
LAYERS = (  # lowest first; a module may import from its own layer or from a lower one
    ("harness.api",),
    ("harness.metrics",),
    ("harness.data", "harness.policies"),
    ("harness.rl",),
    ("harness.config",),
    ("harness.rundir",),
    ("harness.loop",),
    ("harness.run",),
    ("harness.launch",),
    ("harness.sweep",),
    ("tasks", "baselines"),
    ("reports",),
    ("harness.cli",),
)
TORCH_FREE = ("harness.api.errors", "harness.api.registry", "harness.api.schema", "reports")
ABOVE_THE_ENGINE = ("tasks", "baselines")
DOTTED = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.\w+)+")  # a.b.c, also inside "a.b:attr"


def module_name(path: Path) -> str:
    """`harness/api/task.py` → `harness.api.task`; a package's `__init__.py` → the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    """Every module of the packages, by dotted name."""
    return {
        module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }


def imported_names(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every name imported anywhere in a module (inside functions too), resolved to a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in modules or name.split(".")[0] == "torch"}


def named_in_strings(path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules of `tasks/` or `baselines/` that a string constant of the module names as an
    import path ("tasks.x:factory", "baselines.presets"). Docstrings, attribute docstrings
    included, are prose (a statement that is only a string), never imported, so they are skipped."""
    tree = ast.parse(path.read_text())
    prose = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            for dotted in DOTTED.findall(node.value):
                parts = dotted.split(".")
                prefixes = {".".join(parts[:end]) for end in range(2, len(parts) + 1)}
                found.update(
                    name
                    for name in prefixes & set(modules)
                    if name.split(".")[0] in ABOVE_THE_ENGINE
                )
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the package modules it imports."""
    modules = all_modules()
    return {
        name: {target for target in imported_names(path, modules) if target in modules} - {name}
        for name, path in modules.items()
    }


def layer_of(module: str) -> int:
    """The index of the layer a module belongs to."""
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    raise AssertionError(f"module {module} is in no layer; add it to LAYERS")


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan 1972)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_every_module_belongs_to_a_layer():
    for module in import_graph():
        if module not in PACKAGES and module != "harness":
            layer_of(module)


def test_no_import_goes_against_the_layer_direction():
    graph = import_graph()
    upward = [
        f"{source} → {target}"
        for source, targets in sorted(graph.items())
        if source not in PACKAGES
        for target in sorted(targets)
        if target not in PACKAGES and layer_of(target) > layer_of(source)
    ]
    assert not upward, "imports against the layer direction:\n" + "\n".join(upward)


def test_the_import_graph_has_no_cycle():
    assert cycles(import_graph()) == []


def test_the_engine_names_no_module_of_tasks_or_baselines_in_a_string():
    modules = all_modules()
    named = {
        name: sorted(named_in_strings(path, modules))
        for name, path in sorted(modules.items())
        if name == "harness" or name.startswith("harness.")
    }
    found = [f"{name} names {', '.join(targets)}" for name, targets in named.items() if targets]
    message = "import paths in strings (register an entry point instead):\n" + "\n".join(found)
    assert not found, message


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_command_line_and_the_reporter_modules_never_import_torch():
    modules = all_modules()
    for name, path in modules.items():
        if any(name == p or name.startswith(p + ".") for p in TORCH_FREE):
            torch = {n for n in imported_names(path, modules) if n.split(".")[0] == "torch"}
            assert not torch, f"{name} imports {torch}"


def test_imports_inside_functions_are_seen(tmp_path):
    path = tmp_path / "lazy.py"
    path.write_text("def later():\n    from harness.run import runner\n    import harness.cli\n")
    modules = {"harness.run.runner": path, "harness.cli": path}
    assert imported_names(path, modules) == {"harness.run.runner", "harness.cli"}


def test_import_paths_in_strings_are_seen_and_prose_is_not(tmp_path):
    path = tmp_path / "by_name.py"
    path.write_text(
        '"""Docstring prose: tasks.summarization is a task; see the baselines/ folder."""\n'
        'TARGET = "tasks.summarization:summarization"\n'
        '"""An attribute docstring naming baselines.ppo is prose too."""\n'
        "def later():\n"
        '    return [f"{1}baselines.presets", "baselines.nowhere", "tasks.yaml", "tasks"]\n'
    )
    modules = {name: path for name in ("tasks.summarization", "baselines.presets", "baselines.ppo")}
    assert named_in_strings(path, modules) == {"tasks.summarization", "baselines.presets"}
