"""AudioFeatures' outputs: in memory, in shared memory (written by local workers), in the cache."""

import contextlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import joblib
import numpy as np
import pytest

from skfma import AudioFeatures
from skfma.exceptions import AudioDecodeError
from skfma.pipeline._cache import ClipCache
from skfma.pipeline._leftovers import SEPARATOR, owner_tag
from skfma.pipeline._outputs import (
    PREFIX,
    SHARED_MEMORY,
    CacheFileOutput,
    Output,
    ReturnedRows,
    SharedMemoryOutput,
    SharedRows,
    allocate_output,
)

needs_shm = pytest.mark.skipif(
    not (os.path.isdir(SHARED_MEMORY) and os.access(SHARED_MEMORY, os.W_OK)),
    reason="no writable /dev/shm (not Linux): nothing is shared",
)


@pytest.mark.parametrize(
    ("backend", "n_jobs", "shape"),
    [
        ("loky", None, (4, 3)),  # one worker: the batches run in this process
        ("loky", 1, (4, 3)),
        ("threading", 2, (4, 3)),  # threads share the parent's array anyway
        ("sequential", 2, (4, 3)),
        ("loky", 2, (0, 3)),  # nothing to write
    ],
)
def test_offered_only_to_several_local_worker_processes(backend, n_jobs, shape):
    with joblib.parallel_config(backend=backend):
        assert SharedMemoryOutput.create(shape, np.float32, n_jobs) is None


def write_rows(rows, values):
    """What a worker does: open its batch's rows, write one per clip, finish."""
    rows.open()
    for index, value in enumerate(values):
        rows.write(index, value)
    return rows.finish()


@needs_shm
def test_workers_write_rows_that_the_parent_reads_after_the_file_is_gone():
    shared = SharedMemoryOutput.create((6, 2, 3), np.float32, 2)
    assert shared is not None and os.path.exists(shared.path)
    rows = [[0, 4, 2], [3, 1, 5]]
    values = [np.full((3, 2, 3), i + 1, np.float32) for i in range(2)]
    # Other processes, forked (so that they know this module's write_rows whatever the default
    # start method), leaving loky's executor to the tests that follow.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        sent_back = list(pool.map(write_rows, [shared.batch_rows(r) for r in rows], values))
    assert sent_back == [None, None]  # nothing to pickle back
    for batch, values in zip(rows, sent_back, strict=True):
        shared.receive(batch, values)
    out = shared.publish()
    assert type(out) is np.ndarray and not os.path.exists(shared.path)
    np.testing.assert_array_equal(out[:, 0, 0], [1, 2, 1, 2, 1, 2])


@needs_shm
def test_audio_features_run_under_the_multiprocessing_backend(clip_files, mel_steps):
    # joblib's multiprocessing backend cannot return a generator: the results come as a list.
    paths, _ = clip_files
    expected = AudioFeatures(mel_steps()).fit_transform(paths[:5])
    with joblib.parallel_config(backend="multiprocessing"):
        features = AudioFeatures(mel_steps(), n_jobs=2, batch_size=2)
        np.testing.assert_array_equal(features.fit_transform(paths[:5]), expected)


@needs_shm
@pytest.mark.parametrize("on_error", ["warn", "raise"])
def test_audio_features_leave_no_file_in_shared_memory(
    clip_files, mel_steps, tmp_path, on_error, monkeypatch
):
    paths, _ = clip_files
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio")
    # The files of this run only (other test processes may have theirs in /dev/shm).
    created = []
    create = SharedMemoryOutput.create

    def recording_create(*args):
        shared = create(*args)
        if shared is not None:
            created.append(shared.path)
        return shared

    monkeypatch.setattr(SharedMemoryOutput, "create", recording_create)
    features = AudioFeatures(mel_steps(), n_jobs=2, batch_size=2, on_error=on_error)
    mixed = [*paths[:3], str(broken), *paths[3:5]]
    if on_error == "raise":
        with pytest.raises(AudioDecodeError, match="broken.wav"):
            features.fit_transform(mixed)
    else:
        with pytest.warns(UserWarning, match="1 of 6 audio files"):
            out = features.fit_transform(mixed)
        assert type(out) is np.ndarray and not out[3].any()  # a failed file: a row of zeros
        np.testing.assert_array_equal(
            np.delete(out, 3, axis=0), AudioFeatures(mel_steps()).fit_transform(paths[:5])
        )
    assert len(created) == 1 and not os.path.exists(created[0])


@needs_shm
def test_files_that_killed_runs_left_in_shared_memory_are_removed(ended_pid):
    tag = owner_tag()
    _, host, _, _ = tag.split(SEPARATOR)
    left = os.path.join(SHARED_MEMORY, f"{PREFIX}{SEPARATOR}{host}{SEPARATOR}{ended_pid}")
    alive = os.path.join(SHARED_MEMORY, f"{PREFIX}{tag}test")
    elsewhere = os.path.join(
        SHARED_MEMORY, f"{PREFIX}{SEPARATOR}another-host{SEPARATOR}1{SEPARATOR}x"
    )
    paths = [f"{left}{SEPARATOR}test.dat", f"{alive}.dat", f"{elsewhere}.dat"]
    for path in paths:
        open(path, "wb").close()
    try:
        with joblib.parallel_config(backend="loky"):
            shared = SharedMemoryOutput.create((4, 3), np.float32, n_jobs=2)
        shared.discard()
        assert [os.path.exists(path) for path in paths] == [False, True, True]
    finally:
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)


def test_an_in_memory_output_receives_the_rows_its_workers_send_back():
    output = Output(np.zeros((5, 2), np.float32))
    batch = output.batch_rows([3, 0])
    assert type(batch) is ReturnedRows
    values = write_rows(batch, [[1, 1], [2.5, 2.5]])
    assert values.dtype == np.float32 and values.shape == (2, 2)
    output.receive([3, 0], values)
    output.discard()  # nothing outside this process: the array stays
    np.testing.assert_array_equal(output.publish()[:, 0], [2.5, 0, 0, 1, 0])


def test_a_written_row_comes_back_as_stored_in_the_outputs_dtype():
    rows = ReturnedRows(2, (3,), np.float32)
    rows.open()
    stored = rows.write(1, np.arange(3, dtype=np.float64) / 3)
    assert stored.dtype == np.float32
    np.testing.assert_array_equal(stored, np.float32([0, 1 / 3, 2 / 3]))


@needs_shm
def test_shared_rows_write_in_place_and_give_back_nothing():
    with joblib.parallel_config(backend="loky"):
        shared = SharedMemoryOutput.create((4, 2), np.int16, n_jobs=2)
    try:
        rows = shared.batch_rows([2, 1])
        assert type(rows) is SharedRows
        assert write_rows(rows, [[7, 7], [5, 5]]) is None
        np.testing.assert_array_equal(shared.array[:, 1], [0, 5, 7, 0])
    finally:
        shared.discard()
    assert not os.path.exists(shared.path)


@pytest.mark.parametrize(
    ("shape", "cached", "backend", "kind"),
    [
        ((4, 8, 5), True, "sequential", CacheFileOutput),  # 3-D and cached: a file, mapped
        ((4, 8), True, "sequential", Output),  # 2-D: the cache holds the clips, not the whole
        ((4, 8, 5), False, "sequential", Output),
        ((4, 8, 5), False, "threading", Output),
    ],
)
def test_the_output_kind_follows_the_shape_the_cache_and_the_workers(
    tmp_path, mel_steps, shape, cached, backend, kind
):
    cache = ClipCache(tmp_path, mel_steps()) if cached else None
    with joblib.parallel_config(backend=backend):
        output = allocate_output(shape, np.float32, n_jobs=2, cache=cache, identities=[1, 2, 3, 4])
    try:
        assert type(output) is kind and output.array.shape == shape
    finally:
        output.discard()


@needs_shm
def test_local_worker_processes_get_shared_memory():
    with joblib.parallel_config(backend="loky"):
        output = allocate_output((4, 8), np.float32, n_jobs=2)
    output.discard()
    assert type(output) is SharedMemoryOutput
