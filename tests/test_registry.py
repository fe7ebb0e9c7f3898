"""The registry: built-ins are this project's entry points, listed in pyproject.toml's order with
the `#:` line above each target, read without importing anything; plugins come after them."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from harness.api import registry
from harness.api.errors import BenchError

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def register(root: Path, dist: str, group: str, line: str) -> None:
    """What `pip install` of a plugin leaves behind: a dist-info registering `line`
    (e.g. `extractive = learnable_task:extractive`) in `group`; put `root` on sys.path to use it."""
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{line}\n")


def test_the_distribution_is_this_project():
    assert registry.DIST == PYPROJECT["project"]["name"]


@pytest.mark.parametrize("kind", [*registry.KINDS, "composites"])
def test_built_ins_are_pyproject_entry_points_in_its_order(kind):
    declared = PYPROJECT["project"]["entry-points"][f"bench.{kind}"]
    found = registry.entries(kind)
    assert {name: entry.target for name, entry in found.items()} == declared
    assert list(found) == list(declared)  # `bench list` order: package __all__, then source order
    assert {entry.origin for entry in found.values()} == {"built-in"}


def test_every_built_in_has_its_own_description():
    for kind in (*registry.KINDS, "composites"):
        for entry in registry.entries(kind).values():
            assert entry.description and entry.description != entry.target, entry
    assert registry.entries("algorithms")["grpo"].description == (
        "GRPO (Shao et al. 2024): a ppo preset"
    )
    assert registry.entries("tasks")["summarization"].description == (
        "aclsum: paper abstract → title | 3-aspect summary; reward rouge(rougeL)"
    )


def test_listing_imports_neither_the_targets_nor_torch():
    code = (
        "import sys\n"
        "from harness.api import registry\n"
        "for kind in (*registry.KINDS, 'composites'):\n"
        "    registry.entries(kind)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tasks', 'baselines')"
        " or m.startswith('harness.policies')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_installation_metadata_is_one_line(monkeypatch):
    monkeypatch.setattr(registry, "entry_points", lambda group: ())
    with pytest.raises(BenchError) as raised:
        registry.resolve("algorithms", "ppo")
    message = str(raised.value)
    assert message == (
        "no built-in algorithms found: the rl-lm-bench entry points are not installed "
        "(reinstall with pip install -e .)"
    )


def test_built_ins_then_extra_then_plugins_and_none_shadows_an_earlier_one(tmp_path, monkeypatch):
    lines = "summarization = plugin_mod:summ\nnew-task = plugin_mod:new"
    register(tmp_path, "bench-shadow-demo", "bench.tasks", lines)
    monkeypatch.syspath_prepend(str(tmp_path))
    extra = [registry.Entry("summarization", "x.yaml", "file"), registry.Entry("f", "f.yaml", "f")]
    found = registry.entries("tasks", extra)
    assert found["summarization"].target == "tasks.summarization:summarization"
    assert list(found)[-2:] == ["f", "new-task"]
    assert found["new-task"] == registry.Entry(
        "new-task", "plugin_mod:new", "plugin from bench-shadow-demo", "bench-shadow-demo"
    )


def test_the_description_is_the_doc_comment_above_a_def_or_an_assignment(tmp_path, monkeypatch):
    (tmp_path / "described_demo.py").write_text(
        "import functools\n\n"
        "#: first half,\n#: second half\n@functools.cache\ndef task():\n"
        '    """A docstring is not the description."""\n\n'
        "# a plain comment\n#: the constant\nVALUE = 1\n"
        "# a plain comment\nBARE = 2\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert registry.description("described_demo:task") == "first half, second half"
    assert registry.description("described_demo:VALUE") == "the constant"
    assert registry.description("described_demo:BARE") == "described_demo:BARE"
    assert registry.description("described_demo:missing") == "described_demo:missing"
    assert registry.description("no_such_module_demo:x") == "no_such_module_demo:x"
