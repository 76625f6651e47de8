"""Spectrogram, MelSpectrogram and MFCC: parity with librosa, estimator API, pipelines."""

import pickle
from functools import partial

import librosa
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC

from skfma import MFCC, MelSpectrogram, Spectrogram, TemporalStatistics, load_audio
from skfma.datasets import make_genre_clips
from skfma.exceptions import ParameterError

# Tolerances (float32 round-off). Linear values: relative to each clip's peak. Decibels: absolute;
# a bin 80 dB below the peak carries the peak's round-off ~1e4 times larger relatively, which
# gives up to ~0.01 dB there. MFCCs (values up to ~500) inherit that through the DCT.
LINEAR_RTOL = 1e-6
DB_ATOL = 0.02
MFCC_ATOL = 2e-3


@pytest.fixture(scope="module")
def synthetic():
    X, _ = make_genre_clips(4, n_genres=4, duration=2.0)
    return X


@pytest.fixture(scope="module")
def real(fma_mp3):
    y, _ = load_audio(fma_mp3, sr=22050, duration=10.0)
    return y[None, :]


def relative_to_peak(ours, reference):
    return np.max(np.abs(ours - reference) / reference.max(axis=(1, 2), keepdims=True))


@pytest.fixture(params=["synthetic", "real"])
def clips(request):
    return request.getfixturevalue(request.param)


def test_spectrogram_matches_librosa_stft(clips):
    for power in (1.0, 2.0):
        ours = Spectrogram(n_fft=1024, hop_length=256, power=power).fit_transform(clips)
        reference = np.stack(
            [np.abs(librosa.stft(x, n_fft=1024, hop_length=256)) ** power for x in clips]
        )
        assert ours.shape == reference.shape
        assert ours.dtype == np.float32
        assert relative_to_peak(ours, reference) < LINEAR_RTOL * power


def test_spectrogram_db_matches_amplitude_and_power_to_db(clips):
    magnitude = np.abs(np.stack([librosa.stft(x) for x in clips]))
    ours = Spectrogram(db=True).fit_transform(clips)
    reference = np.stack([librosa.amplitude_to_db(m) for m in magnitude])
    np.testing.assert_allclose(ours, reference, rtol=0, atol=DB_ATOL)
    ours = Spectrogram(power=2.0, db=True, top_db=60.0).fit_transform(clips)
    reference = np.stack([librosa.power_to_db(m**2, top_db=60.0) for m in magnitude])
    np.testing.assert_allclose(ours, reference, rtol=0, atol=DB_ATOL)


@pytest.mark.parametrize(
    "params",
    [{}, {"n_mels": 64, "fmin": 30.0, "fmax": 8000.0}, {"n_fft": 1024, "hop_length": 256}],
)
def test_melspectrogram_matches_librosa(clips, params):
    power = MelSpectrogram(db=False, **params).fit_transform(clips)
    reference = np.stack([librosa.feature.melspectrogram(y=x, sr=22050, **params) for x in clips])
    assert power.shape == reference.shape
    assert relative_to_peak(power, reference) < LINEAR_RTOL
    db = MelSpectrogram(**params).fit_transform(clips)
    np.testing.assert_allclose(
        db, np.stack([librosa.power_to_db(r) for r in reference]), rtol=0, atol=DB_ATOL
    )


def test_melspectrogram_sample_rate_is_used():
    X, _ = make_genre_clips(2, n_genres=2, duration=1.0, sr=16000)
    ours = MelSpectrogram(sr=16000, n_mels=40, db=False).fit_transform(X)
    reference = np.stack([librosa.feature.melspectrogram(y=x, sr=16000, n_mels=40) for x in X])
    assert relative_to_peak(ours, reference) < LINEAR_RTOL


def test_mfcc_matches_librosa_with_deltas(clips):
    ours = MFCC(n_mfcc=20, deltas=2).fit_transform(clips)
    coefficients = np.stack([librosa.feature.mfcc(y=x, sr=22050, n_mfcc=20) for x in clips])
    reference = np.concatenate(
        [
            coefficients,
            librosa.feature.delta(coefficients),
            librosa.feature.delta(coefficients, order=2),
        ],
        axis=1,
    )
    assert ours.shape == (len(clips), 60, reference.shape[-1])
    np.testing.assert_allclose(ours, reference, rtol=0, atol=MFCC_ATOL)


def test_batches_do_not_change_the_result(synthetic):
    one_by_one = MelSpectrogram(batch_size=1).fit_transform(synthetic)
    together = MelSpectrogram(batch_size=64).fit_transform(synthetic)
    # Batched and single FFTs may take different SIMD paths: float32 round-off in dB, as DB_ATOL.
    np.testing.assert_allclose(one_by_one, together, rtol=0, atol=DB_ATOL)


def test_float64_input_gives_float32_output(synthetic):
    out = MelSpectrogram().fit_transform(synthetic.astype(np.float64))
    assert out.dtype == np.float32


def test_frames_are_centred():
    X = np.zeros((1, 10_000), dtype=np.float32)
    assert MelSpectrogram(hop_length=512).fit_transform(X).shape == (1, 128, 1 + 10_000 // 512)


def test_silence_gives_floor_not_nan():
    out = MelSpectrogram().fit_transform(np.zeros((2, 22050), dtype=np.float32))
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, -100.0)


@pytest.mark.parametrize(
    "estimator, message",
    [
        (MelSpectrogram(n_mels=0), "n_mels"),
        (MelSpectrogram(fmax=20000.0), "fmax"),
        (MelSpectrogram(hop_length=0.5), "hop_length"),
        (Spectrogram(power=0), "power"),
        (Spectrogram(top_db=-1), "top_db"),
        (MFCC(n_mfcc=200), "n_mfcc"),
        (MFCC(deltas=3), "deltas"),
        (MFCC(deltas=1.0), "deltas"),  # passed fit, then a TypeError in transform
        (MFCC(delta_width=4), "delta_width"),
    ],
)
def test_bad_parameters_name_the_parameter(synthetic, estimator, message):
    with pytest.raises(ParameterError, match=message):
        estimator.fit(synthetic)


def test_mfcc_deltas_need_enough_frames():
    with pytest.raises(ParameterError, match="delta_width"):
        MFCC(deltas=1).fit_transform(np.zeros((1, 2048), dtype=np.float32))


def test_pickle_and_clone_round_trip(synthetic):
    estimator = MelSpectrogram(n_mels=32).fit(synthetic)
    restored = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(restored.transform(synthetic), estimator.transform(synthetic))
    cloned = clone(estimator)
    assert cloned.get_params() == estimator.get_params()
    assert not hasattr(cloned, "n_features_in_")


def test_grid_search_over_signal_parameters():
    X, y = make_genre_clips(24, n_genres=2, duration=1.0)
    pipeline = make_pipeline(MelSpectrogram(), TemporalStatistics(), SVC())
    grid = {"melspectrogram__n_mels": [16, 32], "melspectrogram__hop_length": [512, 1024]}
    search = GridSearchCV(pipeline, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.9
    assert set(search.predict(X)) <= set(y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU that torch can see")
@pytest.mark.parametrize("estimator", [Spectrogram(db=True), MelSpectrogram(), MFCC(deltas=1)])
def test_cuda_matches_cpu(synthetic, estimator):
    cpu = clone(estimator).fit_transform(synthetic)
    gpu = clone(estimator).set_params(device="cuda").fit_transform(synthetic)
    assert gpu.dtype == np.float32
    np.testing.assert_allclose(gpu, cpu, rtol=0, atol=DB_ATOL)


def test_twice_the_40_db_log_mel_is_chois_log_of_the_squared_mel_power(synthetic):
    """ChoiCRNN's docstring: Choi's code takes logamplitude(mel ** 2) with an 80 dB range."""
    mel = MelSpectrogram(sr=22050, n_fft=512, hop_length=256, n_mels=96, top_db=40.0)
    front_end = make_pipeline(mel, FunctionTransformer(partial(np.multiply, 2.0)))  # as documented
    ours = clone(front_end).fit_transform(synthetic[:1])[0]
    power = librosa.feature.melspectrogram(
        y=synthetic[0], sr=22050, n_fft=512, hop_length=256, n_mels=96, pad_mode="constant"
    )
    reference = librosa.power_to_db(power**2, ref=1.0, top_db=80.0)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=2 * DB_ATOL)


@pytest.mark.parametrize("db", [False, True])
def test_a_power_whose_spectrum_overflows_float32_is_named(db):
    """A unit sine's magnitudes (about n_fft / 4) to the power 16 pass 3.4e38: an error, not inf."""
    x = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)[None]
    with pytest.raises(ValueError, match="Spectrogram: .*power=16 exceed float32's range"):
        Spectrogram(power=16, db=db).fit_transform(x)
    assert np.isfinite(Spectrogram(power=4, db=db).fit_transform(x)).all()
