"""Session set-up of the whole suite, and doctest collection (``--doctest-modules`` on skfma)."""

import importlib.util

import numpy as np
import pytest

#: Modules whose examples need an optional extra, and that extra's import name.
NEEDS = {"skfma.transfer._pretrained": "torchvision"}


def pytest_configure(config):
    """Compile librosa's numba functions once, before pytest-xdist starts its workers.

    librosa caches them on disk (``cache=True``) in its own folder. On a fresh install, workers
    compiling the same function at once can leave a corrupt cache entry, and every process that
    loads it afterwards crashes (seen in a new virtual environment). One process compiling
    first leaves the workers only complete entries to load.
    """
    if hasattr(config, "workerinput"):  # an xdist worker: the controller did it
        return
    import librosa

    from skfma.features import FMAFeatures

    x = np.random.default_rng(0).standard_normal(22050).astype(np.float32)
    FMAFeatures().fit_transform(x[None])  # skfma's recipe: estimate_tuning, CQT, CENS, ...
    cqt = np.abs(librosa.cqt(x, sr=22050, bins_per_octave=12, n_bins=84, tuning=None))
    chroma = librosa.feature.chroma_cens(C=cqt, n_chroma=12, n_octaves=7, bins_per_octave=12)
    librosa.feature.tonnetz(chroma=chroma)
    stft = np.abs(librosa.stft(x))
    librosa.feature.chroma_stft(S=stft**2)
    librosa.feature.spectral_contrast(S=stft)
    librosa.feature.spectral_rolloff(S=stft)


def pytest_collection_modifyitems(config, items):
    for item in items:
        for module, package in NEEDS.items():
            if item.name.startswith(f"{module}.") and importlib.util.find_spec(package) is None:
                item.add_marker(pytest.mark.skip(reason=f"needs {package} (an optional extra)"))
