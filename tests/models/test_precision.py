"""NeuralClassifier(precision=...): autocast, gradient scaling, channels-last; compile=True."""

import math

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split

from skfma.exceptions import ParameterError
from skfma.models import (
    ChoiCRNN,
    DNNClassifier,
    KostrzewaCNN,
    NeuralClassifier,
    UNetEncoderCNN,
    ZhangResNet,
)
from skfma.nn import KostrzewaCNNModule


def banded_spectrograms(n=144, n_bins=16, n_frames=32, noise=1.0, seed=0):
    """Noisy spectrograms of 3 genres, each brighter in a band of its own (learnable)."""
    rng = np.random.default_rng(seed)
    y = np.array(["Rock", "Folk", "Hip-Hop"] * (n // 3))
    X = noise * rng.standard_normal((n, n_bins, n_frames)).astype(np.float32)
    for k, genre in enumerate(["Rock", "Folk", "Hip-Hop"]):
        X[y == genre, 4 * k : 4 * k + 4, :] += 1.0
    return X, y


def tiny_cnn(**params):
    defaults = {
        "module": KostrzewaCNNModule,
        "module__filters": (4, 8),
        "module__kernel_size": 3,
        "max_epochs": 6,
        "batch_size": 16,
        "lr": 3e-3,
        "random_state": 0,
    }
    return NeuralClassifier(**{**defaults, **params})


def test_bfloat16_learns_as_float32_does():
    X, y = banded_spectrograms(n=300, noise=2.0)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=150, stratify=y, random_state=0
    )
    scores = {
        precision: tiny_cnn(precision=precision).fit(X_train, y_train).score(X_test, y_test)
        for precision in ("float32", "bfloat16")
    }
    # Both learn; bfloat16 keeps 8 bits of mantissa, so its training takes another path
    # (other rounding, so other dropout masks after the first step) to an accuracy that
    # differs from float32's by the test set's sampling noise: within three standard errors
    # of a difference of two accuracies on 150 clips.
    assert min(scores.values()) >= 0.8
    accuracy = scores["float32"]
    assert abs(scores["bfloat16"] - accuracy) <= 3 * math.sqrt(2 * accuracy * (1 - accuracy) / 150)


def second_convolution(module):
    """A convolution with several input channels (one channel is also channels-last)."""
    return [layer for layer in module.modules() if isinstance(layer, torch.nn.Conv2d)][1]


def test_reduced_precision_runs_the_convolutions_in_it_and_gives_float32():
    X, y = banded_spectrograms(n=24)
    net = tiny_cnn(precision="bfloat16", max_epochs=1).fit(X, y)
    seen = []
    conv = second_convolution(net.module_)
    handle = conv.register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
    try:
        proba = net.predict_proba(X)
    finally:
        handle.remove()
    assert set(seen) == {torch.bfloat16}
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    # the weights (and so the optimizer's steps) stay float32, kept channels-last
    assert conv.weight.dtype == torch.float32
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)


def test_float32_keeps_the_default_layout():
    X, y = banded_spectrograms(n=24)
    net = tiny_cnn(max_epochs=1).fit(X, y)
    weight = second_convolution(net.module_).weight
    assert weight.is_contiguous() and not weight.is_contiguous(memory_format=torch.channels_last)
    assert not net.grad_scaler_.is_enabled()


def test_float16_scales_the_loss_and_steps_through_the_scaler():
    X, y = banded_spectrograms(n=48)
    net = tiny_cnn(precision="float16", max_epochs=8)
    net.fit(X, y)
    assert net.grad_scaler_.is_enabled()
    assert net.grad_scaler_.get_scale() > 1.0
    assert np.isfinite(net.history_[:, "train_loss"]).all()
    # unscaled before the step: the weights moved by about lr, not by lr times the scale
    fresh = tiny_cnn(precision="float16", max_epochs=0).fit(X, y)
    pairs = zip(net.module_.parameters(), fresh.module_.parameters(), strict=True)
    steps = [float((trained - initial).abs().max()) for trained, initial in pairs]
    assert 0 < max(steps) < 1.0
    assert net.score(X, y) >= 0.9 * tiny_cnn(max_epochs=8).fit(X, y).score(X, y)


def test_an_unknown_precision_is_named():
    X, y = banded_spectrograms(n=24)
    with pytest.raises(ParameterError, match="precision must be one of .*'float64'"):
        tiny_cnn(precision="float64").fit(X, y)


def tiny_waveforms(n=24, n_samples=4000, seed=0):
    rng = np.random.default_rng(seed)
    y = np.array(["Rock", "Folk"] * (n // 2))
    X = 0.1 * rng.standard_normal((n, n_samples)).astype(np.float32)
    X[y == "Rock"] += np.sin(np.arange(n_samples) * 0.3).astype(np.float32)
    return X, y


#: Each net of skfma.models at a tiny size, with its input.
TINY_NETS = {
    "DNNClassifier": (
        lambda **p: DNNClassifier(module__hidden_layer_sizes=(8,), **p),
        lambda: (banded_spectrograms(n=48)[0].reshape(48, -1), banded_spectrograms(n=48)[1]),
    ),
    "KostrzewaCNN": (
        lambda **p: KostrzewaCNN(module__filters=(4, 8), module__kernel_size=3, **p),
        lambda: banded_spectrograms(n=48),
    ),
    "UNetEncoderCNN": (
        lambda **p: UNetEncoderCNN(module__filters=(4, 8), **p),
        lambda: banded_spectrograms(n=48),
    ),
    "ChoiCRNN": (
        lambda **p: ChoiCRNN(module__filters=(4, 4, 4, 4), module__gru_units=4, **p),
        lambda: banded_spectrograms(n=48),
    ),
    "ZhangResNet": (
        lambda **p: ZhangResNet(
            module__n_fft=128, module__filters=4, module__dense_units=(8, 4), **p
        ),
        lambda: tiny_waveforms(n=32, n_samples=2000),
    ),
}


@pytest.mark.parametrize("name", TINY_NETS)
@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_every_net_trains_and_predicts_in_reduced_precision(name, precision):
    make, data = TINY_NETS[name]
    X, y = data()
    net = make(precision=precision, max_epochs=2, batch_size=16, random_state=0).fit(X, y)
    proba = net.predict_proba(X)
    assert proba.dtype == np.float32 and np.isfinite(proba).all()
    assert np.isfinite(net.history_[:, "train_loss"]).all()


@pytest.mark.parametrize("name", TINY_NETS)
def test_every_net_compiles(name):
    """skorch's compile=True (torch.compile) trains and predicts as the module it wraps."""
    make, data = TINY_NETS[name]
    X, y = data()
    net = make(compile=True, max_epochs=1, batch_size=16, random_state=0).fit(X, y)
    assert isinstance(net.module_, torch._dynamo.eval_frame.OptimizedModule)
    compiled = net.predict_proba(X)
    net.module_ = net.module_._orig_mod
    # float32 kernels fused differently: round-off of a few float32 ulps per layer
    np.testing.assert_allclose(net.predict_proba(X), compiled, atol=1e-4)
