"""Output shapes at the edges: every size either gives the shape computed in one place, or a
clear error; never a broadcast or empty-reduction error from inside (property-based)."""

import warnings

import librosa
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skfma import MFCC, MelSpectrogram, Spectrogram, TemporalStatistics
from skfma.exceptions import ParameterError
from skfma.functional import n_frames

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

sizes = {
    "n_samples": st.integers(1, 3000),
    "n_fft": st.integers(1, 600),
    "hop_length": st.integers(1, 700),
}


def waveforms(n_samples):
    return np.random.default_rng(0).standard_normal((2, n_samples)).astype(np.float32)


@SETTINGS
@given(**sizes)
def test_spectrogram_frames_are_librosas(n_samples, n_fft, hop_length):
    out = Spectrogram(n_fft=n_fft, hop_length=hop_length).fit_transform(waveforms(n_samples))
    expected = n_frames(n_samples, n_fft=n_fft, hop_length=hop_length)
    assert out.shape == (2, 1 + n_fft // 2, expected)
    if n_fft >= 2:  # librosa's framing fails on some one-sample frames
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "n_fft=.* is too large", UserWarning)
            reference = librosa.stft(
                waveforms(n_samples)[0], n_fft=n_fft, hop_length=hop_length, pad_mode="constant"
            )
        assert reference.shape[-1] == expected


@SETTINGS
@given(**sizes, n_mels=st.integers(1, 40))
def test_mel_spectrogram_shape(n_samples, n_fft, hop_length, n_mels):
    mel = MelSpectrogram(sr=8000, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    out = mel.fit_transform(waveforms(n_samples))
    assert out.shape == (2, n_mels, n_frames(n_samples, n_fft=n_fft, hop_length=hop_length))
    assert np.isfinite(out).all()


@SETTINGS
@given(**sizes, n_mfcc=st.integers(1, 16), deltas=st.integers(0, 2))
def test_mfcc_shape_or_a_clear_error(n_samples, n_fft, hop_length, n_mfcc, deltas):
    frames = n_frames(n_samples, n_fft=n_fft, hop_length=hop_length)
    mfcc = MFCC(
        sr=8000, n_fft=n_fft, hop_length=hop_length, n_mels=16, n_mfcc=n_mfcc, deltas=deltas
    )
    if deltas and frames < mfcc.delta_width:
        with pytest.raises(ParameterError, match="^MFCC: deltas need clips of at least"):
            mfcc.fit_transform(waveforms(n_samples))
        return
    assert mfcc.fit_transform(waveforms(n_samples)).shape == (2, n_mfcc * (1 + deltas), frames)


@SETTINGS
@given(n_clips=st.integers(1, 4), n_bins=st.integers(1, 20), n_frames_=st.integers(1, 50))
def test_temporal_statistics_width(n_clips, n_bins, n_frames_):
    X = np.random.default_rng(0).standard_normal((n_clips, n_bins, n_frames_))
    pool = TemporalStatistics(statistics=("mean", "std", "kurtosis"))
    out = pool.fit_transform(X)
    assert out.shape == (n_clips, 3 * n_bins) and np.isfinite(out).all()
    assert len(pool.get_feature_names_out()) == out.shape[1]


@pytest.mark.parametrize("shape", [(2, 3, 0), (2, 3, 4, 5)])
def test_temporal_statistics_refuses_no_frames_and_other_dimensions(shape):
    with pytest.raises(ValueError, match=r"n_frames >= 1; got shape"):
        TemporalStatistics().fit(np.zeros(shape))


def test_temporal_statistics_refuses_input_of_other_dimensions_than_fitted():
    pool = TemporalStatistics().fit(np.ones((2, 5, 8)))
    with pytest.raises(ValueError, match="fitted on 3-D input"):
        pool.transform(np.ones((2, 5)))  # 5 frames, the same axis-1 size as 5 bins
    assert TemporalStatistics().transform(np.ones((2, 5))).shape == (2, 7)  # unfitted: any


def test_odd_n_fft_mel_power_matches_librosa():
    x = waveforms(1001)[0]
    ours = MelSpectrogram(sr=8000, n_fft=255, hop_length=100, n_mels=20, db=False).fit_transform(
        x[None]
    )[0]
    reference = librosa.feature.melspectrogram(
        y=x, sr=8000, n_fft=255, hop_length=100, n_mels=20, pad_mode="constant"
    )
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-5 * reference.max())
