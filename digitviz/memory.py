"""Process-wide allocator setting that keeps the app's resident memory from ratcheting up.

glibc's malloc serves a large request (above ``M_MMAP_THRESHOLD``) with its own ``mmap`` and unmaps
it on free, but by default it raises that threshold to the size of every such block freed (up to
32 MiB). After the first evaluation of the training set frees its 25 MB chunk, every later chunk of
that size lands in a thread's heap arena instead, and freed arena memory mostly stays resident: the
app measured 384 MB after 3 epochs with 30 MB of live Python/NumPy data (tracemalloc), 289-301 MB with
a fixed threshold (benchmarks/footprint.py). Fixing the threshold keeps large temporaries (evaluation
chunks, landscape blocks, experiment batches) returning their pages to the system when freed.

Imports: the standard library only.
"""

from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # glibc <malloc.h>
MMAP_THRESHOLD = 4 << 20  # bytes: above this, a block is mapped on its own and returned on free


def release_large_allocations(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` bytes (Linux with glibc only); True if it was set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl or another C library: nothing to tune
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, int(threshold)) == 1


def trim() -> bool:
    """Give the free pages of every malloc arena back to the system (glibc's ``malloc_trim(0)``).

    A diagnosis, not a cure: resident memory that this releases was free inside the allocator, not
    held by the app (benchmarks/footprint.py prints RSS before and after it). True if it ran.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return False
    malloc_trim.argtypes, malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    malloc_trim(0)
    return True
