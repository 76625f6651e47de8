"""Torch front ends against librosa and scipy."""

import librosa
import numpy as np
import pytest
import scipy.fft
import torch

from skfma.functional import dct_matrix, mel_filterbank, mel_power, power_to_db, stft_power


@pytest.mark.parametrize(
    "sr, n_fft, n_mels, fmin, fmax",
    [(22050, 2048, 128, 0.0, None), (44100, 1024, 40, 30.0, 8000.0), (12000, 512, 96, 0.0, None)],
)
def test_mel_filterbank_is_librosas_slaney_filterbank(sr, n_fft, n_mels, fmin, fmax):
    ours = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax).numpy()
    reference = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    assert ours.shape == reference.shape == (n_mels, 1 + n_fft // 2)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6 * reference.max())


def test_stft_power_matches_librosa():
    x = np.random.default_rng(0).standard_normal((2, 5000)).astype(np.float32)
    ours = stft_power(
        torch.from_numpy(x), n_fft=512, hop_length=128, window=torch.hann_window(512), power=1.0
    ).numpy()
    reference = np.abs(librosa.stft(x, n_fft=512, hop_length=128))
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6 * reference.max())


@pytest.mark.parametrize("n_samples", [100, 1024, 2048, 2049, 5000])
@pytest.mark.parametrize("frames_per_chunk", [1, 3, 192])
@pytest.mark.parametrize("sparse", [False, True])
def test_mel_power_matches_librosa_at_every_chunk_edge(n_samples, frames_per_chunk, sparse):
    # Clips shorter than half a frame, exactly one frame, and chunks that start and
    # end inside the zero padding on either side, for a batch of two clips.
    x = np.random.default_rng(n_samples).standard_normal((2, n_samples)).astype(np.float32)
    filterbank = mel_filterbank(sr=8000, n_fft=1024, n_mels=40)
    ours = mel_power(
        torch.from_numpy(x),
        n_fft=1024,
        hop_length=256,
        window=torch.hann_window(1024),
        filterbank=filterbank.to_sparse_csr() if sparse else filterbank,
        frames_per_chunk=frames_per_chunk,
    ).numpy()
    reference = librosa.feature.melspectrogram(
        y=x, sr=8000, n_fft=1024, hop_length=256, n_mels=40, pad_mode="constant"
    )
    assert ours.shape == reference.shape == (2, 40, 1 + n_samples // 256)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-5 * reference.max())


def test_power_to_db_clips_each_clip_to_its_own_peak():
    spectrogram = torch.tensor([[[1.0, 1e-12]], [[100.0, 1e-3]]])
    db = power_to_db(spectrogram, top_db=80.0).numpy()
    for ours, clip in zip(db, spectrogram.numpy(), strict=True):
        np.testing.assert_allclose(ours, librosa.power_to_db(clip, top_db=80.0), atol=1e-5)


def test_dct_matrix_is_orthonormal_dct_ii():
    x = np.random.default_rng(1).standard_normal((64, 7))
    basis = dct_matrix(13, 64, dtype=torch.float64).numpy()
    reference = scipy.fft.dct(x, type=2, norm="ortho", axis=0)[:13]
    np.testing.assert_allclose(basis @ x, reference, atol=1e-12)


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_power_to_db_of_float16_has_the_float32_floor(power):
    """float16 has no 1e-10: its floor was 0, and silence -inf dB."""
    spectrogram = torch.rand(2, 3, 4) ** 4
    spectrogram[0] = 0  # a silent clip
    db = power_to_db(spectrogram.half(), power=power)
    assert db.dtype == torch.float16
    want = power_to_db(spectrogram.half().float(), power=power)
    torch.testing.assert_close(db.float(), want, rtol=1e-3, atol=0.05)  # float16's round-off
    assert (db[0] == -100).all()
