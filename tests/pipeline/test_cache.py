"""AudioFeatures(memory=...): the per-clip cache, resumption, memory-mapped outputs, Dask."""

import ctypes
import ctypes.util
import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import skfma.audio._loader
import skfma.pipeline._cache
from skfma import AudioFeatures
from skfma.exceptions import AudioDecodeError, CacheError, ParameterError
from skfma.pipeline._leftovers import owner_tag


def cache_entries(folder):
    """The per-clip entry files below a cache folder."""
    return [
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        if os.path.basename(root) != "outputs"
        for name in names
        if name.endswith(".npy")
    ]


def test_a_second_call_decodes_nothing(clip_files, mel_steps, tmp_path, decodes):
    paths, _ = clip_files
    expected = AudioFeatures(mel_steps()).fit_transform(paths)
    decodes["n"] = 0
    features = AudioFeatures(mel_steps(), memory=tmp_path, batch_size=5)
    np.testing.assert_array_equal(features.fit_transform(paths), expected)
    assert decodes["n"] == len(paths)
    assert len(cache_entries(tmp_path)) == len(paths)
    np.testing.assert_array_equal(features.transform(paths[::-1]), expected[::-1])
    np.testing.assert_array_equal(
        AudioFeatures(mel_steps(), memory=joblib.Memory(tmp_path), n_jobs=3).fit_transform(paths),
        expected,
    )
    assert decodes["n"] == len(paths)


def test_grid_search_computes_each_clip_once_per_feature_setting(
    clip_files, mel_steps, tmp_path, decodes
):
    paths, genres = clip_files
    pipe = Pipeline(
        [
            ("features", AudioFeatures(mel_steps(), memory=tmp_path)),
            ("scale", StandardScaler()),
            ("svc", SVC()),
        ]
    )
    grid = {"features__mel__n_mels": [8, 16], "svc__C": [0.1, 1.0, 10.0]}
    GridSearchCV(pipe, grid, cv=3).fit(paths, genres)
    # Without the cache: 2 x 3 grid points x 3 folds x 12 clips, plus the refit.
    assert decodes["n"] == 2 * len(paths)


def test_changing_a_step_parameter_never_returns_stale_features(
    clip_files, mel_steps, tmp_path, decodes
):
    paths, _ = clip_files
    AudioFeatures(mel_steps(n_mels=16), memory=tmp_path).fit_transform(paths)
    other = AudioFeatures(mel_steps(n_mels=8), memory=tmp_path).fit_transform(paths)
    np.testing.assert_array_equal(other, AudioFeatures(mel_steps(n_mels=8)).fit_transform(paths))
    assert decodes["n"] == 3 * len(paths)
    # Execution-only parameters (n_jobs, batch_size, ...) share the entries.
    decodes["n"] = 0
    steps = mel_steps(n_mels=8)
    steps[1][1].set_params(batch_size=4)
    AudioFeatures(steps, memory=tmp_path).fit_transform(paths)
    assert decodes["n"] == 0


class _Weighted(TransformerMixin, BaseEstimator):
    """A stateless step whose weights come from a file it is given the path of."""

    def __init__(self, weights=None):
        self.weights = weights

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X) * np.load(self.weights)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


def test_a_weights_file_saved_again_under_its_path_changes_the_features(
    clip_files, mel_steps, tmp_path
):
    """As a fine-tuned network saved over the old one: the path alone is not the step."""
    paths, _ = clip_files
    weights = tmp_path / "weights.npy"
    np.save(weights, np.float32(1.0))
    steps = [*mel_steps(), ("weighted", _Weighted(str(weights)))]
    first = AudioFeatures(steps, memory=tmp_path / "cache").fit_transform(paths)
    np.save(weights, np.float32(2.0))
    os.utime(weights, ns=(0, 0))  # another modification time, whatever the clock's resolution
    again = AudioFeatures(steps, memory=tmp_path / "cache").fit_transform(paths)
    np.testing.assert_allclose(again, 2 * first)


def test_a_rewritten_file_is_decoded_again(clip_files, mel_steps, tmp_path, decodes):
    paths, _ = clip_files
    copies = [shutil.copy(path, tmp_path / f"{i}.wav") for i, path in enumerate(paths[:3])]
    memory = tmp_path / "cache"
    AudioFeatures(mel_steps(), memory=memory).fit_transform(copies)
    shutil.copy(paths[5], copies[1])
    os.utime(copies[1], ns=(1, 1))  # a new modification time, whatever the clock's resolution
    decodes["n"] = 0
    out = AudioFeatures(mel_steps(), memory=memory).fit_transform(copies)
    assert decodes["n"] == 1
    expected = AudioFeatures(mel_steps()).fit_transform([paths[0], paths[5], paths[2]])
    np.testing.assert_array_equal(out, expected)


def test_two_files_swapped_by_renaming_are_decoded_again(clip_files, mel_steps, tmp_path):
    """Same size and modification time (as unpacked from one archive), swapped with mv."""
    paths, _ = clip_files
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    shutil.copy(paths[0], first)
    shutil.copy(paths[1], second)
    assert first.stat().st_size == second.stat().st_size
    for path in (first, second):
        os.utime(path, ns=(1, 1))
    memory = tmp_path / "cache"
    before = AudioFeatures(mel_steps(), memory=memory).fit_transform([first, second])
    os.rename(first, tmp_path / "swap.wav")
    os.rename(second, first)
    os.rename(tmp_path / "swap.wav", second)
    after = AudioFeatures(mel_steps(), memory=memory).fit_transform([first, second])
    # Each clip now in the other's place in the batch: float32 round-off apart at most.
    np.testing.assert_allclose(after, before[::-1], rtol=1e-5, atol=1e-5)
    assert not np.allclose(after, before, rtol=1e-3)


def test_corrupt_and_truncated_entries_are_recomputed(clip_files, mel_steps, tmp_path, decodes):
    paths, _ = clip_files
    expected = AudioFeatures(mel_steps(), memory=tmp_path).fit_transform(paths)
    truncated, flipped, emptied = sorted(cache_entries(tmp_path))[:3]
    with open(truncated, "r+b") as file:
        file.truncate(os.path.getsize(truncated) // 2)
    data = bytearray(open(flipped, "rb").read())
    data[-20] ^= 0xFF
    open(flipped, "wb").write(bytes(data))
    open(emptied, "wb").close()
    decodes["n"] = 0
    out = AudioFeatures(mel_steps(), memory=tmp_path).fit_transform(paths)
    np.testing.assert_array_equal(out, expected)
    assert decodes["n"] == 3


def test_failed_files_are_not_cached(clip_files, mel_steps, tmp_path):
    paths, _ = clip_files
    missing = str(tmp_path / "missing.wav")
    with pytest.warns(UserWarning, match="1 of 3"):
        AudioFeatures(mel_steps(), memory=tmp_path / "c", on_error="warn").fit_transform(
            [paths[0], missing, paths[1]]
        )
    assert len(cache_entries(tmp_path / "c")) == 2


def test_a_killed_run_resumes_without_losing_finished_batches(
    clip_files, mel_steps, tmp_path, decodes
):
    paths, _ = clip_files
    memory = tmp_path / "cache"
    script = textwrap.dedent(
        f"""
        import time
        import skfma.pipeline._audio_features as module
        from skfma import AudioFeatures, AudioLoader, MelSpectrogram, TemporalStatistics

        run_batch = module._run_batch

        def slow(*args, **kwargs):
            result = run_batch(*args, **kwargs)  # stores the batch, then dawdles
            time.sleep(0.4)
            return result

        module._run_batch = slow
        steps = [
            ("load", AudioLoader(sr=8000, duration=1.0)),
            ("mel", MelSpectrogram(sr=8000, n_fft=256, hop_length=256, n_mels=16)),
            ("stats", TemporalStatistics()),
        ]
        AudioFeatures(steps, batch_size=2, memory={str(memory)!r}).fit_transform({list(paths)!r})
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 120
    while len(cache_entries(memory)) < 4 and time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be killed"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = len(cache_entries(memory))
    assert 4 <= finished < len(paths)
    out = AudioFeatures(mel_steps(), memory=memory).fit_transform(paths)
    assert decodes["n"] == len(paths) - finished
    np.testing.assert_array_equal(out, AudioFeatures(mel_steps()).fit_transform(paths))


def test_the_output_file_a_killed_run_was_writing_is_removed_by_the_next(
    clip_files, mel_steps, tmp_path
):
    """kill -9 while a 3-D output is written in the cache: the next run removes its file."""
    paths, _ = clip_files
    memory = tmp_path / "cache"
    script = textwrap.dedent(
        f"""
        import os, signal
        import skfma.pipeline._audio_features as module
        from skfma import AudioFeatures, AudioLoader, MelSpectrogram

        run_batch = module._run_batch

        def killed(*args, **kwargs):  # the output file is open: die as kill -9 would
            os.kill(os.getpid(), signal.SIGKILL)

        module._run_batch = killed
        steps = [
            ("load", AudioLoader(sr=8000, duration=1.0)),
            ("mel", MelSpectrogram(sr=8000, n_fft=256, hop_length=256, n_mels=16)),
        ]
        AudioFeatures(steps, batch_size=2, memory={str(memory)!r}).fit_transform({list(paths)!r})
        """
    )
    process = subprocess.run([sys.executable, "-c", script], check=False)
    assert process.returncode == -signal.SIGKILL

    def unfinished():
        return [path for path in memory.rglob("*.npy.tmp*") if "outputs" in path.parts]

    assert len(unfinished()) == 1
    live = unfinished()[0].with_name(f"other.npy.tmp{owner_tag()}0")  # this live process's
    live.write_bytes(b"")
    X = AudioFeatures(mel_steps(pool=False), memory=memory).fit_transform(paths)
    assert unfinished() == [live]
    assert X.shape[0] == len(paths)


def test_a_file_in_place_of_the_cache_folder_is_a_clear_error(clip_files, mel_steps, tmp_path):
    paths, _ = clip_files
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("")
    with pytest.raises(CacheError, match="cannot write to the feature cache .*cache"):
        AudioFeatures(mel_steps(), memory=not_a_folder).fit_transform(paths)


@pytest.mark.parametrize(
    ("code", "reason"), [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only")]
)
def test_a_full_or_read_only_cache_is_a_clear_error(
    clip_files, mel_steps, tmp_path, monkeypatch, code, reason
):
    paths, _ = clip_files

    def failing_replace(source, destination):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(skfma.pipeline._cache.os, "replace", failing_replace)
    with pytest.raises(CacheError, match=f"{tmp_path}.*{reason}") as error:
        AudioFeatures(mel_steps(), memory=tmp_path).fit_transform(paths)
    assert error.value.errno == code and isinstance(error.value, OSError)
    assert not [name for _, _, names in os.walk(tmp_path) for name in names if ".tmp" in name]


def test_a_3d_output_is_a_memory_map_in_the_cache(clip_files, mel_steps, tmp_path):
    paths, _ = clip_files
    expected = AudioFeatures(mel_steps(pool=False)).fit_transform(paths)
    assert type(expected) is np.ndarray
    out = AudioFeatures(mel_steps(pool=False), memory=tmp_path).fit_transform(paths)
    assert isinstance(out, np.memmap) and out.filename.startswith(str(tmp_path))
    np.testing.assert_array_equal(out, expected)
    again = AudioFeatures(mel_steps(pool=False), memory=tmp_path).fit_transform(paths)
    np.testing.assert_array_equal(again, expected)
    assert type(AudioFeatures(mel_steps(), memory=tmp_path).fit_transform(paths)) is np.ndarray


def test_an_error_leaves_no_partial_output_file(clip_files, mel_steps, tmp_path):
    paths, _ = clip_files
    with pytest.raises(AudioDecodeError):
        AudioFeatures(mel_steps(pool=False), memory=tmp_path, batch_size=2).fit_transform(
            [*paths[:5], str(tmp_path / "missing.wav")]
        )
    assert not [name for _, _, names in os.walk(tmp_path) for name in names if ".tmp" in name]
    assert len(cache_entries(tmp_path)) == 5  # every clip computed before the failure is kept


def test_a_net_trains_from_a_memory_mapped_output_without_reading_it_whole(tmp_path):
    """The C heap's allocated bytes do not grow with the number of memory-mapped clips.

    The peak of a fit and predict on 1,600 memory-mapped clips (210 MB) against one on the
    first 200: copying the data would allocate at least the extra 184 MB; the training
    step's buffers are allocated in both. Allocated bytes (glibc's
    ``mallinfo2``: heap chunks in use plus mmap'd ones), not the resident memory: inside
    a fit the heap keeps freed memory (skfma._memory.reuse_freed_memory) and fragments by
    up to several times a batch's buffers, differently from one run to the next.
    """
    libc_name = ctypes.util.find_library("c")
    if libc_name is None or not hasattr(ctypes.CDLL(libc_name), "mallinfo2"):
        pytest.skip("needs glibc's mallinfo2 to read the heap's allocated bytes")
    script = textwrap.dedent(
        f"""
        import ctypes, ctypes.util, threading, time
        import numpy as np
        import torch
        from skfma import KostrzewaCNN

        class Mallinfo2(ctypes.Structure):
            _fields_ = [(name, ctypes.c_size_t) for name in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                "uordblks", "fordblks", "keepcost")]

        mallinfo2 = ctypes.CDLL(ctypes.util.find_library("c")).mallinfo2
        mallinfo2.restype = Mallinfo2

        def allocated():
            info = mallinfo2()
            return info.uordblks + info.hblkhd

        torch.set_num_threads(1)
        path = {str(tmp_path / "logmel.npy")!r}
        X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(1600, 64, 512))
        rng = np.random.default_rng(0)
        for start in range(0, len(X), 100):
            X[start : start + 100] = rng.standard_normal((100, 64, 512), dtype=np.float32)
        X.flush()
        del X
        X = np.load(path, mmap_mode="c")
        y = np.arange(len(X)) % 4

        peak = [allocated()]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak.append(allocated())
                time.sleep(0.005)

        def fit_and_predict(n_clips, epochs):
            # As many training steps in both runs: the sampled peak of transient buffers
            # does not depend on how many chances the sampler had to catch them.
            peak[:] = [allocated()]
            net = KostrzewaCNN(module__filters=(2,), module__kernel_size=3, max_epochs=epochs,
                               batch_size=64, random_state=0)
            net.fit(X[:n_clips], y[:n_clips]).predict(X[:n_clips])
            return max(peak)

        thread = threading.Thread(target=sample)
        thread.start()
        few = fit_and_predict(200, 8)
        many = fit_and_predict(len(X), 1)
        done.set()
        thread.join()
        print(many - few, X[200:].nbytes)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    growth, extra = map(int, result.stdout.split())
    assert growth < 0.5 * extra, (growth, extra)


def test_runs_unchanged_on_a_dask_cluster(clip_files, mel_steps, tmp_path):
    distributed = pytest.importorskip("distributed")
    paths, _ = clip_files
    expected = AudioFeatures(mel_steps()).fit_transform(paths)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        out = AudioFeatures(mel_steps(), n_jobs=2, batch_size=3, memory=tmp_path).fit_transform(
            paths
        )
    np.testing.assert_array_equal(out, expected)
    assert len(cache_entries(tmp_path)) == len(paths)


def test_memory_expands_the_home_folder_and_refuses_an_empty_path(
    clip_files, mel_steps, tmp_path, monkeypatch
):
    paths, _ = clip_files
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    AudioFeatures(mel_steps(), memory="~/cache").fit_transform(paths[:2])
    assert len(cache_entries(tmp_path / "cache")) == 2 and not (tmp_path / "~").exists()
    with pytest.raises(ParameterError, match="AudioFeatures: memory must name a folder"):
        AudioFeatures(mel_steps(), memory="").fit_transform(paths[:2])
