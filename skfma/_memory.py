"""Giving freed heap memory back to the system, after a worker's batch."""

import ctypes
import ctypes.util
import functools

__all__ = ["release_free_heap"]


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, Windows, musl)."""
    name = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None


def release_free_heap():
    """Give freed heap pages back to the system (glibc only; a no-op elsewhere).

    Thousands of librosa/numpy/torch temporaries of varied sizes fragment the
    C heap, so that a long extraction's resident memory keeps creeping up
    although nothing stays allocated; trimming after every batch keeps it
    flat (and keeps joblib's loky from taking a worker for a leaking one and
    restarting it).
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
