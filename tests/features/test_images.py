"""Resize and SpectrogramScaler: spectrograms as the image nets of the reports take them."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from skfma import KostrzewaCNN, SpectrogramScaler
from skfma.exceptions import ParameterError
from skfma.features import Resize
from skfma.nn import KostrzewaCNNModule


def bilinear_half_pixel(image, shape):
    """Reference resize: half-pixel centres, edges clamped (tf.image.resize, bilinear)."""

    def sample(n_in, n_out):
        position = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        low = np.floor(position).astype(int)
        return low, np.minimum(low + 1, n_in - 1), position - low

    (r0, r1, rw), (c0, c1, cw) = sample(image.shape[0], shape[0]), sample(image.shape[1], shape[1])
    rows = image[r0] * (1 - rw)[:, None] + image[r1] * rw[:, None]
    return rows[:, c0] * (1 - cw) + rows[:, c1] * cw


@pytest.mark.parametrize("shape", [(128, 128), (5, 7), (64, 400), (1, 1)])
def test_resize_is_half_pixel_bilinear(shape):
    X = np.random.default_rng(0).normal(-40, 12, (3, 64, 300)).astype(np.float32)
    out = Resize(shape=shape).fit_transform(X)
    assert out.shape == (3, *shape) and out.dtype == np.float32
    # torch finds the source positions in float32: off by up to about eps * 300 pixels, which
    # moves a value by that times the largest step between neighbours.
    atol = 4 * np.finfo(np.float32).eps * max(X.shape[1:]) * np.ptp(X)
    for image, resized in zip(X.astype(np.float64), out, strict=True):
        np.testing.assert_allclose(resized, bilinear_half_pixel(image, shape), rtol=0, atol=atol)


def test_resize_keeps_a_same_size_image_and_any_frame_count():
    X = np.random.default_rng(1).standard_normal((2, 16, 20)).astype(np.float32)
    np.testing.assert_array_equal(Resize(shape=(16, 20)).fit_transform(X), X)
    resize = Resize(shape=(16, 10)).fit(X)
    assert resize.transform(X[:, :, :7]).shape == (2, 16, 10)


@pytest.mark.parametrize("shape", [(128,), (0, 5), (3, 4, 5), "128x128"])
def test_resize_refuses_bad_shapes(shape):
    with pytest.raises((ParameterError, ValueError), match="^Resize: shape"):
        Resize(shape=shape).fit(np.zeros((1, 4, 4), np.float32))


def test_kostrzewa_cnn_on_resized_log_mels_has_the_reports_parameter_count():
    """Report 001: 128 x 1280 log-mels resized to 128 x 128 give the CNN 735,944 parameters."""
    net = KostrzewaCNNModule(input_shape=(1, 128, 128), n_classes=8)
    assert sum(p.numel() for p in net.parameters() if p.requires_grad) == 735_944
    X = np.random.default_rng(0).standard_normal((8, 128, 1280)).astype(np.float32)
    y = np.arange(8) % 2
    pipe = make_pipeline(
        Resize(shape=(128, 128)), KostrzewaCNN(module__filters=(4, 4), max_epochs=1)
    ).fit(X, y)
    assert pipe[-1].input_shape_ == (1, 128, 128)


@pytest.mark.parametrize("per_bin", [False, True])
def test_scaler_learns_the_training_mean_and_deviation(per_bin):
    rng = np.random.default_rng(0)
    X = (rng.normal(-40, 12, (6, 10, 50)) + np.arange(10)[:, None]).astype(np.float32)
    scaler = SpectrogramScaler(per_bin=per_bin).fit(X)
    axes = (0, 2) if per_bin else None
    values = X.astype(np.float64)
    expected_mean = values.mean(axis=axes).reshape(-1, 1)
    np.testing.assert_allclose(scaler.mean_, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(scaler.scale_, values.std(axis=axes).reshape(-1, 1), rtol=1e-10)
    Z = scaler.transform(X)
    assert Z.dtype == np.float32 and Z.shape == X.shape
    np.testing.assert_allclose(Z.mean(axis=axes), 0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=axes), 1, atol=1e-5)
    other = rng.normal(0, 1, (2, 10, 7)).astype(np.float32)  # other clips, other length
    np.testing.assert_allclose(
        scaler.transform(other), (other - scaler.mean_) / scaler.scale_, rtol=1e-5, atol=1e-5
    )


def test_scaler_keeps_constant_bins_finite_and_checks_the_bins():
    X = np.zeros((3, 4, 5), np.float32)
    X[:, 1] = np.arange(5)
    scaler = SpectrogramScaler(per_bin=True).fit(X)
    assert np.isfinite(scaler.transform(X)).all() and scaler.scale_[0, 0] == 1.0
    with pytest.raises(ValueError, match="4 features"):
        scaler.transform(np.zeros((2, 5, 5), np.float32))
    assert clone(scaler).get_params() == {"per_bin": True}


def test_scaler_reads_a_memory_map_without_copying_it(tmp_path):
    path = tmp_path / "x.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(600, 8, 16))
    X[:] = np.random.default_rng(0).standard_normal(X.shape)
    X.flush()
    mapped = np.load(path, mmap_mode="r")
    scaler = SpectrogramScaler().fit(mapped)
    np.testing.assert_allclose(scaler.mean_, X.astype(np.float64).mean(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("scale", [1e-42, 1e-30, 1.0, 1e30])
def test_the_scaler_standardises_values_of_any_float32_magnitude(scale):
    """A standard deviation below float32's normal range (subnormal) scales, not divides by 0."""
    X = (np.random.default_rng(0).standard_normal((4, 3, 50)) * scale).astype(np.float32)
    Z = SpectrogramScaler().fit_transform(X)
    assert np.isfinite(Z).all()
    # Fitted and applied to the same values in float64: only Z's float32 rounding remains
    # (eps 1.2e-7 times |Z| < 5 per value), subnormal input included.
    np.testing.assert_allclose([Z.mean(), Z.std()], [0, 1], atol=1e-5)


def test_values_beyond_float32_once_standardised_are_an_error():
    scaler = SpectrogramScaler().fit(np.full((2, 3, 4), 1e-30, np.float32) * [1, 2, 3, 4])
    with pytest.raises(ValueError, match="beyond float32's range once standardised"):
        scaler.transform(np.full((1, 3, 4), 3e38, np.float32))
