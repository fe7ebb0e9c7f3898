"""Shared fixtures: an isolated policy cache, a tiny policy, offline hubs."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="session")
def bench_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One policy cache per test session (BENCH_CACHE), so tests never touch ~/.cache."""
    path = Path(os.environ.get("BENCH_TEST_CACHE") or tmp_path_factory.mktemp("bench-cache"))
    os.environ["BENCH_CACHE"] = str(path)
    return path


@pytest.fixture(scope="session")
def summarization_task():
    """The real summarization task on aclsum, with short prompts for speed."""
    from tasks.summarization import summarization

    return summarization(max_source_words=40, max_new_tokens=12)


@pytest.fixture(scope="session")
def tiny_policy(bench_cache, summarization_task):
    """The tiny policy built (once) for the summarization task."""
    import torch

    from harness.policies.policy import load_policy

    torch.manual_seed(0)
    policy, _ = load_policy("tiny", summarization_task, "cpu")
    return policy
