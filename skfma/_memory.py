"""When the C heap keeps freed memory for reuse and when it gives it back to the system."""

import contextlib
import ctypes
import ctypes.util
import functools
import math
import os
import sys
import threading

__all__ = ["peak_resident_bytes", "release_free_heap", "reset_peak_resident", "reuse_freed_memory"]

#: Growth of the resident memory since the last trim (bytes) above which
#: :func:`release_free_heap` trims: below it, the freed pages stay for the next clips.
TRIM_AFTER_GROWTH = 64 * 2**20

#: Resident bytes of this process after its last trim (None before the first).
_resident_after_trim = None


# glibc's mallopt parameters (malloc.h) and the values that reuse_freed_memory leaves behind.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
#: glibc's default for M_MMAP_MAX: at most this many chunks served by their own mmap.
_MMAP_MAX_DEFAULT = 65536
#: Top of glibc's sliding mmap threshold on 64-bit systems (bytes), where it is left on exit.
_MMAP_THRESHOLD_AFTER = 32 * 2**20
#: glibc's sliding trim threshold, twice the mmap threshold (bytes), where it is left on exit.
_TRIM_THRESHOLD_AFTER = 2 * _MMAP_THRESHOLD_AFTER

#: How many reuse_freed_memory blocks are open in this process (mallopt is process-wide).
_reuse_depth = 0
_reuse_lock = threading.Lock()


@functools.cache
def _libc_function(name):
    """The C library's function ``name``, or None where it has none."""
    library = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(library), name, None) if library else None


def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, Windows, musl)."""
    return _libc_function("malloc_trim")


def _mallopt():
    """glibc's ``mallopt``, or None where the C library has none (macOS, Windows, musl)."""
    return _libc_function("mallopt")


def _resident_bytes():
    """This process's resident memory in bytes (Linux), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def reset_peak_resident():
    """Restart the kernel's count of this process's peak resident memory (Linux only).

    Writes 5 to ``/proc/self/clear_refs``; elsewhere a no-op, and
    :func:`peak_resident_bytes` then counts from the process's start.
    """
    with contextlib.suppress(OSError):
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")


def peak_resident_bytes():
    """This process's peak resident memory since :func:`reset_peak_resident`, in bytes.

    Linux's ``VmHWM``; where it cannot be read, ``getrusage``'s maximum
    resident size since the process started; NaN without either (Windows).
    """
    with contextlib.suppress(OSError):
        with open("/proc/self/status", encoding="ascii") as file:
            for line in file:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    try:
        import resource  # POSIX only
    except ImportError:
        return math.nan
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


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


@contextlib.contextmanager
def reuse_freed_memory():
    """Keep freed heap memory for reuse inside the block, then give it back (glibc only).

    glibc's ``malloc`` serves every allocation above its mmap threshold (at
    most 32 MiB) with a fresh ``mmap`` and hands it back with ``munmap`` when
    it is freed. Training a CNN on spectrograms frees and allocates activations
    and gradients of hundreds of MiB at every batch, so the kernel maps and
    zeroes them again page by page (4 KiB): a step of ``ChoiCRNNModule`` on
    16 clips of 96 x 1366 took 2.2 million minor page faults and about 30% of
    its CPU time in the kernel (``benchmarks/README.md``). Inside this block,
    large allocations come from the heap (``mallopt``: ``M_MMAP_MAX`` 0) and
    the heap never shrinks (``M_TRIM_THRESHOLD`` -1), so that a batch reuses
    the memory that the previous ones freed: after the first few batches,
    almost no faults, and about a quarter less CPU time a clip.

    The cost is memory: while the block is open the process keeps the peak of
    its heap, and the heap fragments (torch's 64-byte aligned blocks of varied
    sizes), so that the resident peak of that ChoiCRNN training was 1.6x the
    plain one (6.5 against 4.1 GB; 1.06x for KostrzewaCNN on 128 x 128). On
    leaving the outermost block, large allocations go back to ``mmap``
    (``M_MMAP_MAX`` 65536, glibc's default) and the heap is trimmed
    (``malloc_trim(0)``). As any ``mallopt`` call switches glibc's sliding
    thresholds off for good, the mmap threshold is left at 32 MiB and the trim
    threshold at 64 MiB, where the sliding ones end once a process has freed a
    large ``mmap`` chunk.

    The options are process-wide (other threads' allocations too). Blocks may
    be nested, also from several threads: the first block to open sets them
    and the last to close restores them. Also usable as a decorator. A no-op
    where the C library has no ``mallopt`` (macOS, Windows, musl).

    Yields
    ------
    None

    See Also
    --------
    release_free_heap : Trim the heap of a long-running feature worker.

    Examples
    --------
    >>> import torch
    >>> with reuse_freed_memory():
    ...     sums = [float(torch.ones(2**24).sum()) for _ in range(3)]  # 64 MiB each
    >>> sums
    [16777216.0, 16777216.0, 16777216.0]
    """
    global _reuse_depth, _resident_after_trim
    mallopt = _mallopt()
    if mallopt is None:
        yield
        return
    with _reuse_lock:
        if _reuse_depth == 0:
            mallopt(_M_MMAP_MAX, 0)
            mallopt(_M_TRIM_THRESHOLD, -1)
        _reuse_depth += 1
    try:
        yield
    finally:
        with _reuse_lock:
            _reuse_depth -= 1
            if _reuse_depth == 0:
                mallopt(_M_MMAP_MAX, _MMAP_MAX_DEFAULT)
                mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_AFTER)
                mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_AFTER)
                trim = _malloc_trim()
                if trim is not None:
                    trim(0)
                    _resident_after_trim = _resident_bytes()
