"""Shared test fixtures: real FMA material (when present) and small synthetic audio."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

#: Real FMA fixtures beside the checkout (``../shared/fixtures``); absent for a pip user.
FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"

# Tests run single-threaded: on 2 shared cores a second torch thread only slows things down.
torch.set_num_threads(1)


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


@pytest.fixture(
    params=[
        check_estimator_cloneable,
        check_estimator_repr,
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
    ],
    ids=lambda check: check.__name__,
)
def api_check(request):
    """Each of sklearn's estimator checks that need no data, as ``check(name, estimator)``.

    For estimators whose input is not 2-D numbers, for which ``parametrize_with_checks``
    yields (almost) no checks.
    """
    return request.param
