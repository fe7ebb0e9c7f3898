"""The `bench` command line. Heavy imports (torch, transformers) happen inside commands only."""

from harness.cli import evaluation, runs, studies  # noqa: F401 (they register commands on `app`)
from harness.cli.app import app, fail, main

__all__ = ["app", "fail", "main"]
