"""Session set-up of the whole suite, and doctest collection (``--doctest-modules`` on skfma)."""

import importlib.util
import os
import tempfile

import numpy as np
import pytest

# librosa compiles numba functions with cache=True into its own folder. Entries written there
# by other runs (an example's parallel workers, processes with other libraries loaded) have
# crashed the processes that loaded them later. The suite compiles into a cache of its own,
# set here, before anything imports numba, and inherited by every worker it starts.
os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="skfma-tests-numba-"))

#: Modules whose examples need an optional extra, and that extra's import name.
NEEDS = {
    "skfma.transfer._pretrained": "torchvision",
    "skfma.evaluation._plots": "matplotlib",
    "skfma.model_selection._hyperband": "optuna",
    "skfma.model_selection._bayesian": "optuna",
}


def pytest_configure(config):
    """Compile librosa's numba functions once, before pytest-xdist starts its workers.

    Workers compiling the same cached function at once have left a corrupt cache entry that
    crashed every process loading it (seen in a new virtual environment); one process
    compiling first leaves the workers only complete entries to load.
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
