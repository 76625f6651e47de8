"""The top-level namespace: lazy public names."""

import importlib.metadata
import subprocess
import sys

import pytest

import skfma


def test_public_names_resolve():
    for name in skfma.__all__:
        assert getattr(skfma, name) is not None
    from skfma import AudioLoader, MelSpectrogram

    assert AudioLoader.__module__ == "skfma.audio._loader"
    assert MelSpectrogram.__module__ == "skfma.features._spectral"


def test_import_is_lazy():
    code = "import sys, skfma; print('torch' in sys.modules, 'sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "False"]


def test_pooling_and_fma_features_do_not_import_torch():
    code = (
        "import sys; from skfma.features import FMAFeatures, TemporalStatistics; "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False"]


def test_spectrogram_transformers_do_not_import_the_nets():
    code = (
        "import sys; from skfma import MelSpectrogram; MelSpectrogram; "
        "print('skfma.nn' in sys.modules, 'skorch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "False"]


def test_nets_import_torch_only():
    code = "import sys, skfma.nn; print('sklearn' in sys.modules, 'skorch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "False"]


def test_version_is_the_installed_metadata():
    assert skfma.__version__ == importlib.metadata.version("skfma")


def test_installed_metadata_carries_the_licence():
    metadata = importlib.metadata.metadata("skfma")
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert metadata.get_all("License-File") == ["LICENSE"]
    # skfma's own, not the musicnn weights' notice inside the package
    (licence,) = [
        f
        for f in importlib.metadata.files("skfma")
        if f.name == "LICENSE" and f.parts[0] != "skfma"
    ]
    assert "BSD 3-Clause License" in licence.read_text()


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        skfma.Nope  # noqa: B018
