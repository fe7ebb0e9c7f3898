"""The heap setting of harness/rl/memory.py: a freed large block is reused, not faulted in again."""

import resource

import pytest
import torch

from harness.rl.memory import reuse_freed_memory

BLOCK = 64 * 2**20 // 4  # fp32 elements of a 64 MB tensor: above glibc's largest mmap threshold
PAGE = resource.getpagesize()


def faults_of_one_block() -> int:
    """Minor page faults of allocating, writing and freeing one 64 MB tensor."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = torch.ones(BLOCK)
    del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_a_freed_large_block_is_reused_without_page_faults():
    if not reuse_freed_memory():
        pytest.skip("not glibc: the C heap is left as it is")
    faults_of_one_block()  # the heap grows once
    pages = 64 * 2**20 // PAGE
    # glibc's default maps each such block fresh: every page faults again (≈ 16,000 of 4 KB)
    assert faults_of_one_block() < pages // 20
