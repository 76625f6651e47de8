"""Fixtures of the AudioFeatures tests: short synthetic clips on disk and light steps."""

import subprocess
import sys

import pytest

import skfma.audio._loader
import skfma.pipeline._audio_features
from skfma import AudioLoader, MelSpectrogram, TemporalStatistics
from skfma.datasets import make_genre_clips

SR = 8000
DURATION = 1.0


@pytest.fixture(scope="session")
def clip_files(tmp_path_factory):
    """12 one-second WAV clips of 3 genres: (paths, genres)."""
    directory = tmp_path_factory.mktemp("clips")
    return make_genre_clips(
        12, n_genres=3, duration=DURATION, sr=SR, directory=directory, audio_format="wav"
    )


@pytest.fixture
def mel_steps():
    """Fresh steps: 8 kHz one-second clips -> 16-band log-mels (16 x 32) -> 112 statistics."""

    def make(*, n_mels=16, pool=True):
        steps = [
            ("load", AudioLoader(sr=SR, duration=DURATION)),
            ("mel", MelSpectrogram(sr=SR, n_fft=256, hop_length=256, n_mels=n_mels)),
        ]
        return steps + [("stats", TemporalStatistics())] if pool else steps

    return make


@pytest.fixture
def decodes(monkeypatch):
    """Count the files decoded in this process (``n_jobs=None`` runs here), by AudioLoader or
    by AudioFeatures' workers."""
    counter = {"n": 0}
    original = skfma.audio._loader.load_window

    def counting(*args, **kwargs):
        counter["n"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(skfma.audio._loader, "load_window", counting)
    monkeypatch.setattr(skfma.pipeline._audio_features, "load_window", counting)
    return counter


@pytest.fixture
def ended_pid():
    """The id of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid
