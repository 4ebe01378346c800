"""Giving freed memory back to the system between the phases of a big computation.

glibc's allocator keeps the memory of freed arrays smaller than its mmap threshold (up to
32 MB) for reuse, so a process that makes and frees many arrays of a few million rows grows
between phases although it holds no more than before (the detectors over blocks of two
million questionnaires: 1.7 GB to 2.2 GB in five blocks). ``malloc_trim`` hands the unused
pages back, as Dask's workers do (their ``MALLOC_TRIM_THRESHOLD_``); elsewhere than glibc
this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): nothing to trim
        return None


def release_freed() -> bool:
    """Hand the pages of freed memory back to the system; whether it could be asked.

    >>> isinstance(release_freed(), bool)
    True
    """
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True
