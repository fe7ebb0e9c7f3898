"""Give the C heap's free pages back to the operating system between large phases of an update.

glibc keeps memory that tensors under its mmap threshold (activations, per-layer gradients)
freed in its heap, so a process's resident size stays at its largest phase even when later
phases need less. Where one phase's many small tensors are followed by another phase's large
vectors (TRPO: the surrogate's backward, then conjugate gradient's 0.5 GB vectors), the
kept pages are counted twice at the peak. `malloc_trim(0)` returns every whole free page.
"""

import ctypes
import ctypes.util
import functools


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None on a C library without it (macOS, musl)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    return getattr(ctypes.CDLL(name), "malloc_trim", None)


def release_free_heap() -> None:
    """Return the heap's free pages to the OS (glibc); a no-op where that is not possible."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
