"""Handing memory a worker has freed back to the system.

glibc keeps freed memory for reuse, and after loading a model (which needs about
twice what the model keeps) or building its lazy parts, tens of MB of it stayed in
a worker's resident size for good: `bench/bench_classify.py` measured about 20 MB.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


def release_freed_memory() -> None:
    """Return freed heap to the system; nothing where the C library is not glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
