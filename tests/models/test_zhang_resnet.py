"""ZhangResNet learns genres from raw audio: waveform, spectrogram or both, with segments."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skfma import AudioLoader, ZhangResNet
from skfma.datasets import make_genre_clips
from skfma.nn import ZhangResNetModule

SR = 8000


def small_zhang(**params):
    """16 maps, a 256-sample STFT (32 ms at 8 kHz) and small dense layers."""
    defaults = {
        "module__n_fft": 256,
        "module__filters": 16,
        "module__dense_units": (16, 16),
        "lr": 5e-3,
        "max_epochs": 10,
        "batch_size": 10,
        "random_state": 0,
    }
    return ZhangResNet(**{**defaults, **params})


@pytest.fixture(scope="module")
def waveforms():
    """64 clips of 1.5 s at 8 kHz in 4 genres, split 40 / 24."""
    X, y = make_genre_clips(64, n_genres=4, duration=1.5, sr=SR, random_state=0)
    return (X[:40], y[:40]), (X[40:], y[40:])


def test_defaults():
    net = ZhangResNet()
    assert net.module is ZhangResNetModule
    assert (net.lr, net.batch_size, net.segment_aggregate) == (5e-4, 50, "sum")


@pytest.mark.parametrize("segmented", [False, True], ids=["clips", "segments"])
@pytest.mark.parametrize("input", ["spectrogram", "waveform", "both"])
def test_learns_genres_from_each_input(input, segmented, waveforms):
    (X_train, y_train), (X_test, y_test) = waveforms
    # Segments of 0.5 s with 50% overlap: 5 per clip.
    segments = {"segment_length": SR // 2, "segment_hop": SR // 4} if segmented else {}
    net = small_zhang(module__input=input, **segments).fit(X_train, y_train)
    assert net.module_.input == input
    assert net.score(X_test, y_test) >= 0.6  # 4 genres: chance is 0.25
    assert net.history_[-1, "train_batch_count"] == (20 if segmented else 4)


@pytest.mark.parametrize("input", ["spectrogram", "waveform", "both"])
def test_trains_report_004s_variant(input, waveforms):
    # First layer of 4 frames without padding, dropout 0.2 after every layer but the last.
    # 0.5 s segments: 1 + 4000 // 128 = 32 frames, so 29 first-layer maps values.
    (X_train, y_train), (X_test, y_test) = waveforms
    net = small_zhang(
        module__input=input,
        module__first_kernel_size=4,
        module__dropout=0.2,
        module__conv_dropout=0.2,
        segment_length=SR // 2,
        segment_hop=SR // 4,
        max_epochs=2,
    ).fit(X_train, y_train)
    module = net.module_
    assert module.first_kernel_size == 4
    dropouts = [m.p for m in module.modules() if isinstance(m, torch.nn.Dropout)]
    assert dropouts == [0.2] * 5
    assert module.first_layer(torch.as_tensor(X_test[:2, : SR // 2])).shape == (2, 16, 29)
    assert len(net.history_) == 2 and np.isfinite(net.history_[:, "train_loss"]).all()
    proba = net.predict_proba(X_test)
    assert proba.shape == (24, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 5, rtol=1e-5)  # 5 segments summed
    np.testing.assert_array_equal(net.predict_proba(X_test), proba)  # no dropout at predict


def test_segments_shorter_than_the_first_kernel_are_refused(waveforms):
    (X_train, y_train), _ = waveforms
    # n_fft 256, hop 128: 4 frames need 384 samples.
    net = small_zhang(module__first_kernel_size=4, segment_length=300, max_epochs=1)
    with pytest.raises(ValueError, match=r"first_kernel_size=4 .* 384 samples .* got 300 samples"):
        net.fit(X_train, y_train)


def test_a_clip_is_the_sum_of_its_segments(waveforms):
    (X_train, y_train), (X_test, _) = waveforms
    net = small_zhang(segment_length=SR // 2, segment_hop=SR // 4, max_epochs=2)
    net.fit(X_train, y_train)
    x = torch.as_tensor(X_test[:3])
    starts = range(0, X_test.shape[1] - SR // 2 + 1, SR // 4)
    with torch.no_grad():
        module = net.module_.eval()
        expected = sum(module(x[:, s : s + SR // 2]).softmax(-1) for s in starts).numpy()
    assert len(starts) == 5
    proba = net.predict_proba(X_test[:3])
    np.testing.assert_allclose(proba, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(proba.sum(axis=1), 5, rtol=1e-5)
    np.testing.assert_array_equal(net.predict(X_test[:3]), net.classes_[expected.argmax(1)])


def test_tags_from_raw_audio(waveforms, tags_of):
    (X_train, y_train), (X_test, y_test) = waveforms
    Y_train, Y_test = tags_of(y_train), tags_of(y_test)
    net = small_zhang(module__input="both").fit(X_train, Y_train)
    assert net.multilabel_ and list(net.tag_names_) == list(Y_train.columns)
    assert roc_auc_score(Y_test, net.predict_proba(X_test)) >= 0.85  # chance is 0.5


def test_audio_loader_then_zhang_needs_no_plumbing(genre_files):
    (paths_train, y_train), (paths_test, y_test) = genre_files
    sr = 11025  # 1.5 s clips: 16,538 samples; 0.5 s segments with 50% overlap
    pipe = make_pipeline(
        AudioLoader(sr=sr, duration=1.5),
        small_zhang(module__input="both", segment_length=sr // 2, segment_hop=sr // 4),
    )
    pipe.fit(paths_train, y_train)
    assert pipe[-1].n_features_in_ == round(1.5 * sr)
    assert pipe.score(paths_test, y_test) >= 0.6
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(
        restored.predict_proba(paths_test), pipe.predict_proba(paths_test)
    )
    fresh = clone(pipe).fit(paths_train, y_train)
    np.testing.assert_array_equal(fresh.predict_proba(paths_test), pipe.predict_proba(paths_test))


def test_grid_search_over_the_input(waveforms):
    (X_train, y_train), _ = waveforms
    net = small_zhang(max_epochs=2)
    search = GridSearchCV(net, {"module__input": ["waveform", "both"]}, cv=2).fit(X_train, y_train)
    assert [p["module__input"] for p in search.cv_results_["params"]] == ["waveform", "both"]
    assert search.best_estimator_.module_.input == search.best_params_["module__input"]


def test_spectrogram_input_is_refused(waveforms):
    (X_train, y_train), _ = waveforms
    with pytest.raises(ValueError, match="waveform batches"):
        small_zhang(max_epochs=1).fit(X_train[:, None, :4000].reshape(40, 40, 100), y_train)
