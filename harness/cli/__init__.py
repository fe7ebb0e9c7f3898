"""The `bench` command line. Heavy imports (torch, transformers) happen inside commands only.

One module per command family, each registering its commands on `app`: catalog (list,
validate), runs (run, export), rewards (reward train|card), results (report, ls, show), sweeps
(sweep), evaluation (eval); reference writes the docs pages from them.
"""

from harness.cli import catalog, evaluation, results, rewards, runs, sweeps  # noqa: F401
from harness.cli.app import app, fail, main

# The order `bench --help` lists the commands in (groups such as `reward` come after them);
# a command missing here fails at import.
COMMAND_ORDER = ("eval", "list", "run", "export", "validate", "report", "ls", "show", "sweep")
app.registered_commands.sort(key=lambda info: COMMAND_ORDER.index(str(info.name)))

__all__ = ["app", "fail", "main"]
