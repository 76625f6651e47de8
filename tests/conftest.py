"""Shared test fixtures: real FMA material (when present) and small synthetic audio."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

#: Real FMA fixtures beside the checkout (``../shared/fixtures``); absent for a pip user.
FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"

# Tests run single-threaded: on 2 shared cores a second torch thread only slows things down.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seeded_global_numpy_rng():
    """Seed NumPy's global generator per test (sklearn's common checks draw from it), so that a
    test does not depend on which tests ran before it in the same worker."""
    np.random.seed(0)  # noqa: NPY002 (the legacy global generator is the one sklearn uses)


@pytest.fixture(scope="session")
def fixtures_dir():
    """The real FMA fixtures folder; the test is skipped when it is absent."""
    if not FIXTURES.is_dir():
        pytest.skip(f"real FMA fixtures not found at {FIXTURES}")
    return FIXTURES


@pytest.fixture(scope="session")
def fma_mp3(fixtures_dir):
    """A real fma_small clip: track 2, MP3 256 kbps, 44.1 kHz stereo, 1,321,967 frames."""
    return fixtures_dir / "fma" / "fma_small" / "000" / "000002.mp3"


@pytest.fixture
def tone_file(tmp_path):
    """Write a test tone and return its path: ``tone_file(sr=..., seconds=..., channels=...)``."""

    def write(name="tone.wav", *, sr=22050, seconds=1.0, channels=1, freq=440.0):
        t = np.arange(round(sr * seconds)) / sr
        mono = 0.5 * np.sin(2 * np.pi * freq * t)
        data = np.stack([mono * (c + 1) / channels for c in range(channels)], axis=1)
        path = tmp_path / name
        sf.write(path, data.astype(np.float32), sr)
        return path

    return write
