"""release_free_heap: the heap is trimmed the first time, then only once it has grown."""

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
