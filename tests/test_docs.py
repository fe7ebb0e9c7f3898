"""The documentation is tested like the code.

The site builds with `mkdocs build --strict` (every link and anchor resolves, every page is in
the navigation); the generated reference pages are what `harness.cli.reference` writes today;
every `bench` command quoted in a code block of the README or docs/ parses with the real command
line, and the `-o` keys of every quoted `bench run TASK --algo ALGO` exist; the README's test
command is the one CI runs; the README stays a front page.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer

import harness.cli
from harness.api.errors import BenchError
from harness.cli.reference import PAGES
from harness.launch import build_config

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
REGENERATE = "python -m harness.cli.reference docs/reference"
# a line naming something the reader fills in is an illustration, not a command to check
PLACEHOLDER = re.compile(r"\.\.\.|…|<|\||\b[A-Z][A-Z_]{2,}\b")
FENCE = re.compile(r"^\s*(```|~~~)")


def documents() -> list[Path]:
    """The README and every page of docs/."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def quoted_commands(path: Path) -> list[str]:
    """Lines of `path`'s code blocks that start with `bench ` or `$ bench `, bar placeholders."""
    commands, inside = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            inside = not inside
            continue
        text = line.strip().removeprefix("$ ")
        if inside and text.startswith("bench ") and not PLACEHOLDER.search(text):
            commands.append(text)
    return commands


QUOTED = [
    pytest.param(path, line, id=f"{path.relative_to(ROOT)}: {line}")
    for path in documents()
    for line in quoted_commands(path)
]


def parse(args: list[str]) -> typer.Context:
    """The context `bench ARGS` would run with: parsed down to the subcommand, nothing invoked."""
    command, name, parent = typer.main.get_command(harness.cli.app), "bench", None
    while True:
        context = command.make_context(name, list(args), parent=parent)
        if not hasattr(command, "commands"):  # a leaf command: its parameters are parsed
            return context
        rest = [*getattr(context, "_protected_args", []), *context.args]
        name, command, args = command.resolve_command(context, rest)
        parent = context


def test_the_site_builds_with_strict_checks(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # no banner about MkDocs 2 in failures
    )  # fmt: skip
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.stdout}{built.stderr}"
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "reference" / "config" / "index.html").is_file()


def test_the_generated_reference_pages_are_current(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "harness.cli.reference", str(tmp_path)],
        cwd=ROOT, check=True, timeout=300,
    )  # fmt: skip
    for name in PAGES:
        committed = DOCS / "reference" / name
        assert committed.is_file(), f"docs/reference/{name} is missing: run `{REGENERATE}`"
        fresh = (tmp_path / name).read_bytes()
        assert committed.read_bytes() == fresh, (
            f"docs/reference/{name} is stale (the CLI or a config changed): run `{REGENERATE}`"
        )


def test_the_documents_quote_commands_at_all():
    assert len(QUOTED) >= 30
    assert any(param.values[0] == README for param in QUOTED)


@pytest.mark.parametrize(("path", "line"), QUOTED)
def test_each_quoted_command_parses_and_its_overrides_exist(path, line):
    args = shlex.split(line, comments=True)[1:]
    try:
        params = parse(args).params
    except Exception as error:  # click's usage errors: the quoted line would not run
        pytest.fail(f"{path.name}: `{line}` does not parse: {error}")
    task, algo = params.get("task"), params.get("algo")
    if args[0] != "run" or not task or not algo or task.endswith((".yaml", ".yml")):
        return
    try:
        build_config(
            task, algo, policy=params["policy"], samples=params["samples"],
            seed=params["seed"], device=params["device"], overrides=params["override"],
        )  # fmt: skip
    except BenchError as error:  # an unknown key or name, or a refused value
        folders = [item.split("=", 1)[1] for item in params["override"] if item.endswith("/")]
        if str(error).startswith("unknown") or not any(f"'{f}'" in str(error) for f in folders):
            pytest.fail(f"{path.name}: `{line}`: {error}")  # (a reader's own folder is fine)


def test_the_readme_test_command_is_the_one_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci in README.read_text(encoding="utf-8").splitlines(), (
        "the README's second set-up command and .ci/run differ"
    )


def test_the_readme_is_a_front_page_whose_links_resolve():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    assert any(target.endswith(".png") for target in targets), "the README lost its picture"
    for target in targets:
        if not re.match(r"[a-z]+:", target):
            assert (ROOT / target.split("#")[0]).exists(), f"README links to missing {target}"
