"""release_free_heap trims the heap the first time, then only once it has grown;
reuse_freed_memory keeps large freed blocks for reuse (no page faults) until it exits."""

import ctypes
import ctypes.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from skfma import _memory


@pytest.fixture
def trims(monkeypatch):
    """Count malloc_trim calls; the resident size is read from ``resident`` (bytes)."""
    calls = []
    resident = [100 * 2**20]
    monkeypatch.setattr(_memory, "_malloc_trim", lambda: calls.append)
    monkeypatch.setattr(_memory, "_resident_bytes", lambda: resident[0])
    monkeypatch.setattr(_memory, "_resident_after_trim", None)
    return calls, resident


def test_trims_first_and_then_only_after_the_resident_memory_grew(trims):
    calls, resident = trims
    _memory.release_free_heap()
    assert calls == [0]
    resident[0] += _memory.TRIM_AFTER_GROWTH  # not more than the allowance: the pages stay
    _memory.release_free_heap()
    assert calls == [0]
    resident[0] += 1
    _memory.release_free_heap()
    assert calls == [0, 0]
    # The baseline is the size after that trim: growth counts from there.
    _memory.release_free_heap()
    assert len(calls) == 2


def test_trims_every_time_where_the_resident_memory_cannot_be_read(trims, monkeypatch):
    calls, _ = trims
    monkeypatch.setattr(_memory, "_resident_bytes", lambda: None)
    for _ in range(3):
        _memory.release_free_heap()
    assert len(calls) == 3


def test_does_nothing_without_glibc(monkeypatch):
    monkeypatch.setattr(_memory, "_malloc_trim", lambda: None)
    _memory.release_free_heap()  # no error, nothing to call


def test_reads_this_process_resident_memory():
    resident = _memory._resident_bytes()
    if resident is None:
        pytest.skip("no /proc/self/statm (not Linux)")
    assert 10 * 2**20 < resident < 2**40


#: Size of the blocks that the fault tests allocate (bytes): above glibc's largest mmap threshold.
BLOCK = 64 * 2**20
PAGES = BLOCK // 4096

needs_glibc = pytest.mark.skipif(
    _memory._mallopt() is None or _memory._malloc_trim() is None,
    reason="needs glibc's mallopt and malloc_trim",
)

#: Run in a fresh interpreter, whose heap holds no large free chunk that a block could reuse:
#: prints the minor page faults of each allocate-touch-free cycle outside, then inside the block.
FAULTS_SCRIPT = """
import ctypes, ctypes.util, json, resource, sys
from skfma._memory import reuse_freed_memory

BLOCK = 64 * 2**20
if sys.argv[1] == "torch":
    import torch

    torch.set_num_threads(1)

    def allocate():
        torch.empty(BLOCK // 4).fill_(1.0)
else:
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]

    def allocate():
        address = libc.malloc(BLOCK)
        ctypes.memset(address, 1, BLOCK)
        libc.free(address)

def faults(n_cycles):
    counts = []
    for _ in range(n_cycles):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        allocate()
        counts.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return counts

outside = faults(4)
with reuse_freed_memory():
    inside = faults(16)
print(json.dumps({"outside": outside, "inside": inside}))
"""


@needs_glibc
@pytest.mark.parametrize("allocator", ["malloc", "torch"])
def test_large_blocks_are_faulted_in_once_instead_of_every_time(allocator):
    run = subprocess.run(
        [sys.executable, "-c", FAULTS_SCRIPT, allocator], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    faults = json.loads(run.stdout)
    # Each block is a fresh mmap: all its pages are faulted in (and zeroed) again.
    assert min(faults["outside"]) > 0.9 * PAGES
    # Kept for reuse. torch asks posix_memalign for 64-byte alignment, whose padding makes a
    # freed block a little too small for the next one until glibc's tcache of the cut-off
    # ends (7 entries) fills up and they coalesce: a few cycles grow the heap first.
    assert sum(faults["inside"][-4:]) < 0.05 * PAGES
    if allocator == "malloc":
        assert sum(faults["inside"][1:]) < 0.05 * PAGES


class MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (all sizes in bytes)."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()
        )
    ]


@pytest.fixture
def libc():
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("needs glibc 2.33's mallinfo2")
    libc.mallinfo2.restype = MallInfo2
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    return libc


def is_mmapped(libc):
    """Whether glibc serves a large allocation with its own mmap (untouched: costs no memory)."""
    # Larger than all free heap memory, so that no free chunk of the heap can serve it.
    size = libc.mallinfo2().fordblks + BLOCK
    before = libc.mallinfo2().hblkhd
    address = libc.malloc(size)
    assert address
    mmapped = libc.mallinfo2().hblkhd - before >= size
    libc.free(address)
    return mmapped


@pytest.fixture
def reset_depth(monkeypatch):
    """Start from no open block, whatever a failed test left behind."""
    monkeypatch.setattr(_memory, "_reuse_depth", 0)


@needs_glibc
def test_large_blocks_come_from_the_heap_until_the_outermost_block_exits(libc, reset_depth):
    assert is_mmapped(libc)
    with _memory.reuse_freed_memory():
        assert not is_mmapped(libc)
        with _memory.reuse_freed_memory():
            assert not is_mmapped(libc)
        assert _memory._reuse_depth == 1
        assert not is_mmapped(libc)
    assert _memory._reuse_depth == 0
    assert is_mmapped(libc)


@needs_glibc
def test_freed_memory_is_kept_in_the_block_and_given_back_on_exit(libc, reset_depth):
    if _memory._resident_bytes() is None:
        pytest.skip("no /proc/self/statm (not Linux)")
    with _memory.reuse_freed_memory():
        before = _memory._resident_bytes()
        address = libc.malloc(BLOCK)
        ctypes.memset(address, 1, BLOCK)
        libc.free(address)
        kept = _memory._resident_bytes() - before
    given_back = kept - (_memory._resident_bytes() - before)
    assert kept > 0.9 * BLOCK
    assert given_back > 0.9 * BLOCK
    # The record is of the memory just after the trim: reading /proc and other threads
    # (pytest-xdist's) may touch a page or two since, a tiny fraction of the block.
    assert abs(_memory._resident_after_trim - _memory._resident_bytes()) < 0.1 * BLOCK


@pytest.fixture
def libc_calls(monkeypatch, reset_depth):
    """Record mallopt and malloc_trim calls instead of making them."""
    calls = []
    monkeypatch.setattr(_memory, "_mallopt", lambda: lambda *args: calls.append(("mallopt", *args)))
    monkeypatch.setattr(_memory, "_malloc_trim", lambda: lambda pad: calls.append(("trim", pad)))
    monkeypatch.setattr(_memory, "_resident_bytes", lambda: 123)
    return calls


def test_the_outermost_block_sets_and_restores_the_options(libc_calls):
    enter = [("mallopt", -4, 0), ("mallopt", -1, -1)]
    leave = [
        ("mallopt", -4, 65536),
        ("mallopt", -3, 32 * 2**20),
        ("mallopt", -1, 64 * 2**20),
        ("trim", 0),
    ]
    with _memory.reuse_freed_memory():
        assert libc_calls == enter
        with _memory.reuse_freed_memory():
            pass
        assert libc_calls == enter
    assert libc_calls == enter + leave
    assert _memory._resident_after_trim == 123


def test_options_are_restored_when_the_block_raises(libc_calls):
    with pytest.raises(ValueError, match="boom"), _memory.reuse_freed_memory():
        raise ValueError("boom")
    assert libc_calls[-1] == ("trim", 0)
    assert _memory._reuse_depth == 0


def test_works_as_a_decorator(libc_calls):
    @_memory.reuse_freed_memory()
    def depth():
        return _memory._reuse_depth

    assert [depth(), depth()] == [1, 1]
    assert libc_calls.count(("trim", 0)) == 2


def test_reuse_does_nothing_without_glibc(monkeypatch, reset_depth):
    trims = []
    monkeypatch.setattr(_memory, "_mallopt", lambda: None)
    monkeypatch.setattr(_memory, "_malloc_trim", lambda: trims.append)
    with _memory.reuse_freed_memory():
        assert _memory._reuse_depth == 0
    assert trims == []


def _resident_mib():
    with open("/proc/self/status", encoding="ascii") as file:
        return next(int(line.split()[1]) for line in file if line.startswith("VmRSS:")) / 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="Linux only")
def test_the_peak_resident_memory_counts_an_allocation_and_restarts():
    _memory.reset_peak_resident()
    base = _memory.peak_resident_bytes() / 2**20
    block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    assert _memory.peak_resident_bytes() / 2**20 - base >= 60
    del block
    _memory.reset_peak_resident()  # restarts from what is resident now, whatever came before
    assert abs(_memory.peak_resident_bytes() / 2**20 - _resident_mib()) < 8
