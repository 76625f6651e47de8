"""An invalid value of every parameter of every public function is refused, naming it.

The functions' counterpart of ``tests/test_common.py``'s estimator checks: each public
function of every subpackage is called with valid arguments but one, which is a value
of no accepted type, and must raise a ``ParameterError``, ``TypeError`` or
``ValueError`` whose message names that parameter, before any long work: never a bare
error from deep inside, a hang, or a silent success.
"""

import importlib
import inspect

import numpy as np
import pytest
import soundfile as sf
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from skfma.datasets import make_fma_like
from skfma.evaluation import evaluate_classifier
from skfma.exceptions import ParameterError
from skfma.functional import mel_filterbank
from skfma.models import DNNClassifier

SUBPACKAGES = [
    "skfma",
    "skfma.audio",
    "skfma.benchmark",
    "skfma.datasets",
    "skfma.evaluation",
    "skfma.features",
    "skfma.functional",
    "skfma.model_selection",
    "skfma.models",
    "skfma.pipeline",
    "skfma.transfer",
]

#: Functions left out, and why.
LEFT_OUT = {
    "make_audio_features": "its *steps and **kwargs are AudioFeatures' (tests/test_common.py)",
    "list_pipelines": "no parameter",
}


def public_functions():
    """``(qualified name, function)`` of every public function, each once."""
    seen = {}
    for name in SUBPACKAGES:
        module = importlib.import_module(name)
        for attribute in module.__all__:
            value = getattr(module, attribute)
            if inspect.isfunction(value) and attribute not in LEFT_OUT:
                seen.setdefault(value, f"{name}.{attribute}")
    return [(qualified, function) for function, qualified in seen.items()]


class _Invalid:
    """A value no parameter takes: not a number, string, path, array, callable or sequence."""

    def __repr__(self):
        return "<invalid>"


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    """Valid keyword arguments of every public function, by name."""
    folder = tmp_path_factory.mktemp("functions")
    wav = folder / "tone.wav"
    t = np.arange(8000) / 8000
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 8000)
    genres = folder / "genres" / "rock"
    genres.mkdir(parents=True)
    sf.write(genres / "a.wav", np.zeros(800, np.float32), 8000)
    root = folder / "fma"
    make_fma_like(root, n_clips=8, n_genres=2, duration=1.0, sr=8000)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    y = np.array(["a", "b", "c"] * 4)
    classifier = LogisticRegression().fit(X, y)
    Y = (rng.random((12, 3)) < 0.5).astype(int)
    Y[0], Y[1] = 1, 0
    tagger_X = rng.standard_normal((12, 4)).astype(np.float32)
    net = DNNClassifier(module__hidden_layer_sizes=(4,), max_epochs=1, batch_size=4)
    net.fit(tagger_X, Y)
    window = torch.hann_window(256)
    bank = mel_filterbank(sr=8000, n_fft=256, n_mels=16)
    waveforms = torch.zeros(1, 8000)
    history = [{"epoch": 1, "train_loss": 1.0}]
    return {
        "load_audio": {"path": wav},
        "load_window": {
            "path": wav,
            "sr": 8000,
            "n_samples": 8000,
            "crop": "start",
            "pad_mode": "constant",
        },
        "open_audio": {"path": wav},
        "resample": {"y": np.zeros(800, np.float32), "orig_sr": 8000, "target_sr": 16000},
        "fetch_fma": {
            "data_home": folder / "data",
            "base_url": "http://127.0.0.1:9/",
            "n_retries": 0,
            "timeout": 1.0,
        },
        "fma_audio_path": {"directory": folder, "track_id": 2},
        "get_data_home": {"data_home": folder / "home"},
        "load_audio_folder": {"root": folder / "genres"},
        "load_fma": {"root": root},
        "load_fma_metadata": {"root_or_file": root},
        "make_fma_like": {
            "directory": folder / "like",
            "n_clips": 4,
            "n_genres": 2,
            "duration": 0.5,
            "sr": 8000,
        },
        "make_genre_clips": {"n_clips": 4, "n_genres": 2, "duration": 0.5, "sr": 8000},
        "evaluate_classifier": {"estimator": classifier, "X": X, "y": y, "top_k": ()},
        "evaluate_tagger": {
            "estimator": KNeighborsClassifier(3).fit(X, Y),
            "X": X,
            "Y": Y,
        },
        "report_to_markdown": {"report": evaluate_classifier(classifier, X, y, top_k=())},
        "training_history": {"net_or_history": history},
        "fma_feature_index": {},
        "apply_filterbank": {"spectrogram": torch.ones(1, 129, 10), "filterbank": bank},
        "autocast": {"precision": "float32", "device": "cpu"},
        "dct_matrix": {"n_out": 4, "n_in": 8},
        "mel_filterbank": {"sr": 8000, "n_fft": 256, "n_mels": 16},
        "mel_power": {
            "waveforms": waveforms,
            "n_fft": 256,
            "hop_length": 128,
            "window": window,
            "filterbank": bank,
        },
        "n_frames": {"n_samples": 8000, "n_fft": 256, "hop_length": 128},
        "power_to_db": {"spectrogram": torch.ones(1, 16, 10)},
        "stft_power": {"waveforms": waveforms, "n_fft": 256, "hop_length": 128, "window": window},
        "hyperband_n_trials": {"max_epochs": 9},
        "predict_tags": {"estimator": net, "X": tagger_X, "top_k": 2},
        "extract_fma": {"root": root, "out": folder / "store", "features": "logmel-stats"},
        "load_extracted": {"directory": folder / "no-store"},
        "predict_musicnn_tags": {"X": np.zeros((1, 16000), np.float32), "top_k": 3},
        "spectrograms_to_images": {"spectrograms": torch.ones(1, 16, 20)},
        "register_pipeline": {
            "name": "test-invalid-argument",
            "estimator": LogisticRegression(),
            "features": "fma",
        },
        "run_benchmark": {"root": root, "out": folder / "bench", "pipelines": ["fma-all-lr"]},
        "run_demo": {
            "output_dir": folder / "demo",
            "n_clips": 14,
            "n_genres": 2,
            "duration": 0.5,
            "n_jobs": 1,
            "print_fn": lambda *args: None,
        },
    }


@pytest.mark.parametrize(
    "function", [f for _, f in public_functions()], ids=[q for q, _ in public_functions()]
)
def test_every_parameter_has_a_declared_check(function):
    """Each public function declares its checks with ``skfma.utils.validate_arguments``, which
    refuses, when it decorates, a table that misses a parameter or names one the function lacks."""
    table = getattr(function, "_parameter_checks", None)
    assert table is not None, f"decorate {function.__name__} with validate_arguments"
    named = [
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    ]
    assert sorted(table) == sorted(named)


def _parameters():
    for qualified, function in public_functions():
        for name, parameter in inspect.signature(function).parameters.items():
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                yield pytest.param(function, name, id=f"{qualified}-{name}")


@pytest.mark.parametrize(("function", "name"), list(_parameters()))
def test_an_invalid_value_of_every_parameter_is_named(valid, function, name):
    assert function.__name__ in valid, f"add valid arguments of {function.__name__} to valid"
    kwargs = {**valid[function.__name__], name: _Invalid()}
    with pytest.raises((ParameterError, TypeError, ValueError)) as caught:
        result = function(**kwargs)
        if hasattr(result, "__enter__"):  # a context manager checks when entered
            with result:
                pass
    assert name in str(caught.value), f"{type(caught.value).__name__}: {caught.value}"
