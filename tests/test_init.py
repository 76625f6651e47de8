"""The top-level namespace: lazy public names."""

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


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        skfma.Nope  # noqa: B018
