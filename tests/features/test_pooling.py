"""TemporalStatistics: the statistics, their names, finite output, pandas output."""

import numpy as np
import pytest
import scipy.stats
from sklearn.base import clone

from skfma import TemporalStatistics
from skfma.exceptions import ParameterError


@pytest.fixture
def features():
    return np.random.default_rng(0).gamma(2.0, size=(5, 3, 40))


def test_matches_numpy_and_scipy(features):
    out = TemporalStatistics().fit_transform(features)
    expected = np.concatenate(
        [
            features.mean(axis=-1),
            features.std(axis=-1),
            scipy.stats.skew(features, axis=-1),
            scipy.stats.kurtosis(features, axis=-1),
            np.median(features, axis=-1),
            features.min(axis=-1),
            features.max(axis=-1),
        ],
        axis=1,
    )
    assert out.shape == (5, 21)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("scale", [1e-160, 1e200])
def test_extreme_float64_scales_give_the_same_shape_statistics(features, scale):
    """Their powers under- or overflowed: NaN skewness, or an infinite std read as constant."""
    out = TemporalStatistics().fit_transform(features * scale)
    assert np.isfinite(out).all()
    unit = TemporalStatistics().fit_transform(features)
    np.testing.assert_allclose(out[:, 6:12], unit[:, 6:12], rtol=1e-10)  # skew, kurtosis
    np.testing.assert_allclose(out[:, 3:6], unit[:, 3:6] * scale, rtol=1e-10)  # std


def test_constant_rows_give_zero_skew_and_kurtosis():
    X = np.ones((2, 2, 10), dtype=np.float32)
    X[1, 1] = np.linspace(0, 1, 10)
    pool = TemporalStatistics(statistics=("skew", "kurtosis")).fit(X)
    out = pool.transform(X)
    assert np.isfinite(out).all()
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0], 0.0)
    assert out[1, 3] == pytest.approx(scipy.stats.kurtosis(X[1, 1]))


def test_two_dimensional_input_is_one_bin(features):
    series = features[:, 0, :]
    pool = TemporalStatistics(statistics=("mean", "max")).fit(series)
    np.testing.assert_allclose(pool.transform(series)[:, 0], series.mean(axis=1))
    assert pool.get_feature_names_out().tolist() == ["mean_0", "max_0"]


def test_feature_names_and_pandas_output(features):
    pool = TemporalStatistics(statistics=("mean", "std")).set_output(transform="pandas")
    frame = pool.fit_transform(features)
    assert list(frame.columns) == ["mean_0", "mean_1", "mean_2", "std_0", "std_1", "std_2"]
    names = pool.get_feature_names_out(["low", "mid", "high"])
    assert names[:3].tolist() == ["mean_low", "mean_mid", "mean_high"]
    with pytest.raises(ValueError, match="3 bins"):
        pool.get_feature_names_out(["a"])


@pytest.mark.parametrize("statistics", [(), "mean", ("mean", "mode")])
def test_bad_statistics_are_named(features, statistics):
    with pytest.raises(ParameterError, match="statistics"):
        TemporalStatistics(statistics=statistics).fit(features)


def test_clone_keeps_parameters():
    pool = TemporalStatistics(statistics=("min",))
    assert clone(pool).get_params() == {"statistics": ("min",)}
