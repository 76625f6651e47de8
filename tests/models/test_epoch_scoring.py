"""Per-epoch scores: skorch's EpochScoring on NeuralClassifier scores clips and their labels."""

import numpy as np
import pytest
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from skorch.callbacks import EpochScoring
from skorch.dataset import ValidSplit

from skfma.exceptions import ParameterError
from skfma.models import NeuralClassifier
from skfma.nn import DNNModule, KostrzewaCNNModule

SCORERS = ("accuracy", "balanced_accuracy", "f1_macro", "neg_log_loss")


def features(labels):
    """60 clips of 6 features whose first feature tells the label of each (two labels)."""
    X = np.random.default_rng(0).standard_normal((60, 6))
    return X, np.where(X[:, 0] > 0, labels[1], labels[0])


def spectrograms():
    """30 clips of 8 bins x 40 frames, three genres, each brightening a band."""
    X = np.random.default_rng(0).standard_normal((30, 8, 40))
    y = np.array(["Rock", "Folk", "Hip-Hop"] * 10, dtype=object)
    for k, genre in enumerate(["Rock", "Folk", "Hip-Hop"]):
        X[y == genre, 2 * k : 2 * k + 2, :] += 2.0
    return X, y


def scoring_callbacks():
    return [
        (f"{prefix}_{name}", EpochScoring(name, on_train=on_train, name=f"{prefix}_{name}"))
        for name in SCORERS
        for prefix, on_train in (("train", True), ("valid", False))
    ]


def first_fold(X, y, n_splits):
    """Training and validation clips of skorch's ``ValidSplit(n_splits, stratified=True)``."""
    return next(StratifiedKFold(n_splits).split(X, y))


def check_scores(net, X, y, n_splits, scorers=SCORERS):
    """The last epoch's scores are those of the fitted net on its training and validation clips."""
    train, valid = first_fold(X, y, n_splits)
    for name in scorers:
        for prefix, rows in (("train", train), ("valid", valid)):
            expected = get_scorer(name)(net, X[rows], y[rows])
            assert net.history_[-1, f"{prefix}_{name}"] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "labels",
    [("quiet", "loud"), (3, 7), np.array(["quiet", "loud"], dtype=object)],
    ids=["str", "int", "object"],
)
def test_epoch_scoring_scores_the_labels_on_train_and_valid(labels):
    X, y = features(labels)
    net = NeuralClassifier(
        module=DNNModule,
        module__hidden_layer_sizes=(16,),
        lr=1e-2,
        max_epochs=8,
        batch_size=8,
        train_split=ValidSplit(4, stratified=True),
        callbacks=scoring_callbacks(),
        random_state=0,
    ).fit(X, y)
    check_scores(net, X, y, 4)
    assert net.history_[-1, "valid_accuracy"] > 0.8  # not 0 (labels against codes)
    # The default validation accuracy is shown too.
    assert net.history_[-1, "valid_acc"] == net.history_[-1, "valid_accuracy"]


def test_epoch_scoring_scores_clips_with_segments():
    X, y = spectrograms()
    net = NeuralClassifier(
        module=KostrzewaCNNModule,
        module__filters=(4, 8),
        module__kernel_size=3,
        segment_length=16,
        segment_hop=8,
        lr=1e-2,
        max_epochs=3,
        batch_size=16,
        train_split=ValidSplit(5, stratified=True),
        callbacks=scoring_callbacks(),
        random_state=0,
    ).fit(X, y)
    # Clip-level: predict aggregates a clip's 4 windows, and 6 validation clips are scored.
    check_scores(net, X, y, 5)
    _, valid = first_fold(X, y, 5)
    assert net.history_[-1, "valid_acc"] == pytest.approx(net.score(X[valid], y[valid]))
    assert net.history_[-1, "valid_batch_count"] == 2  # but the loss is on 6 x 4 windows


def test_multilabel_scores_roc_auc():
    X = np.random.default_rng(0).standard_normal((80, 5))
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 1] > 0.5], axis=1).astype(int)
    net = NeuralClassifier(
        module=DNNModule,
        module__hidden_layer_sizes=(16,),
        lr=1e-2,
        max_epochs=5,
        batch_size=8,
        train_split=ValidSplit(4),
        callbacks=[
            ("train_roc_auc", EpochScoring("roc_auc", on_train=True, name="train_roc_auc")),
            ("roc_auc", EpochScoring("roc_auc", lower_is_better=False)),
        ],
        random_state=0,
    ).fit(X, Y)
    history = net.history_[-1]
    assert "valid_acc" not in history
    # ValidSplit(4) without stratification holds out the first 20 clips.
    expected = roc_auc_score(Y[:20], net.predict_proba(X[:20]))
    assert history["valid_roc_auc"] == pytest.approx(expected, rel=1e-6)
    assert history["roc_auc"] == pytest.approx(expected, rel=1e-6)
    expected = roc_auc_score(Y[20:], net.predict_proba(X[20:]))
    assert history["train_roc_auc"] == pytest.approx(expected, rel=1e-6)


def test_default_roc_auc_skips_tags_the_validation_clips_lack():
    X = np.random.default_rng(0).standard_normal((40, 5))
    Y = np.stack([X[:, 0] > 0, np.arange(40) >= 10], axis=1).astype(int)  # tag 1: no valid clip
    net = NeuralClassifier(
        module=DNNModule, max_epochs=2, train_split=ValidSplit(4), random_state=0
    ).fit(X, Y)
    expected = roc_auc_score(Y[:10, 0], net.predict_proba(X[:10])[:, 0])
    assert net.history_[-1, "valid_roc_auc"] == pytest.approx(expected, rel=1e-6)


def test_valid_acc_only_with_a_validation_split(capsys):
    X, y = features(("a", "b"))
    net = NeuralClassifier(module=DNNModule, max_epochs=2, random_state=0, verbose=1).fit(X, y)
    assert "valid_acc" not in net.history_[-1]
    net.set_params(train_split=ValidSplit(4)).fit(X, y)
    assert "valid_acc" in net.history_[-1]
    assert "valid_acc" in capsys.readouterr().out


def test_caching_is_refused():
    X, y = features(("a", "b"))
    with pytest.raises(ParameterError, match="NeuralClassifier: use_caching must be False"):
        NeuralClassifier(module=DNNModule, use_caching=True).fit(X, y)
