"""Training batches of one example: batch norm's torch error becomes a ParameterError naming why."""

import numpy as np
import pytest
from skorch.dataset import ValidSplit

from skfma.exceptions import ParameterError
from skfma.models import DNNClassifier, NeuralClassifier
from skfma.nn import DNNModule, KostrzewaCNNModule


def features(n=10):
    X = np.random.default_rng(0).standard_normal((n, 5)).astype(np.float32)
    return X, np.arange(n) % 2


def dense_net(**params):
    """A net whose batch norm sees one value per channel in a batch of one example."""
    defaults = {"module": DNNModule, "module__hidden_layer_sizes": (4,), "max_epochs": 1}
    return NeuralClassifier(**{**defaults, **params})


@pytest.mark.parametrize("name", ["batch_size", "iterator_train__batch_size"])
def test_batch_size_one_is_named(name):
    with pytest.raises(ParameterError, match=rf"^NeuralClassifier: {name}=1 makes .*{name} >= 2"):
        dense_net(**{name: 1}).fit(*features())


def test_split_leaving_one_training_clip_is_named():
    net = dense_net(train_split=ValidSplit(0.9), batch_size=4)
    with pytest.raises(ParameterError, match=r"train_split=ValidSplit\(cv=0.9\) leaves one"):
        net.fit(*features())
    with pytest.raises(ParameterError, match="train_split"):
        net.partial_fit(*features())


def test_estimator_name_and_other_errors_kept():
    X, y = features()
    with pytest.raises(ParameterError, match=r"^DNNClassifier: batch_size=1"):
        DNNClassifier(module__hidden_layer_sizes=(4,), batch_size=1, max_epochs=1).fit(X, y)
    # A ValueError of another kind is not rewritten.
    with pytest.raises(ValueError, match="needs at least 2 training samples"):
        dense_net().fit(X[:1], y[:1])


def test_batches_of_one_train_where_batch_norm_has_values_to_normalise():
    # BatchNorm2d normalises over frequency and time too: one spectrogram is enough.
    X = np.random.default_rng(0).standard_normal((6, 8, 16)).astype(np.float32)
    y = np.arange(6) % 2
    net = NeuralClassifier(
        module=KostrzewaCNNModule,
        module__filters=(4,),
        module__kernel_size=3,
        max_epochs=1,
        batch_size=1,
        train_split=ValidSplit(6),
        random_state=0,
    ).fit(X, y)
    assert net.history_[-1, "batches", 0, "train_batch_size"] == 1
    assert net.predict(X).shape == (6,)


def test_last_batch_of_one_is_still_dropped():
    net = dense_net(batch_size=3, random_state=0).fit(*features())  # 10 = 3 + 3 + 3 + 1
    assert [batch["train_batch_size"] for batch in net.history_[-1, "batches"]] == [3, 3, 3]
