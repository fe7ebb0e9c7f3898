"""The heap settings of harness/policies/memory.py (glibc only): where a large tensor's memory comes
from, read from glibc's own accounting (mallinfo2: bytes in the heap, bytes mapped apart)."""

import ctypes
import ctypes.util

import pytest
import torch

from harness.policies.memory import mapped_large_blocks, release_free_heap, reuse_freed_memory

BLOCK = 64 * 2**20  # bytes: above glibc's largest mmap threshold (32 MB), mapped by default


FIELDS = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in FIELDS.split()]


@pytest.fixture
def mallinfo():
    """glibc's heap accounting now (mallinfo2): hblkhd bytes mapped apart, fordblks free in the
    heap."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    if not hasattr(libc, "mallinfo2") or not reuse_freed_memory():
        pytest.skip("not glibc ≥ 2.33: the C heap is left as it is")
    libc.mallinfo2.restype = MallInfo2
    return libc.mallinfo2


def mapped_growth(mallinfo) -> int:
    """How much more is mapped apart while one block lives that no free heap memory can hold
    (64 MB more than all of it; torch.empty touches no page)."""
    before = mallinfo()
    block = torch.empty(before.fordblks + BLOCK, dtype=torch.uint8)
    grown = mallinfo().hblkhd - before.hblkhd
    del block
    return grown


def test_large_blocks_come_from_the_heap(mallinfo):
    # by default glibc maps such a block fresh and unmaps it when freed, so every allocation
    # faults in (and zeroes) all of its pages again; in the heap, freed blocks are reused
    assert mapped_growth(mallinfo) == 0


def test_inside_mapped_large_blocks_they_are_mapped_apart_again(mallinfo):
    release_free_heap()  # as TRPO does first
    with mapped_large_blocks():
        assert mapped_growth(mallinfo) >= BLOCK
    assert mapped_growth(mallinfo) == 0
