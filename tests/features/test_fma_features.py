"""Tests of FMAFeatures: parity with the FMA reference recipe, estimator API, pipelines."""

import pickle
import warnings

import librosa
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from skfma import AudioLoader, FMAFeatures
from skfma.audio import load_audio
from skfma.datasets import make_genre_clips
from skfma.exceptions import ParameterError
from skfma.features import FMA_FEATURE_GROUPS, fma_feature_index
from skfma.features._fma_dsp import FEATURE_SIZES, clip_features


def recipe_frames(x, sr):
    """The frame-level features of the FMA reference ``features.py``, as plain librosa calls.

    ``bins_per_octave=12`` is explicit in chroma_cqt/chroma_cens because librosa
    >= 0.8 defaults it to 36; the reference ran on librosa < 0.8 where it was
    ``n_chroma``.
    """
    frames = {"zcr": librosa.feature.zero_crossing_rate(x, frame_length=2048, hop_length=512)}
    cqt = np.abs(
        librosa.cqt(x, sr=sr, hop_length=512, bins_per_octave=12, n_bins=7 * 12, tuning=None)
    )
    frames["chroma_cqt"] = librosa.feature.chroma_cqt(
        C=cqt, n_chroma=12, n_octaves=7, bins_per_octave=12
    )
    frames["chroma_cens"] = librosa.feature.chroma_cens(
        C=cqt, n_chroma=12, n_octaves=7, bins_per_octave=12
    )
    frames["tonnetz"] = librosa.feature.tonnetz(chroma=frames["chroma_cens"])
    stft = np.abs(librosa.stft(x, n_fft=2048, hop_length=512))
    frames["chroma_stft"] = librosa.feature.chroma_stft(S=stft**2, n_chroma=12)
    frames["rmse"] = librosa.feature.rms(S=stft)
    frames["spectral_centroid"] = librosa.feature.spectral_centroid(S=stft)
    frames["spectral_bandwidth"] = librosa.feature.spectral_bandwidth(S=stft)
    frames["spectral_contrast"] = librosa.feature.spectral_contrast(S=stft, n_bands=6)
    frames["spectral_rolloff"] = librosa.feature.spectral_rolloff(S=stft)
    mel = librosa.feature.melspectrogram(sr=sr, S=stft**2)
    frames["mfcc"] = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=20)
    return frames


def recipe_statistics(frames, dtype=None):
    """``feature_stats`` of ``features.py`` (numpy and scipy.stats), as a released-order row.

    ``dtype=None`` pools the features in their own dtype as the reference does
    (mostly float32); ``np.float64`` pools them in float64.
    """
    features = pd.Series(index=fma_feature_index(), dtype=np.float64)
    for name, values in frames.items():
        values = values if dtype is None else values.astype(dtype)
        features[name, "mean"] = np.mean(values, axis=1)
        features[name, "std"] = np.std(values, axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's "precision loss" on near-constant rows
            features[name, "skew"] = stats.skew(values, axis=1)
            features[name, "kurtosis"] = stats.kurtosis(values, axis=1)
        features[name, "median"] = np.median(values, axis=1)
        features[name, "min"] = np.min(values, axis=1)
        features[name, "max"] = np.max(values, axis=1)
    return features.to_numpy()


def reference(x, sr):
    # BLAS may round a matrix product differently with several threads; FMAFeatures
    # computes single-threaded, so the reference does too.
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Trying to estimate tuning from empty frequency set")
        return recipe_frames(x, sr)


@pytest.fixture(scope="module")
def synthetic_clips():
    X, _ = make_genre_clips(4, n_genres=4, duration=3.0, random_state=1)
    return X, 22050


@pytest.fixture(scope="module")
def real_clips(fma_mp3, fixtures_dir):
    """Real music at its native 44.1 kHz: 10 s of FMA track 2 and 5 s of track 46."""
    mp3, sr = load_audio(fma_mp3, sr=None, duration=10.0)
    ogg, _ = load_audio(fixtures_dir / "audio" / "fma_000046_excerpt_10s.ogg", sr=None, duration=5)
    return [mp3, ogg], int(sr)


def _clips(request, name):
    clips, sr = request.getfixturevalue(name)
    return list(clips), sr


#: Statistics whose float32 evaluation in features.py loses the most (centred moments).
MOMENTS = np.array(["_skew_" in n or "_kurtosis_" in n for n in map("_".join, fma_feature_index())])


@pytest.mark.parametrize("clips", ["synthetic_clips", "real_clips"])
def test_frame_features_match_librosa(request, clips):
    """Every frame-level feature equals the plain librosa call's, bit for bit.

    Except the spectral centroid and bandwidth: librosa rounds the normalised
    spectrum to float32, FMAFeatures weighs in float64 (measured: 4e-9 relative).
    """
    clips, sr = _clips(request, clips)
    for clip in clips:
        expected = reference(clip, sr)
        with threadpool_limits(limits=1):
            got = clip_features(clip, sr, set(FEATURE_SIZES))
        for name in FEATURE_SIZES:
            assert got[name].shape == expected[name].shape, name
            if name in ("spectral_centroid", "spectral_bandwidth"):
                np.testing.assert_allclose(got[name], expected[name], rtol=1e-6, err_msg=name)
            else:
                np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


@pytest.mark.parametrize("clips", ["synthetic_clips", "real_clips"])
def test_matches_fma_recipe(request, clips):
    """All 518 columns match the recipe, column by column.

    Against the recipe pooled in float64 the only differences are the
    centroid's and bandwidth's round-off: float32 normalised sums over 1,025
    bins, whose SIMD order NumPy picks by CPU, err by up to about
    log2(1025) * 6e-8 = 6e-7 relative: tolerance 1e-6 (the pooled moments
    inherit it). Against features.py's own pooling, in
    the features' float32, the reference's accumulation error shows: measured
    up to 3e-6 relative on means and deviations and 1.2e-4 absolute on skewness
    and kurtosis (centred third and fourth moments of float32 sums, 10 s
    clips); tolerance rtol=3e-5, and atol=1e-3 on skewness and kurtosis.
    """
    clips, sr = _clips(request, clips)
    got = FMAFeatures(sr=sr).fit_transform(np.stack([c[: min(map(len, clips))] for c in clips]))
    for clip, row in zip(clips, got, strict=True):
        frames = reference(clip[: min(map(len, clips))], sr)
        pooled64 = recipe_statistics(frames, np.float64)
        np.testing.assert_allclose(row, pooled64, rtol=1e-6, atol=1e-6)
        pooled = recipe_statistics(frames)
        np.testing.assert_allclose(row[~MOMENTS], pooled[~MOMENTS], rtol=3e-5)
        np.testing.assert_allclose(row[MOMENTS], pooled[MOMENTS], rtol=3e-5, atol=1e-3)


def test_silence_is_finite_where_recipe_is_nan():
    X = np.zeros((1, 22050), np.float32)
    got = FMAFeatures(sr=22050).fit_transform(X)[0]
    expected = recipe_statistics(reference(X[0], 22050), np.float64)
    undefined = np.isnan(expected)
    assert undefined.sum() > 100  # every skewness and kurtosis of silence
    assert np.isfinite(got).all()
    np.testing.assert_array_equal(got[undefined], 0.0)
    # The centroid's and bandwidth's float32 round-off, as in test_matches_fma_recipe.
    np.testing.assert_allclose(got[~undefined], expected[~undefined], rtol=1e-6, atol=1e-6)


def test_columns_and_names():
    index = fma_feature_index()
    assert len(index) == 518 and index.is_monotonic_increasing
    assert index.names == ["feature", "statistics", "number"]
    assert sorted(set(index.get_level_values(0))) == list(FMA_FEATURE_GROUPS)
    X, _ = make_genre_clips(2, duration=1.0)
    fma = FMAFeatures().fit(X)
    names = fma.get_feature_names_out()
    assert names[0] == "chroma_cens_kurtosis_01" and names[-1] == "zcr_std_01"
    assert list(names) == ["_".join(column) for column in index]


def test_feature_groups_select_columns():
    X, _ = make_genre_clips(2, duration=2.0)
    full = pd.DataFrame(FMAFeatures().fit_transform(X), columns=fma_feature_index())
    groups = ["zcr", "mfcc", "spectral_contrast"]
    part = FMAFeatures(features=groups[::-1]).fit(X)
    got = part.transform(X)
    assert got.shape == (2, 7 * (1 + 20 + 7))
    # The same frame features; pooled in a batch of another shape (float64 round-off).
    np.testing.assert_allclose(got, full[sorted(groups)].to_numpy(), rtol=1e-12)
    assert list(part.get_feature_names_out()) == ["_".join(c) for c in fma_feature_index(groups)]
    single = FMAFeatures(features="tonnetz").fit_transform(X)
    np.testing.assert_allclose(single, full["tonnetz"].to_numpy(), rtol=1e-12)


def test_float64_input_and_jobs_give_the_same():
    X, _ = make_genre_clips(3, duration=1.5)
    serial = FMAFeatures(batch_size=2).fit_transform(X)
    parallel = FMAFeatures(batch_size=1, n_jobs=2).fit_transform(X)
    np.testing.assert_array_equal(serial, parallel)
    # float64 waveforms are computed in float64 (as librosa does), float32 in float32.
    mfcc = FMAFeatures(features=["mfcc"])
    as64 = mfcc.fit_transform(X.astype(np.float64))
    assert as64.shape == (3, 140) and as64.dtype == np.float64
    np.testing.assert_allclose(as64, mfcc.fit_transform(X), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"features": ["mfcc", "loudness"]}, "features must name"),
        ({"features": []}, "features must name"),
        ({"features": 3}, "features must be None"),
        ({"sr": 8000}, "sr=8000 is too low"),
        ({"sr": 0}, "sr must be"),
        ({"batch_size": 0}, "batch_size must be"),
        ({"n_jobs": 1.5}, "n_jobs must be"),
    ],
)
def test_invalid_parameters(params, message):
    X, _ = make_genre_clips(1, duration=0.5)
    with pytest.raises(ParameterError, match=message):
        FMAFeatures(**params).fit(X)


def test_low_sr_without_cqt_groups_is_fine():
    X = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 8000)).astype(np.float32)
    assert FMAFeatures(sr=8000, features=["mfcc", "zcr"]).fit_transform(X).shape == (2, 147)


def test_pipeline_pandas_output_grid_search_and_pickle(tmp_path):
    paths, genres = make_genre_clips(12, n_genres=2, duration=1.0, directory=tmp_path)
    pipe = make_pipeline(
        AudioLoader(sr=22050, duration=1.0),
        FMAFeatures(sr=22050, features=["mfcc"]),
        StandardScaler(),
        SVC(),
    )
    search = GridSearchCV(
        pipe, {"fmafeatures__features": [["mfcc"], ["zcr", "spectral_contrast"]]}, cv=2
    )
    search.fit(paths, genres)
    assert set(search.predict(paths)) <= set(genres)
    assert search.cv_results_["params"][1]["fmafeatures__features"] == ["zcr", "spectral_contrast"]
    fma = FMAFeatures(features="zcr").set_output(transform="pandas")
    frame = fma.fit_transform(AudioLoader(sr=22050, duration=1.0).fit_transform(paths[:2]))
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["_".join(c) for c in fma_feature_index("zcr")]
    restored = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(restored.predict(paths), search.predict(paths))
    cloned = clone(FMAFeatures(features=("mfcc",), n_jobs=2))
    assert cloned.get_params()["features"] == ("mfcc",) and cloned.n_jobs == 2
