"""Nets train and predict from memory-mapped feature stores without copying them into memory.

The stores of ``skfma extract`` (:func:`~skfma.pipeline.load_extracted`, read-only maps) and the
3-D outputs of ``AudioFeatures(memory=...)`` (copy-on-write maps) may be larger than memory; a
net must read them batch by batch. Three checks, from the most precise to the broadest:

- every example the DataLoader collates (a clip, or a window of one) is still a view of the
  file's mapping, so no step before it copied the array (a ``collate_fn`` that checks, then
  calls torch's);
- numpy never holds a copy of the store: the peak of the memory that Python and numpy allocate
  (``tracemalloc``) while fitting and predicting stays below half the store, for a store several
  times the batch;
- in a fresh process, the anonymous resident memory (``RssAnon``: heap, not the file's pages)
  while fitting, and while predicting, a 128 MiB store (median of samples every 2 ms) exceeds
  the peak of the same on its first 32 clips by less than half the store (Linux): a copy of it
  would add the whole store (measured: 118-138 MiB with a copy, at most 17 MiB without).
"""

import json
import mmap
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skfma import AudioLoader, MelSpectrogram
from skfma.datasets import load_fma, make_fma_like
from skfma.models import KostrzewaCNN
from skfma.models._mapped_data import collate_examples
from skfma.nn import SpecAugment
from skfma.pipeline import extract_fma, load_extracted, make_audio_features

#: Small filters: the subject is the data path, not the arithmetic.
NET = {"module__filters": (2, 2), "module__kernel_size": 3, "max_epochs": 1, "random_state": 0}


def maps_file(array):
    """Whether ``array`` is a view of a file mapping (its chain of bases ends at an mmap)."""
    while isinstance(array, np.ndarray):
        array = array.base
    return isinstance(array, mmap.mmap)


class MappedExamples:
    """A ``collate_fn`` that checks that each example's array is a view of a mapped file.

    Then collates as the nets do by default.

    Examples given as tensors (augmented copies, made when read) are counted apart.
    """

    def __init__(self):
        self.mapped = 0
        self.tensors = 0

    def __call__(self, batch):
        for example, _ in batch:
            if isinstance(example, np.ndarray):
                assert maps_file(example), (
                    f"an example of shape {example.shape} is not a view of the memory-mapped "
                    "store: the store was copied before batching"
                )
                self.mapped += 1
            else:
                self.tensors += 1
        return collate_examples(batch)


@pytest.fixture(scope="module")
def fma_root(tmp_path_factory):
    """12 half-second clips of 3 genres in the FMA layout."""
    root = tmp_path_factory.mktemp("feature_store") / "fma"
    make_fma_like(root, n_clips=12, n_genres=3, duration=0.5, random_state=0)
    return root


@pytest.fixture(scope="module")
def extracted(fma_root):
    """The ``logmel`` store of ``skfma extract`` read back: a read-only map (12, 128, 1292)."""
    out = fma_root.parent / "extracted"
    extract_fma(fma_root, out, features="logmel")
    X, _ = load_extracted(out)
    return X, pd.read_csv(out / "index.csv")["genre_top"].to_numpy()


@pytest.fixture(scope="module")
def cached(fma_root, extracted):
    """AudioFeatures(memory=...) log-mels: a copy-on-write map of its cache's output file.

    The same steps and cache folder as the extraction, so every clip comes from the cache.
    """
    fma = load_fma(fma_root)
    features = make_audio_features(
        AudioLoader(sr=22050, duration=30.0),
        MelSpectrogram(n_mels=128),
        memory=fma_root.parent / "extracted" / "cache",
    )
    return features.fit_transform(fma.filenames), fma.target


def traced_peak(function):
    """Call ``function``; return its result and the peak bytes Python and numpy allocated."""
    tracemalloc.start()
    try:
        return function(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def check_reads_in_place(net, X, y):
    """Fit and predict, checking batches and allocations (see the module docstring)."""
    # A warm-up on four clips (copied by the indexing), untraced: imports and first-call
    # set-ups allocate too.
    warm = np.flatnonzero(y != y[0])[:2].tolist() + np.flatnonzero(y == y[0])[:2].tolist()
    clone(net).fit(X[warm], y[warm]).predict_proba(X[warm])
    train, valid = MappedExamples(), MappedExamples()
    net.set_params(iterator_train__collate_fn=train, iterator_valid__collate_fn=valid)
    _, fit_peak = traced_peak(lambda: net.fit(X, y))
    proba, predict_peak = traced_peak(lambda: net.predict_proba(X))
    assert maps_file(X)
    assert fit_peak < X.nbytes / 2, f"fit allocated {fit_peak} bytes for a {X.nbytes}-byte store"
    assert predict_peak < X.nbytes / 2, f"predict allocated {predict_peak} of {X.nbytes} bytes"
    assert proba.shape == (len(X), 3) and np.isfinite(proba).all()
    return train, valid, proba


@pytest.mark.parametrize(
    ("source", "windows", "n_windows"),
    [
        ("extracted", {}, 1),
        ("extracted", {"segment_length": 128, "n_segments": 3}, 3),
        ("cached", {}, 1),
        ("cached", {"segment_length": 400, "segment_hop": 200}, 5),
    ],
)
def test_fit_and_predict_read_the_store_in_place(request, source, windows, n_windows):
    X, y = request.getfixturevalue(source)
    assert isinstance(X, np.memmap) and X.nbytes == 12 * 128 * 1292 * 4
    net = KostrzewaCNN(batch_size=2 if not windows else 6, **windows, **NET)
    train, valid, _ = check_reads_in_place(net, X, y)
    assert train.mapped == len(X) * n_windows  # every window, none of them copied
    assert valid.mapped == len(X) * n_windows


def test_augmented_copies_train_from_the_store_in_place(extracted):
    X, y = extracted
    net = KostrzewaCNN(
        batch_size=6,
        segment_length=128,
        n_segments=3,
        augment=SpecAugment(freq_mask=8, time_mask=16, n_masks=1),
        augment_copies=2,
        **NET,
    )
    train, valid, _ = check_reads_in_place(net, X, y)
    # The copies are computed when read, one clip at a time: tensors, and no copy of the store.
    assert train.mapped + train.tensors == len(X) * 3 * 3
    assert valid.mapped == len(X) * 3


@pytest.mark.parametrize("start_method", ["fork", "forkserver"])
def test_dataloader_workers_read_the_store(extracted, start_method):
    """Worker processes batch from the store (their collate checks it) and change nothing.

    Forked workers share the parent's mapping; a forkserver's (as spawned ones, the default
    on macOS and Windows) receive the dataset pickled, with the store as a reference to its
    file, not a copy of it.
    """
    X, y = extracted
    params = {"batch_size": 6, "segment_length": 128, "n_segments": 3, **NET}
    alone = KostrzewaCNN(**params).fit(X, y).predict_proba(X)
    net = KostrzewaCNN(
        iterator_train__num_workers=2,
        iterator_valid__num_workers=2,
        iterator_train__multiprocessing_context=start_method,
        iterator_valid__multiprocessing_context=start_method,
        iterator_train__collate_fn=MappedExamples(),
        iterator_valid__collate_fn=MappedExamples(),
        **params,
    )
    np.testing.assert_allclose(net.fit(X, y).predict_proba(X), alone, rtol=1e-5, atol=1e-6)


RSS = textwrap.dedent(
    """
    import json, statistics, sys, threading, time
    import numpy as np
    import torch
    from skfma.models import KostrzewaCNN
    from skfma.nn import SpecAugment

    torch.set_num_threads(1)

    def anon():
        with open("/proc/self/status") as file:
            for line in file:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024

    def samples_during(function):
        values, done = [anon()], threading.Event()

        def sample():
            while not done.is_set():
                values.append(anon())
                time.sleep(0.002)

        thread = threading.Thread(target=sample)
        thread.start()
        try:
            function()
        finally:
            done.set()
            thread.join()
        return values + [anon()]

    X = np.load(sys.argv[1], mmap_mode="r")
    y = np.arange(len(X)) % 4
    settings = {
        "whole clips": {},
        "augmented copies of segments": {
            "segment_length": 256,
            "augment": SpecAugment(freq_mask=4, time_mask=16, n_masks=1),
            "augment_copies": 1,
        },
    }
    growth = {}
    for name, params in settings.items():
        net = KostrzewaCNN(
            module__filters=(1,), module__kernel_size=3, batch_size=16, max_epochs=1,
            random_state=0, **params,
        )
        # The same batches on the first 32 clips: the peak of a step's working set.
        warm = max(samples_during(lambda: net.fit(X[:32], y[:32]).predict_proba(X[:32])))
        # Medians, not peaks: the heap jumps by tens of MB now and then within a step, while a
        # copy of the store would be held throughout.
        growth[f"{name}, fit"] = statistics.median(samples_during(lambda: net.fit(X, y))) - warm
        growth[f"{name}, predict"] = (
            statistics.median(samples_during(lambda: net.predict_proba(X))) - warm
        )
    print(json.dumps(growth))
    """
)


def has_rss_anon():
    """Whether ``/proc/self/status`` gives ``RssAnon`` (Linux)."""
    try:
        with open("/proc/self/status") as file:
            return "RssAnon:" in file.read()
    except OSError:
        return False


@pytest.mark.skipif(not has_rss_anon(), reason="needs Linux's /proc/self/status (RssAnon)")
def test_anonymous_memory_does_not_grow_with_a_large_store(tmp_path):
    path = tmp_path / "features.npy"
    store = np.lib.format.open_memmap(path, "w+", np.float32, (512, 64, 1024))  # 128 MiB
    rng = np.random.default_rng(0)
    for start in range(0, len(store), 64):
        store[start : start + 64] = rng.standard_normal((64, 64, 1024), dtype=np.float32)
    store.flush()
    size = store.nbytes
    del store
    result = subprocess.run(
        [sys.executable, "-c", RSS, str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    growth = json.loads(result.stdout.strip().splitlines()[-1])
    for name, grown in growth.items():
        assert grown < size / 2, f"{name}: anonymous memory grew by {grown} bytes (store {size})"
