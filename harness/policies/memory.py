"""How the process's C heap (glibc) hands out and gives back the memory behind CPU tensors.

`reuse_freed_memory`: glibc maps every allocation above its mmap threshold (at most 32 MB) fresh
from the operating system and unmaps it when freed, so the next one faults in and zeroes every
4 KB page again. An update of a 135M-parameter policy allocates such blocks by the hundred
(full-vocabulary logits and their log-softmaxes, 8 × 32 × 49,152 fp32 = 50 MB each; weight-sized
casts and gradients, 113 MB for a tied 49,152 × 576 head), and on 2 CPU cores the page faults
took about a third of a bf16 update's wall time (of an fp32 one, whose matmuls are slower,
6 %). Served from the heap and kept there, freed blocks are reused as they are. Only where
memory comes from changes, never a number computed in it.

`release_free_heap`: glibc keeps freed heap memory, so a process's resident size stays at its
largest phase even when later phases need less. Where one phase's many small tensors are
followed by another phase's large vectors (TRPO: the surrogate's backward, then conjugate
gradient's 0.5 GB vectors), the kept pages are counted twice at the peak. `malloc_trim(0)`
returns every whole free page.
"""

import ctypes
import ctypes.util
import functools
from collections.abc import Iterator
from contextlib import contextmanager

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's mallopt parameters (malloc.h)
DEFAULT_MMAP_MAX = 65536  # glibc's default M_MMAP_MAX: large blocks mapped fresh
KEEP_FREED_BYTES = 2**31 - 1  # mallopt's largest: free heap top is kept up to 2 GB, not 128 KB


@functools.cache
def _glibc(function: str):
    """A glibc heap function (malloc_trim, mallopt), or None on a C library without it (macOS,
    musl)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    return getattr(ctypes.CDLL(name), function, None)


@functools.cache
def reuse_freed_memory() -> bool:
    """Serve every allocation from the heap and keep what is freed for the next allocation
    (process-wide, once); False where the C library is not glibc (nothing changes there)."""
    mallopt = _glibc("mallopt")
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    no_mmap = mallopt(M_MMAP_MAX, 0)
    keep = mallopt(M_TRIM_THRESHOLD, KEEP_FREED_BYTES)
    return bool(no_mmap and keep)


@contextmanager
def mapped_large_blocks() -> Iterator[None]:
    """glibc's default inside (a large block the heap's free memory cannot hold is mapped apart
    and unmapped when freed, rather than growing the heap), then back to `reuse_freed_memory`
    if it is on. Call `release_free_heap` first, so that freed heap pages are not resident.

    For a phase whose peak is a few long-lived large vectors allocated among short-lived ones
    (TRPO's update, with conjugate gradient's 0.5 GB vectors): reused heap blocks leave freed
    gaps between live ones resident, where mapped ones give every freed block back at once.
    """
    mallopt = _glibc("mallopt")
    reusing = reuse_freed_memory.cache_info().currsize > 0 and reuse_freed_memory()
    if not reusing:
        yield
        return
    mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
    try:
        yield
    finally:
        mallopt(M_MMAP_MAX, 0)


def release_free_heap() -> None:
    """Return the heap's free pages to the OS (glibc); a no-op where that is not possible."""
    trim = _glibc("malloc_trim")
    if trim is not None:
        trim(0)
