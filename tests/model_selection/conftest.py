"""Fixtures of the search tests: a tiny problem that a linear model cannot solve, and an epoch log.

The problem is two concentric circles (120 points, 2-D): a net with a hidden
layer learns it to 0.9+ accuracy in 9 to 27 epochs at a learning rate of
1e-2, while a linear model (``module__hidden_layer_sizes=()``) cannot beat
about 0.67, the best a half-plane does on concentric circles, however it is
trained. The gap between the two is the "clear margin" the tests ask of a
search.

Both searches' tests also share toy genre spectrograms, a tiny version of
every skfma net (``tiny_net``, parametrised over by ``net_name``) and the
comparison of two searches' results (``same_results``).
"""

import itertools

import numpy as np
import pytest
from sklearn.datasets import make_circles
from skorch.callbacks import Callback

#: Twelve configurations: three learning rates, linear or one hidden layer, two dropouts.
SPACE = {
    "lr": [3e-2, 1e-2, 1e-3],
    "module__hidden_layer_sizes": [(), (32,)],
    "module__dropout": [0.0, 0.2],
}
N_GRID = 12

#: A search counts as clearly better than the worst configuration when its best
#: cross-validated accuracy is this far above the linear model's: at most about 0.67
#: on the circles against 0.9+ for a trained hidden layer.
MARGIN = 0.25


#: The tiny nets of ``tiny_net`` (every skfma net).
NET_NAMES = [
    "NeuralClassifier",
    "DNNClassifier",
    "KostrzewaCNN",
    "UNetEncoderCNN",
    "ChoiCRNN",
    "ZhangResNet",
]


@pytest.fixture(scope="session")
def circles():
    X, y = make_circles(120, noise=0.1, factor=0.4, random_state=0)
    return X.astype(np.float32), y


@pytest.fixture
def genre_spectrograms():
    """48 spectrograms (8 bands, 16 frames), "rock" or "jazz"; rock has louder low bands."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((48, 8, 16)).astype(np.float32)
    y = np.repeat(["rock", "jazz"], 24)
    X[y == "rock", :3] += 1.5  # louder low bands
    return X, y


def _same_results(a, b):
    """Assert that two fitted searches tried the same configurations with the same scores."""
    assert a.cv_results_["params"] == b.cv_results_["params"]
    for split in range(a.n_splits_):
        key = f"split{split}_test_score"
        np.testing.assert_array_equal(a.cv_results_[key], b.cv_results_[key])
    assert ("n_epochs" in a.cv_results_) == ("n_epochs" in b.cv_results_)
    if "n_epochs" in a.cv_results_:
        np.testing.assert_array_equal(a.cv_results_["n_epochs"], b.cv_results_["n_epochs"])
    assert a.best_params_ == b.best_params_


@pytest.fixture(scope="session")
def same_results():
    """``same_results(a, b)``: assert that two fitted searches have the same results.

    The same configurations, split scores, epochs reached (when recorded) and best parameters.
    """
    return _same_results


_keys = itertools.count()


class EpochLog(Callback):
    """Log ``(net key, epochs in history)`` at the end of every epoch of every net.

    A net gets a new key whenever its callbacks are initialised, that is when it
    is (re)built from scratch; a net continued by ``partial_fit`` keeps its key.
    Entries go to ``EpochLog.entries``, shared by every clone (in this process).
    """

    entries = []

    def initialize(self):
        self.key_ = next(_keys)
        return self

    def on_epoch_end(self, net, **kwargs):
        EpochLog.entries.append((self.key_, len(net.history)))


class _Log:
    """What the tests use of the log: a callback to give nets, and the epochs per net."""

    callback = EpochLog

    @property
    def entries(self):
        return list(EpochLog.entries)

    def by_net(self, exclude=()):
        """Net key -> the epoch counts logged for it, in order."""
        nets = {}
        for key, epoch in EpochLog.entries:
            if key not in exclude:
                nets.setdefault(key, []).append(epoch)
        return nets

    @staticmethod
    def key(net):
        """The log key of a fitted net (its refit, say)."""
        return dict(net.callbacks_)["log"].key_


@pytest.fixture(scope="module")
def epoch_log():
    """Log every epoch of every net given ``("log", epoch_log.callback())``; cleared per module."""
    EpochLog.entries.clear()
    yield _Log()
    EpochLog.entries.clear()


@pytest.fixture(scope="session")
def space():
    """A copy of the twelve-configuration space: ``(param_distributions, n_configurations)``."""
    return dict(SPACE), N_GRID


@pytest.fixture(scope="session")
def margin():
    return MARGIN


@pytest.fixture(scope="session")
def dask_client():
    """A Dask client of a two-process LocalCluster, its workers single-threaded like these tests.

    Shared by the tests that run a search under ``joblib.parallel_config(backend="dask")``:
    starting the cluster and importing torch in its workers takes longer than a search.
    """
    distributed = pytest.importorskip("distributed")
    import torch

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(torch.set_num_threads, 1)
        yield client


@pytest.fixture(scope="session")
def tiny_net():
    """``tiny_net(name)``: a tiny, fast version of the skfma net ``name`` and 24 clips it takes.

    Spectrograms (24, 8, 32) for the CNNs, 64-sample waveforms (or features) for the others.
    """
    from skfma.models import (
        ChoiCRNN,
        DNNClassifier,
        KostrzewaCNN,
        NeuralClassifier,
        UNetEncoderCNN,
        ZhangResNet,
    )
    from skfma.nn import DNNModule

    rng = np.random.default_rng(0)
    spectrograms = rng.standard_normal((24, 8, 32)).astype(np.float32)
    waveforms = rng.standard_normal((24, 64)).astype(np.float32)
    fast = {"batch_size": 8, "random_state": 0}
    nets = {
        "NeuralClassifier": (
            NeuralClassifier(module=DNNModule, module__hidden_layer_sizes=(8,), **fast),
            waveforms,
        ),
        "DNNClassifier": (DNNClassifier(module__hidden_layer_sizes=(8,), **fast), waveforms),
        "KostrzewaCNN": (
            KostrzewaCNN(module__filters=(4, 8), module__kernel_size=3, **fast),
            spectrograms,
        ),
        "UNetEncoderCNN": (
            UNetEncoderCNN(module__filters=(4, 8), segment_length=None, **fast),
            spectrograms,
        ),
        "ChoiCRNN": (
            ChoiCRNN(
                module__filters=(4, 8),
                module__pool_sizes=((2, 2),) * 2,
                module__gru_units=8,
                **fast,
            ),
            spectrograms,
        ),
        "ZhangResNet": (
            ZhangResNet(
                module__input="both",
                module__n_fft=16,
                module__filters=8,
                module__dense_units=(8, 8),
                **fast,
            ),
            waveforms,
        ),
    }

    def make(name):
        from sklearn.base import clone

        net, X = nets[name]
        return clone(net), X

    return make


@pytest.fixture(params=NET_NAMES)
def net_name(request):
    """The name of each skfma net in turn (a test taking it runs once per net), for ``tiny_net``."""
    return request.param
