"""With segments, the validation loss is each clip's, from its aggregated window probabilities."""

import numpy as np
import pytest
from torch.utils.data import Subset

from skfma.models import NeuralClassifier
from skfma.nn import DNNModule

N_CLIPS, N_SAMPLES = 30, 40
VALID = np.arange(20, 30)


def hold_out_last_ten(dataset, y=None):
    """A train_split that validates on clips 20-29 (so the test knows which they are)."""
    return Subset(dataset, np.arange(20)), Subset(dataset, VALID)


def clips_and_labels(multilabel):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_CLIPS, N_SAMPLES)).astype(np.float32)
    loud = X[:, :20].mean(axis=1) > 0
    if multilabel:
        return X, np.column_stack([loud, ~loud, X[:, 20:].mean(axis=1) > 0]).astype(int)
    return X, np.where(loud, "loud", "quiet")


def segmented_net(aggregate, segment_length=16, **kwargs):
    return NeuralClassifier(
        module=DNNModule,
        module__hidden_layer_sizes=(8,),
        segment_length=segment_length,
        segment_hop=8,
        segment_aggregate=aggregate,
        train_split=hold_out_last_ten,
        max_epochs=2,
        batch_size=7,
        random_state=0,
        **kwargs,
    )


def clip_cross_entropy(net, X, y):
    """The cross-entropy of the validation clips' predicted probabilities, by hand."""
    proba = net.predict_proba(X[VALID]).astype(np.float64)
    proba /= proba.sum(axis=1, keepdims=True)  # sum: scores up to 3 windows; max: unnormalised
    codes = np.searchsorted(net.classes_, y[VALID])
    return -np.mean(np.log(proba[np.arange(len(VALID)), codes]))


@pytest.mark.parametrize("aggregate", ["sum", "mean", "max"])
def test_validation_loss_is_the_cross_entropy_of_each_clips_prediction(aggregate):
    X, y = clips_and_labels(multilabel=False)
    net = segmented_net(aggregate).fit(X, y)
    expected = clip_cross_entropy(net, X, y)
    # float32 probabilities of order 0.5: a few ulps of relative error in each log
    assert net.history_[-1, "valid_loss"] == pytest.approx(expected, rel=1e-5)
    # clips, not windows, are counted: 10 validation clips of 3 windows in batches of 7 windows
    assert sum(net.history_[-1, "batches", :, "valid_batch_size"]) == len(VALID)


def test_validation_loss_of_tags_is_the_binary_cross_entropy_of_each_clips_prediction():
    X, Y = clips_and_labels(multilabel=True)
    net = segmented_net("mean").fit(X, Y)
    proba = net.predict_proba(X[VALID]).astype(np.float64)
    truth = Y[VALID]
    expected = -np.mean(truth * np.log(proba) + (1 - truth) * np.log1p(-proba))
    assert net.history_[-1, "valid_loss"] == pytest.approx(expected, rel=1e-5)


def test_validation_loss_without_segments_is_skorchs():
    X, y = clips_and_labels(multilabel=False)
    net = NeuralClassifier(
        module=DNNModule,
        module__hidden_layer_sizes=(8,),
        train_split=hold_out_last_ten,
        max_epochs=1,
        random_state=0,
    ).fit(X, y)
    expected = clip_cross_entropy(net, X, y)
    assert net.history_[-1, "valid_loss"] == pytest.approx(expected, rel=1e-5)


def test_a_clip_shorter_than_a_window_is_padded_for_validation_as_for_prediction():
    X, y = clips_and_labels(multilabel=False)
    net = segmented_net("mean", segment_length=64).fit(X, y)  # 40 samples < 64
    expected = clip_cross_entropy(net, X, y)
    assert net.history_[-1, "valid_loss"] == pytest.approx(expected, rel=1e-5)


def test_batch_size_minus_one_validates_every_clip_in_one_batch():
    X, y = clips_and_labels(multilabel=False)
    net = segmented_net("mean", iterator_valid__batch_size=-1).fit(X, y)
    assert net.history_[-1, "batches", :, "valid_batch_size"] == [len(VALID)]
