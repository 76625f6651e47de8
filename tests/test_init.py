"""The top-level namespace: lazy public names."""

import importlib.metadata
import subprocess
import sys

import pytest

import skfma

#: The functions the top level exports besides the estimators (docs/contributing.rst).
TOP_LEVEL_FUNCTIONS = {"load_audio", "make_audio_features", "run_demo"}


def test_the_top_level_exports_estimators_and_the_first_functions_only():
    from sklearn.base import BaseEstimator

    from skfma import AudioLoader, MelSpectrogram

    assert AudioLoader.__module__ == "skfma.audio._loader"
    assert MelSpectrogram.__module__ == "skfma.features._spectral"
    others = {
        name
        for name in skfma.__all__
        if not (
            isinstance(getattr(skfma, name), type)
            and issubclass(getattr(skfma, name), BaseEstimator)
        )
    }
    assert others == TOP_LEVEL_FUNCTIONS


def test_every_public_class_and_function_is_in_the_api_reference():
    import importlib
    import pathlib

    api = pathlib.Path(__file__).parents[1] / "docs" / "api.rst"
    if not api.exists():
        pytest.skip("the docs are not beside the tests")
    text = api.read_text()
    subpackages = ["audio", "base", "benchmark", "datasets", "evaluation", "exceptions",
                   "features", "functional", "model_selection", "models", "nn", "pipeline",
                   "transfer", "utils"]  # fmt: skip
    missing = [
        f"skfma.{package}.{name}"
        for package in subpackages
        for name in importlib.import_module(f"skfma.{package}").__all__
        if callable(getattr(importlib.import_module(f"skfma.{package}"), name))  # not constants
        and f"   {name}\n" not in text
        and f"``{name}``" not in text
    ]
    assert missing == []


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
