"""SharedOutput: local worker processes write AudioFeatures' rows into shared memory."""

import contextlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import joblib
import numpy as np
import pytest

from skfma import AudioFeatures
from skfma.exceptions import AudioDecodeError
from skfma.pipeline._leftovers import SEPARATOR, owner_tag
from skfma.pipeline._shared import PREFIX, SHARED_MEMORY, SharedOutput, open_rows

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
        assert SharedOutput.create(shape, np.float32, n_jobs) is None


def write_rows(target, values):
    """What a worker does: write its batch's rows through :func:`open_rows`."""
    array, rows = open_rows(target)
    for row, value in zip(rows, values, strict=True):
        array[row] = value


@needs_shm
def test_workers_write_rows_that_the_parent_reads_after_the_file_is_gone():
    shared = SharedOutput.create((6, 2, 3), np.float32, 2)
    assert shared is not None and os.path.exists(shared.path)
    rows = [[0, 4, 2], [3, 1, 5]]
    values = [np.full((3, 2, 3), i + 1, np.float32) for i in range(2)]
    # Other processes, forked (so that they know this module's write_rows whatever the default
    # start method), leaving loky's executor to the tests that follow.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(write_rows, [shared.target(r) for r in rows], values))
    shared.release()
    assert not os.path.exists(shared.path)
    np.testing.assert_array_equal(shared.array[:, 0, 0], [1, 2, 1, 2, 1, 2])


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
    create = SharedOutput.create

    def recording_create(*args):
        shared = create(*args)
        if shared is not None:
            created.append(shared.path)
        return shared

    monkeypatch.setattr(SharedOutput, "create", recording_create)
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
            shared = SharedOutput.create((4, 3), np.float32, n_jobs=2)
        shared.release()
        assert [os.path.exists(path) for path in paths] == [False, True, True]
    finally:
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
