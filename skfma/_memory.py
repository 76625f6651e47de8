"""Giving freed heap memory back to the system, after a worker's batch."""

import ctypes
import ctypes.util
import functools
import os

__all__ = ["release_free_heap"]

#: Growth of the resident memory since the last trim (bytes) above which
#: :func:`release_free_heap` trims: below it, the freed pages stay for the next clips.
TRIM_AFTER_GROWTH = 64 * 2**20

#: Resident bytes of this process after its last trim (None before the first).
_resident_after_trim = None


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, Windows, musl)."""
    name = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None


def _resident_bytes():
    """This process's resident memory in bytes (Linux), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def release_free_heap():
    """Give freed heap pages back to the system once they add up (glibc only).

    Thousands of librosa/numpy/torch temporaries of varied sizes fragment the
    C heap, so that a long extraction's resident memory keeps creeping up
    although nothing stays allocated. This trims the heap the first time, and
    then whenever the resident memory has grown by more than
    :data:`TRIM_AFTER_GROWTH` since the last trim: memory stays flat (and
    joblib's loky does not take a worker for a leaking one and restart it),
    while a steady worker keeps its freed pages for its next clips instead of
    faulting them in again (trimming after every batch made a log-mel
    extraction measurably slower: ``benchmarks/README.md``). A no-op without
    glibc; where the resident memory cannot be read, it trims every time.
    """
    global _resident_after_trim
    trim = _malloc_trim()
    if trim is None:
        return
    resident = _resident_bytes()
    if (
        resident is not None
        and _resident_after_trim is not None
        and resident - _resident_after_trim <= TRIM_AFTER_GROWTH
    ):
        return
    trim(0)
    _resident_after_trim = _resident_bytes()
