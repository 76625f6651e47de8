"""NeuralClassifier: labels, shapes, multi-label, segments, augmentation, seeds, callbacks."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from skorch.callbacks import Checkpoint, EarlyStopping, LRScheduler
from skorch.dataset import ValidSplit

from skfma.exceptions import ParameterError
from skfma.models import DNNClassifier, NeuralClassifier, OneCycleSchedule
from skfma.nn import DNNModule, KostrzewaCNNModule, SpecAugment

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """A fresh RNG per test, so that a test's data do not depend on the tests run before it."""
    global RNG
    RNG = np.random.default_rng(0)


def tiny_cnn(**params):
    defaults = {
        "module": KostrzewaCNNModule,
        "module__filters": (4, 8),
        "module__kernel_size": 3,
        "max_epochs": 2,
        "batch_size": 8,
        "random_state": 0,
    }
    return NeuralClassifier(**{**defaults, **params})


def tiny_mlp(**params):
    defaults = {
        "module": DNNModule,
        "module__hidden_layer_sizes": (16,),
        "lr": 1e-2,
        "max_epochs": 20,
        "batch_size": 8,
        "random_state": 0,
    }
    return NeuralClassifier(**{**defaults, **params})


def spectrograms(n=24, n_bins=16, n_frames=32, channels=None):
    shape = (n, n_bins, n_frames) if channels is None else (n, channels, n_bins, n_frames)
    X = RNG.standard_normal(shape)  # float64 on purpose
    y = np.array(["Rock", "Folk", "Hip-Hop"] * (n // 3), dtype=object)
    # Make the classes separable: brighten a band that depends on the genre.
    for k, genre in enumerate(["Rock", "Folk", "Hip-Hop"]):
        X[y == genre, ..., 4 * k : 4 * k + 4, :] += 3.0
    return X, y


def test_string_labels_in_and_out():
    X, y = spectrograms()
    net = tiny_cnn(max_epochs=10, lr=1e-2).fit(X, y)
    assert list(net.classes_) == ["Folk", "Hip-Hop", "Rock"]
    assert net.n_features_in_ == 16
    assert net.input_shape_ == (1, 16, 32)
    assert net.predict(X).dtype == object
    assert net.score(X, y) > 0.9
    proba = net.predict_proba(X)
    assert proba.dtype == np.float32 and proba.shape == (24, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("channels", [None, 1, 2])
def test_3d_and_4d_input(channels):
    X, y = spectrograms(channels=channels)
    net = tiny_cnn().fit(X, y)
    assert net.input_shape_ == (channels or 1, 16, 32)
    assert net.module_.layers[0].in_channels == (channels or 1)
    assert net.predict(X).shape == (24,)
    if channels in (None, 1):  # one channel, 3-D or 4-D alike: the other was refused, misnamed
        other = X[:, None] if channels is None else X[:, 0]
        np.testing.assert_array_equal(net.predict_proba(other), net.predict_proba(X))


def test_a_refit_refused_before_training_leaves_the_net_as_it_was():
    """The new classes_ stayed beside the old module: predictions named after other classes."""
    X = RNG.standard_normal((12, 4)).astype(np.float32)
    y = np.repeat(["a", "b", "c"], 4)
    net = tiny_mlp(max_epochs=2).fit(X, y)
    before = net.predict_proba(X)
    net.set_params(batch_size=2**31 - 1)  # a batch too large for the memory: refused
    with pytest.raises(ParameterError, match="batch_size=2147483647"):
        net.fit(X, np.repeat(["p", "q"], 6))
    net.set_params(batch_size=8)
    with pytest.raises(ValueError, match="labels not in the first fit"):
        net.partial_fit(X, np.repeat(["a", "z"], 6))
    assert list(net.classes_) == ["a", "b", "c"]
    np.testing.assert_array_equal(net.predict_proba(X), before)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_first_fit_refused_before_training_leaves_the_net_unfitted(method):
    X = RNG.standard_normal((12, 4)).astype(np.float32)
    net = tiny_mlp(batch_size=2**31 - 1)
    with pytest.raises(ParameterError, match="batch_size=2147483647"):
        getattr(net, method)(X, np.repeat(["a", "b"], 6))
    assert not hasattr(net, "classes_") and not net.initialized_


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_sample_weight_is_refused_by_name(method):
    """skorch passed it on to the module's forward: a TypeError naming neither."""
    X = RNG.standard_normal((12, 4)).astype(np.float32)
    net = tiny_mlp()
    with pytest.raises(ParameterError, match=r"^NeuralClassifier: sample_weight is not supported"):
        getattr(net, method)(X, np.repeat(["a", "b"], 6), sample_weight=np.ones(12))
    assert not net.initialized_


def test_2d_features_and_integer_labels():
    X = RNG.standard_normal((40, 6))
    y = (X[:, 0] > 0).astype(int) + 5
    net = tiny_mlp().fit(X, y)
    assert net.n_features_in_ == 6 and list(net.classes_) == [5, 6]
    assert net.score(X, y) > 0.9
    assert net.predict(X).dtype == y.dtype


def test_predict_checks_the_example_shape():
    X, y = spectrograms()
    net = tiny_cnn().fit(X, y)
    with pytest.raises(ValueError, match="fitted on examples of shape"):
        net.predict(X[:, :, :20])
    with pytest.raises(ValueError, match="3-D"):
        tiny_cnn().fit(X[:, None, None], y)


def test_module_is_sized_from_the_data_without_set_params():
    X, y = spectrograms()
    net = tiny_cnn()
    net.fit(X, y)
    assert net.module_.layers[-1].out_features == 3
    params = net.get_params()
    assert "module__n_classes" not in params and "module__input_shape" not in params
    # Refit on other data: the module follows the data.
    net.fit(X[:, :8, :20], np.arange(24) % 2)
    assert net.module_.layers[-1].out_features == 2
    assert net.input_shape_ == (1, 8, 20)


def test_a_module_instance_is_used_as_built():
    X, y = spectrograms()
    module = KostrzewaCNNModule(input_shape=(1, 16, 32), n_classes=3, filters=(4,), kernel_size=3)
    net = NeuralClassifier(module=module, max_epochs=1, batch_size=8, random_state=0).fit(X, y)
    assert net.module_ is module
    convolutions = [layer for layer in net.module_.modules() if isinstance(layer, torch.nn.Conv2d)]
    assert [conv.out_channels for conv in convolutions] == [4]


def test_multilabel_tags():
    X = RNG.standard_normal((60, 5))
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 1] > 1], axis=1).astype(int)
    net = tiny_mlp(max_epochs=40).fit(X, Y)
    assert net.multilabel_ and list(net.classes_) == [0, 1, 2]
    assert isinstance(net.criterion_, torch.nn.BCEWithLogitsLoss)
    proba = net.predict_proba(X)
    assert proba.shape == (60, 3) and ((proba >= 0) & (proba <= 1)).all()
    assert not np.allclose(proba.sum(axis=1), 1)
    pred = net.predict(X)
    np.testing.assert_array_equal(pred, (proba >= 0.5).astype(int))
    assert pred.dtype == Y.dtype
    assert (pred == Y).mean() > 0.85


def test_single_label_uses_cross_entropy():
    X, y = spectrograms()
    assert isinstance(tiny_cnn().fit(X, y).criterion_, torch.nn.CrossEntropyLoss)


def test_multiclass_multioutput_target_is_refused():
    X = RNG.standard_normal((20, 4))
    with pytest.raises(ValueError, match="multiclass-multioutput"):
        tiny_mlp().fit(X, np.stack([np.arange(20) % 3, np.arange(20) % 2], axis=1))


class TestSegments:
    def test_training_sees_every_window(self):
        X, y = spectrograms(n_frames=40)
        net = tiny_cnn(segment_length=16, segment_hop=8, batch_size=10, max_epochs=1).fit(X, y)
        # (40 - 16) // 8 + 1 = 4 windows per clip: 96 windows, 10 batches.
        assert net.history_[-1, "train_batch_count"] == 10
        assert sum(net.history_[-1, "batches", :, "train_batch_size"]) == 96
        assert net.module_.layers[0].in_channels == 1

    def test_predict_proba_averages_the_windows(self):
        X, y = spectrograms(n_frames=40)
        net = tiny_cnn(segment_length=16, segment_hop=8).fit(X, y)
        x = torch.as_tensor(X[:5, None], dtype=torch.float32)
        with torch.no_grad():
            windows = [net.module_.eval()(x[..., s : s + 16]).softmax(-1) for s in (0, 8, 16, 24)]
        expected = torch.stack(windows).mean(0).numpy()
        np.testing.assert_allclose(net.predict_proba(X[:5]), expected, rtol=1e-5, atol=1e-6)
        net.set_params(segment_aggregate="max")
        np.testing.assert_allclose(
            net.predict_proba(X[:5]), torch.stack(windows).amax(0).numpy(), rtol=1e-5, atol=1e-6
        )

    def test_clips_of_other_lengths_and_short_clips(self):
        X, y = spectrograms(n_frames=40)
        net = tiny_cnn(segment_length=16).fit(X, y)
        assert net.predict_proba(X[:, :, :33]).shape == (24, 3)
        short = net.predict_proba(X[:4, :, :10])
        padded = np.concatenate(
            [X[:4, :, :10], np.repeat(X[:4, :, :10].min(-1, keepdims=True), 6, -1)], -1
        )
        np.testing.assert_allclose(short, net.predict_proba(padded), rtol=1e-5)
        tiny_cnn(segment_length=64).fit(X, y)  # every training clip shorter than a window

    def test_validation_split_keeps_a_clips_windows_together(self):
        X, y = spectrograms(n=30, n_frames=40)
        net = tiny_cnn(segment_length=16, train_split=ValidSplit(5, stratified=True), batch_size=1)
        train, valid = net.fit(X, y).get_split_datasets(X, y)
        assert len(train) == 24 and len(valid) == 6  # clips, split before windowing
        assert len(net.get_iterator(train, training=True)) == 24 * 2  # batches of one window
        assert len(net.get_iterator(valid)) == 6  # clips, for a loss of each clip's prediction
        assert "valid_loss" in net.history_[-1]

    def test_2d_waveforms_are_cut_in_samples_and_padded_with_zeros(self):
        X = RNG.standard_normal((12, 50)).astype(np.float32)
        y = np.arange(12) % 2
        net = tiny_mlp(segment_length=16, segment_hop=8, batch_size=12, max_epochs=1).fit(X, y)
        # (50 - 16) // 8 + 1 = 5 windows of 16 samples per clip.
        assert sum(net.history_[-1, "batches", :, "train_batch_size"]) == 60
        assert net.module_.layers[1].in_features == 16
        # Waveforms keep the training length (n_features_in_); shorter ones are zero-padded.
        short = tiny_mlp(segment_length=16, max_epochs=1).fit(X[:, :10], y)
        padded = torch.as_tensor(np.pad(X[:4, :10], [(0, 0), (0, 6)]))
        with torch.no_grad():
            expected = short.module_.eval()(padded).softmax(-1).numpy()
        np.testing.assert_allclose(short.predict_proba(X[:4, :10]), expected, rtol=1e-5)

    def test_sum_adds_the_windows_and_predicts_as_the_mean(self):
        X, y = spectrograms(n_frames=40)
        net = tiny_cnn(segment_length=16, segment_hop=8).fit(X, y)
        mean = net.predict_proba(X)
        predicted = net.predict(X)
        net.set_params(segment_aggregate="sum")
        np.testing.assert_allclose(net.predict_proba(X), 4 * mean, rtol=1e-5)
        np.testing.assert_array_equal(net.predict(X), predicted)
        Y = np.stack([y == "Rock", y != "Folk"], axis=1).astype(int)
        tagger = tiny_cnn(segment_length=16, segment_hop=8, max_epochs=10, lr=1e-2).fit(X, Y)
        tags = tagger.predict(X)
        tagger.set_params(segment_aggregate="sum")
        np.testing.assert_array_equal(tagger.predict(X), tags)
        assert tagger.predict_proba(X).max() > 1  # scores up to 4, not probabilities


class RecordingAugment(SpecAugment):
    """SpecAugment that counts the batches it masks."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.masked = 0

    def forward(self, x):
        if self.training:
            self.masked += 1
        return super().forward(x)


def test_augment_applies_to_training_batches_only():
    X, y = spectrograms()
    augment = RecordingAugment(freq_mask=4, time_mask=8)
    net = tiny_cnn(augment=augment, max_epochs=3).fit(X, y)
    assert augment.masked == 0  # the parameter is copied, never used itself
    assert net.augment_.masked == 3 * 3  # 3 epochs of 3 batches
    net.predict_proba(X)
    assert net.augment_.masked == 9
    x = torch.as_tensor(X[:, None], dtype=torch.float32)
    with torch.no_grad():
        expected = net.module_.eval()(x).softmax(-1).numpy()
    np.testing.assert_allclose(net.predict_proba(X), expected, rtol=1e-5, atol=1e-6)
    # The augmentation changes what is learnt.
    plain = tiny_cnn(max_epochs=3).fit(X, y)
    assert not np.allclose(plain.predict_proba(X), net.predict_proba(X))


def test_augment_needs_spectrograms():
    with pytest.raises(ParameterError, match="augment"):
        tiny_mlp(augment=SpecAugment()).fit(RNG.standard_normal((10, 8)), np.arange(10) % 2)


@pytest.mark.parametrize("warm_start", [False, True])
def test_augment_can_be_set_on_a_fitted_net(warm_start):
    X, y = spectrograms()
    net = tiny_cnn(warm_start=warm_start, max_epochs=1).fit(X, y)
    net.set_params(augment=RecordingAugment(freq_mask=2, time_mask=2))
    net.fit(X, y)  # a warm start continues training without re-initialising the net
    assert net.augment_.masked == 3  # the new augmentation masked every training batch
    net.set_params(augment=None)
    net.fit(X, y)
    assert net.augment_ is None


def test_same_seed_same_predictions_and_global_rng_untouched():
    X, y = spectrograms()
    state = torch.get_rng_state()
    net = tiny_cnn(augment=SpecAugment(freq_mask=4, time_mask=4)).fit(X, y)
    assert torch.equal(state, torch.get_rng_state())  # fit seeds a forked generator
    first = net.predict_proba(X)
    second = tiny_cnn(augment=SpecAugment(freq_mask=4, time_mask=4)).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    other = tiny_cnn(random_state=1).fit(X, y).predict_proba(X)
    assert not np.allclose(first, other)


def test_no_hidden_validation_split_by_default():
    X, y = spectrograms()
    net = tiny_cnn().fit(X, y)
    assert "valid_loss" not in net.history_[-1]
    assert sum(net.history_[-1, "batches", :, "train_batch_size"]) == 24


def test_skorch_callbacks(tmp_path):
    X, y = spectrograms(n=30)
    net = tiny_cnn(
        max_epochs=30,
        lr=1e-12,  # lr=0 is refused; this one never improves either
        train_split=ValidSplit(5, stratified=True),
        callbacks=[
            ("early", EarlyStopping(patience=2)),
            (
                "plateau",
                LRScheduler(torch.optim.lr_scheduler.ReduceLROnPlateau, monitor="valid_loss"),
            ),
            ("checkpoint", Checkpoint(dirname=tmp_path)),
        ],
    ).fit(X, y)
    assert len(net.history_) < 30  # no improvement: early stopping
    assert (tmp_path / "params.pt").exists()


def test_one_cycle_schedule_peaks_at_lr():
    X, y = spectrograms()
    net = tiny_cnn(lr=0.05, max_epochs=4, callbacks=[("one_cycle", OneCycleSchedule())]).fit(X, y)
    lrs = [lr for epoch in net.history_ for lr in (b["event_lr"] for b in epoch["batches"])]
    assert len(lrs) == 4 * 3
    assert max(lrs) == pytest.approx(0.05, rel=0.05)
    assert lrs[0] < 0.05 / 10 and lrs[-1] < 0.05 / 10
    net.fit(X, y)  # a second fit schedules a fresh cycle


def _batch_lrs(net, epochs=slice(None)):
    return [b["event_lr"] for epoch in net.history_[epochs] for b in epoch["batches"]]


def test_one_cycle_schedule_goes_on_across_partial_fits():
    """Hyperband's rungs train by partial_fit: each call used to start the cycle again."""
    X, y = spectrograms()
    params = {"lr": 0.05, "max_epochs": 4, "callbacks": [("one_cycle", OneCycleSchedule())]}
    whole = _batch_lrs(tiny_cnn(**params).fit(X, y))
    net = tiny_cnn(**params)
    for epochs in (1, 2, 1):
        net.partial_fit(X, y, epochs=epochs)
    assert _batch_lrs(net) == pytest.approx(whole, rel=1e-6)
    net.partial_fit(X, y, epochs=2)  # the cycle has ended: a new one
    assert _batch_lrs(net, slice(4, None)) == pytest.approx(whole[:6], rel=1e-6)
    net.set_params(lr=0.01)  # a new optimizer: a new cycle, peaking at the new lr
    net.partial_fit(X, y, epochs=2)
    assert _batch_lrs(net, slice(6, None)) == pytest.approx([lr / 5 for lr in whole[:6]])


def test_one_cycle_schedule_clones_and_tunes():
    schedule = OneCycleSchedule(pct_start=0.2)
    assert schedule.get_params() == {"pct_start": 0.2, "div_factor": 25.0, "final_div_factor": 1e4}
    assert clone(schedule).get_params() == schedule.get_params()
    assert schedule.set_params(div_factor=10.0).div_factor == 10.0
    X = RNG.standard_normal((24, 4))
    y = (X[:, 0] > 0).astype(int)
    clf = DNNClassifier(
        module__hidden_layer_sizes=(8,),
        max_epochs=2,
        batch_size=8,
        callbacks=[("one_cycle", OneCycleSchedule())],
        random_state=0,
    )
    assert cross_val_score(clf, X, y, cv=2).shape == (2,)
    search = GridSearchCV(clf, {"callbacks__one_cycle__pct_start": [0.2, 0.4]}, cv=2).fit(X, y)
    assert dict(search.best_estimator_.callbacks_)["one_cycle"].pct_start in (0.2, 0.4)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"pct_start": np.nan}, "pct_start"),
        ({"pct_start": 0}, "pct_start"),
        ({"pct_start": 1.5}, "pct_start"),
        ({"pct_start": "x"}, "pct_start"),
        ({"div_factor": np.nan}, "div_factor"),
        ({"div_factor": 0}, "div_factor"),
        ({"div_factor": -1.0}, "div_factor"),
        ({"final_div_factor": np.inf}, "final_div_factor"),
    ],
)
def test_one_cycle_schedule_refuses_bad_values_naming_them(params, name):
    """A NaN pct_start or factor used to train to a NaN loss without an error."""
    X = RNG.standard_normal((16, 4))
    clf = DNNClassifier(
        module__hidden_layer_sizes=(4,), max_epochs=1, batch_size=8,
        callbacks=[("one_cycle", OneCycleSchedule(**params))],
    )  # fmt: skip
    with pytest.raises(ParameterError, match=rf"^DNNClassifier: OneCycleSchedule: {name}\b"):
        clf.fit(X, (X[:, 0] > 0).astype(int))


def test_verbose_prints_the_epoch_table(capsys):
    X, y = spectrograms()
    tiny_cnn(verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "epoch" in out
    tiny_cnn().fit(X, y)
    assert capsys.readouterr().out == ""


def test_warm_start_and_partial_fit_continue_training():
    X, y = spectrograms()
    net = tiny_cnn(warm_start=True).fit(X, y)
    weights = net.module_.layers[0].weight.detach().clone()
    net.fit(X, y)
    assert len(net.history_) == 4
    assert not torch.equal(weights, net.module_.layers[0].weight)
    partial = tiny_cnn(max_epochs=1)
    partial.partial_fit(X[:6], y[:6], classes=["Folk", "Hip-Hop", "Rock", "Pop"])
    partial.partial_fit(X[6:], y[6:])
    assert list(partial.classes_) == ["Folk", "Hip-Hop", "Pop", "Rock"]
    assert len(partial.history_) == 2
    with pytest.raises(ValueError, match="labels not in the first fit"):
        partial.partial_fit(X[:4], np.array(["Jazz"] * 4))
    # Other classes on a later call were ignored silently (scikit-learn's SGD refuses them).
    partial.partial_fit(X[:4], y[:4], classes=["Rock", "Pop", "Hip-Hop", "Folk"])  # the same
    with pytest.raises(ValueError, match=r"classes=\['Folk', 'Hip-Hop', 'Jazz', 'Pop', 'Rock'\]"):
        partial.partial_fit(X[:4], y[:4], classes=["Folk", "Hip-Hop", "Jazz", "Pop", "Rock"])
    with pytest.raises(ValueError, match=r"y contains labels not in classes: .*'Rock'"):
        tiny_cnn().partial_fit(X[:6], y[:6], classes=["Folk", "Hip-Hop", "Pop"])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"module": None}, "module"),
        ({"segment_length": 0}, "segment_length"),
        ({"segment_length": 8, "segment_hop": 2.5}, "segment_hop"),
        ({"segment_aggregate": "median"}, "segment_aggregate"),
        ({"augment": "specaugment"}, "augment"),
    ],
)
def test_invalid_parameters_are_named(params, match):
    X, y = spectrograms()
    with pytest.raises(ParameterError, match=match):
        tiny_cnn(**params).fit(X, y)


def test_fit_needs_y_and_two_samples():
    X, y = spectrograms()
    with pytest.raises(ValueError, match="requires y"):
        tiny_cnn().fit(X, None)
    with pytest.raises(ValueError, match="1 sample"):
        tiny_cnn().fit(X[:1], y[:1])


@pytest.mark.parametrize("multilabel", [False, True])
def test_partial_fit_priors_count_every_chunk(multilabel):
    X = RNG.standard_normal((30, 4))
    y = np.array(["a"] * 4 + ["b"] * 6 + ["a"] * 18 + ["b"] * 2)  # chunks of 10 and 20 clips
    if multilabel:
        y = np.stack([y == "a", np.arange(30) < 10], axis=1).astype(int)
        first, both = [0.4, 1.0], [22 / 30, 10 / 30]
    else:
        first, both = [0.4, 0.6], [22 / 30, 8 / 30]
    net = tiny_mlp(max_epochs=1)
    net.partial_fit(X[:10], y[:10], classes=None if multilabel else ["a", "b"])
    np.testing.assert_allclose(net.class_prior_, first)
    net.partial_fit(X[10:], y[10:])
    np.testing.assert_allclose(net.class_prior_, both)
    net.fit(X[10:], y[10:])  # a fresh fit restarts the counts
    np.testing.assert_allclose(
        net.class_prior_, np.asarray(y[10:], dtype=float).mean(0) if multilabel else [0.9, 0.1]
    )


def test_a_last_batch_of_one_is_dropped_for_batch_norm():
    X, y = spectrograms(n=18)
    net = tiny_cnn(batch_size=17, max_epochs=1).fit(X, y)
    assert net.history_[-1, "train_batch_count"] == 1


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA])
def test_missing_labels_are_named(missing):
    X, y = spectrograms()
    y[3] = missing
    with pytest.raises(ValueError, match="y contains missing labels"):
        tiny_cnn().fit(X, y)
    with pytest.raises(ValueError, match="y contains missing labels"):
        tiny_cnn().fit(X, pd.Series(y, dtype="string"))  # pandas' NA: a TypeError comparing it


def test_a_single_class_is_refused():
    X, y = spectrograms()
    with pytest.raises(ValueError, match="at least 2 classes in y"):
        tiny_cnn().fit(X, np.full(len(X), "Rock"))
    with pytest.raises(ValueError, match="at least 2 classes"):
        tiny_cnn().partial_fit(X, np.full(len(X), "Rock"), classes=["Rock"])
    tiny_cnn(max_epochs=1).partial_fit(X[:6], np.full(6, "Rock"), classes=["Rock", "Folk"])


class _OrderRecorder(torch.nn.Module):
    """A linear classifier that records the first feature of every training example it sees."""

    def __init__(self, *, input_shape=(2,), n_classes=2):
        super().__init__()
        self.linear = torch.nn.Linear(input_shape[0], n_classes)
        self.seen = []

    def forward(self, x):
        if self.training:
            self.seen.extend(x[:, 0].tolist())
        return self.linear(x)


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_continued_training_draws_new_shuffles_reproducibly(how):
    """Each partial_fit chunk (or warm fit) continues torch's generator: no repeated order."""
    X = np.column_stack([np.arange(16), np.zeros(16)]).astype(np.float32)
    y = np.arange(16) % 2

    def two_calls():
        net = NeuralClassifier(
            module=_OrderRecorder, max_epochs=1, batch_size=4, random_state=0,
            warm_start=how == "warm_start",
        )  # fmt: skip
        train = net.partial_fit if how == "partial_fit" else net.fit
        train(X, y)
        train(X, y)
        return net.module_.seen

    orders = two_calls()
    first, second = orders[:16], orders[16:]
    assert sorted(first) == sorted(second) == list(range(16))
    assert first != second  # the second call shuffles anew (it used to repeat the first)
    assert two_calls() == orders  # and the whole sequence follows random_state


def test_training_and_prediction_keep_freed_memory_for_the_next_batch():
    """fit, partial_fit and predict run inside reuse_freed_memory, closed when they return."""
    from skorch.callbacks import Callback

    from skfma import _memory

    if _memory._mallopt() is None:
        pytest.skip("the C library has no mallopt (not glibc)")
    depths = []

    class RecordDepth(Callback):
        def on_batch_begin(self, net, **kwargs):
            depths.append(_memory._reuse_depth)

    X, y = spectrograms()
    net = tiny_cnn(max_epochs=1, callbacks=[("depth", RecordDepth())]).fit(X, y)
    net.partial_fit(X, y)
    assert depths and min(depths) >= 1
    assert _memory._reuse_depth == 0
    original = net.module_.forward
    net.module_.forward = lambda x: (depths.append(-_memory._reuse_depth), original(x))[1]
    net.predict(X)
    assert depths[-1] <= -1 and _memory._reuse_depth == 0


@pytest.mark.parametrize(
    "y",
    [
        np.array([1, "a", 2.5] * 4, dtype=object),
        np.array([1, "a"] * 6, dtype=object),
        pd.Series([1, "a", 2.5] * 4),
    ],
    ids=["object-array", "int-and-str", "pandas-series"],
)
def test_mixed_type_labels_are_named_with_their_types(y):
    X = RNG.standard_normal((12, 5)).astype(np.float32)
    with pytest.raises(
        ValueError, match=r"^y mixes labels of types .*int.*str.*all strings or all"
    ):
        tiny_mlp(max_epochs=1).fit(X, y)


def test_mixed_type_classes_of_partial_fit_are_named():
    X = RNG.standard_normal((6, 5)).astype(np.float32)
    with pytest.raises(ValueError, match=r"^classes mixes labels of types int, str"):
        tiny_mlp().partial_fit(X, [0, 1] * 3, classes=np.array([0, "a", 1], dtype=object))


@pytest.mark.parametrize("lr", [1e300, 1e39, 1e4, np.float64(1e300)])
def test_learning_rates_beyond_the_bound_are_named(lr):
    X = RNG.standard_normal((6, 5)).astype(np.float32)
    with pytest.raises(ParameterError, match=r"^NeuralClassifier: lr must be at most 1000"):
        tiny_mlp(lr=lr).fit(X, [0, 1] * 3)
    tiny_mlp(lr=1e3, max_epochs=1).fit(X, [0, 1] * 3)  # the bound itself is accepted


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: tiny_mlp(module__hidden_layer_sizes=(2**31 - 1,)), "hidden_layer_sizes"),
        (lambda: tiny_mlp(module__hidden_layer_sizes=(2**20, 2**20)), "hidden_layer_sizes"),
        (lambda: tiny_cnn(module__filters=(2**31 - 1,)), "filters"),
        (lambda: DNNClassifier(module__hidden_layer_sizes=(2**31 - 1,)), "hidden_layer_sizes"),
    ],
    ids=["dnn-int32-max", "dnn-2-layers-of-2**20", "cnn-int32-max", "dnn-classifier"],
)
def test_layer_sizes_that_memory_cannot_hold_are_named_before_torch_allocates(make, name):
    net = make()
    X = RNG.standard_normal((6, 4, 8)).astype(np.float32)
    if net.module is DNNModule:
        X = X.reshape(6, -1)
    with pytest.raises(
        ParameterError,
        match=rf"^{type(net).__name__}: module '\w+' with .*module__{name}=.*GiB of memory",
    ):
        net.fit(X, [0, 1] * 3)


def test_activations_that_memory_cannot_hold_are_named_before_torch_allocates(monkeypatch):
    """Weights that fit, but a training batch's activations (counted on torch's meta device)
    that do not: refused naming batch_size, before anything is allocated."""
    import skfma.models._neural as neural

    monkeypatch.setattr(neural, "_device_memory", lambda device: 2**30)  # a 1 GiB device
    X = RNG.standard_normal((6, 64, 64)).astype(np.float32)
    # 16 windows x 8,192 maps of 64 x 64 in float32: 2 GiB for the first convolution alone.
    wide = tiny_cnn(module__filters=(8192,), batch_size=16)
    with pytest.raises(
        ParameterError,
        match=r"^NeuralClassifier: module '\w+' with module__filters=\(8192,\).* and "
        r"batch_size=16 would keep [\d.]+ GiB of activations .*lower batch_size",
    ):
        wide.fit(X, [0, 1] * 3)
    # One window a batch fits: 128 MiB for each of its first layers' outputs.
    small = tiny_cnn(module__filters=(8192,), batch_size=1, max_epochs=0)
    small.fit(X, [0, 1] * 3)


def test_in_place_layers_add_no_activation_memory():
    from skfma.models._neural import _activation_bytes

    def built(inplace):
        with torch.device("meta"):
            return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(inplace=inplace))

    linear = 4 * 16 * 4  # a batch of 4 rows of 16 float32 outputs
    assert _activation_bytes(built(False), (4, 8)) == 2 * linear
    assert _activation_bytes(built(True), (4, 8)) == linear
