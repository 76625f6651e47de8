"""The waveform transformers' shared checks: finite input gives finite output or a clear error."""

import numpy as np
import pytest

from skfma import MFCC, FMAFeatures, MelSpectrogram, MusicnnFeatures, Spectrogram
from skfma.base import MAX_AMPLITUDE

TRANSFORMERS = [
    Spectrogram(n_fft=256, hop_length=128),
    MelSpectrogram(sr=16000, n_fft=256, hop_length=128, n_mels=16),
    MFCC(sr=16000, n_fft=256, hop_length=128, n_mels=16, n_mfcc=8),
    FMAFeatures(sr=16000),
    MusicnnFeatures(sr=16000, layer="taggram"),
]
IDS = [type(transformer).__name__ for transformer in TRANSFORMERS]


def waveforms(amplitude, n_samples=48000):
    rng = np.random.default_rng(0)
    return (rng.uniform(-1, 1, (1, n_samples)) * amplitude).astype(np.float32)


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=IDS)
@pytest.mark.parametrize("amplitude", [1e-40, 1e-20, 1.0, 32768.0, MAX_AMPLITUDE])
def test_audio_of_any_accepted_amplitude_gives_finite_features(transformer, amplitude):
    assert np.isfinite(transformer.fit_transform(waveforms(amplitude))).all()


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=IDS)
@pytest.mark.parametrize("amplitude", [2 * MAX_AMPLITUDE, 1e20, 3e38])
def test_amplitudes_no_audio_reaches_are_refused(transformer, amplitude):
    with pytest.raises(ValueError, match="X holds waveform amplitudes up to"):
        transformer.fit_transform(waveforms(amplitude))
    fitted = transformer.fit(waveforms(1.0))
    with pytest.raises(ValueError, match="scale the waveforms"):
        fitted.transform(waveforms(amplitude))
