"""The functional front ends name a wrong argument instead of failing inside torch."""

import numpy as np
import pytest
import torch

import skfma.functional as F
from skfma.exceptions import ParameterError

WAVES = torch.rand(2, 1024)
WINDOW = torch.hann_window(256)
FILTERBANK = F.mel_filterbank(sr=22050, n_fft=256, n_mels=16)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: F.n_frames(1000, n_fft=256, hop_length=0), "n_frames: hop_length"),
        (lambda: F.n_frames(-5, n_fft=256, hop_length=128), "n_frames: n_samples"),
        (lambda: F.n_frames(1000.5, n_fft=256, hop_length=128), "n_frames: n_samples"),
        (lambda: F.dct_matrix(0, 16), "dct_matrix: n_out"),
        (lambda: F.mel_filterbank(sr=0, n_fft=256), "mel_filterbank: sr"),
        (lambda: F.mel_filterbank(sr=22050, n_fft=256, n_mels=0), "n_mels"),
        (lambda: F.mel_filterbank(sr=22050, n_fft=256, fmin=5000, fmax=100), "fmin < fmax"),
        (lambda: F.mel_filterbank(sr=22050, n_fft=256, dtype=torch.int64), "floating dtype"),
        (lambda: F.mel_filterbank(sr=22050, n_fft=256, dtype=np.float32), "floating dtype"),
        (lambda: F.power_to_db(np.ones((2, 3, 4))), "power_to_db: spectrogram must be"),
        (lambda: F.power_to_db(torch.rand(2, 3, 4), power=0), "power_to_db: power"),
        (lambda: F.power_to_db(torch.rand(2, 3, 4), top_db=-5), "power_to_db: top_db"),
        (lambda: F.power_to_db(torch.tensor(1.0)), "dimensions"),
        (
            lambda: F.stft_power(WAVES.numpy(), n_fft=256, hop_length=128, window=WINDOW),
            "stft_power: waveforms must be a floating torch.Tensor",
        ),
        (
            lambda: F.stft_power(WAVES, n_fft=256, hop_length=128, window=torch.ones(100)),
            "window must have n_fft=256 samples",
        ),
        (lambda: F.apply_filterbank(torch.rand(2, 100, 10), FILTERBANK), "100 frequency bins"),
        (
            lambda: F.apply_filterbank(torch.rand(2, 129, 10, dtype=torch.float64), FILTERBANK),
            "dtype torch.float64",
        ),
        (
            lambda: F.mel_power(
                WAVES,
                n_fft=256,
                hop_length=128,
                window=WINDOW,
                filterbank=FILTERBANK,
                frames_per_chunk=0,
            ),
            "mel_power: frames_per_chunk",
        ),
    ],
)
def test_wrong_arguments_are_named(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_a_filterbank_with_empty_bands_warns_as_librosa():
    with pytest.warns(UserWarning, match="mel filters hold no FFT bin"):
        F.mel_filterbank(sr=22050, n_fft=64, n_mels=256)
