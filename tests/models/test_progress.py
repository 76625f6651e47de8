"""TrainingSpeed: clips per second and time left, in the history and the epoch table."""

import pickle

import numpy as np
from sklearn.base import clone
from skorch.dataset import ValidSplit

from skfma.models import NeuralClassifier, TrainingSpeed
from skfma.nn import DNNModule

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 5)).astype(np.float32)
Y = np.where(X[:, 0] > 0, "loud", "quiet")


def tiny_mlp(**params):
    defaults = {
        "module": DNNModule,
        "module__hidden_layer_sizes": (8,),
        "max_epochs": 4,
        "batch_size": 8,
        "random_state": 0,
        "callbacks": [("speed", TrainingSpeed())],
    }
    return NeuralClassifier(**{**defaults, **params})


def test_every_epoch_records_clips_per_second_and_time_left():
    net = tiny_mlp().fit(X, Y)
    speeds = net.history_[:, "clips_per_s"]
    left = net.history_[:, "time_left"]
    assert len(speeds) == len(left) == 4
    assert all(np.isfinite(speed) and speed > 0 for speed in speeds)
    assert all(seconds > 0 for seconds in left[:-1]) and left[-1] == 0.0
    # The first estimate is three epochs of the first epoch's time, callbacks included:
    # at least three of skorch's ``dur`` (timed inside the epoch).
    assert left[0] >= 3 * net.history_[0, "dur"]


def test_clips_per_second_counts_the_training_clips_only():
    """Held-out clips are not trained on: the rate is of the clips the epoch trained."""
    net = tiny_mlp(max_epochs=1, train_split=ValidSplit(4)).fit(X, Y)
    batches = net.history_[-1, "batches"]
    trained = sum(batch["train_batch_size"] for batch in batches if "train_batch_size" in batch)
    assert trained == 30  # 40 clips, a quarter held out
    speed = net.history_[-1, "clips_per_s"]
    assert speed > 0
    # 30 clips at that rate take no longer than the whole epoch.
    assert 30 / speed <= net.history_[-1, "dur"] + 1e-3


def test_windows_count_as_their_clip():
    """With segments, an epoch trains several windows per clip: the rate stays in clips."""
    spectrograms = RNG.standard_normal((16, 4, 12)).astype(np.float32)
    net = tiny_mlp(max_epochs=1, segment_length=4, batch_size=16)
    net.fit(spectrograms, Y[:16])
    batches = net.history_[-1, "batches"]
    assert sum(batch["train_batch_size"] for batch in batches) == 48  # 3 windows per clip
    assert 16 / net.history_[-1, "clips_per_s"] <= net.history_[-1, "dur"] + 1e-3


def test_the_epoch_table_shows_both_from_the_first_epoch(capsys):
    tiny_mlp(max_epochs=2, verbose=1).fit(X, Y)
    header, _, first, *_ = capsys.readouterr().out.splitlines()
    assert "clips_per_s" in header.split() and "time_left" in header.split()
    assert len(first.split()) == len(header.split())  # every column filled


def test_partial_fit_estimates_each_call_on_its_own():
    net = tiny_mlp(max_epochs=2).fit(X, Y)
    net.partial_fit(X, Y)
    assert net.history_[:, "time_left"][2] > 0  # first epoch of the second call
    assert net.history_[:, "time_left"][3] == 0.0


def test_a_clone_records_too():
    net = clone(tiny_mlp(max_epochs=1)).fit(X, Y)
    assert {"clips_per_s", "time_left"} <= set(net.history_[-1])


def test_a_resumed_fit_counts_the_epochs_its_history_lacks(tmp_path):
    tiny_mlp(max_epochs=2, checkpoint=tmp_path).fit(X, Y)
    resumed = tiny_mlp(max_epochs=3, checkpoint=tmp_path).fit(X, Y)
    assert len(resumed.history_) == 3  # epochs 1-2 restored, epoch 3 trained
    # One epoch trained, none left (not max_epochs less the one epoch of this process).
    assert resumed.history_[-1, "time_left"] == 0.0
    assert resumed.history_[-1, "clips_per_s"] > 0


def test_the_clocks_stay_in_their_process():
    """A pickled callback (in a checkpoint, a pickled net) starts its clocks afresh."""
    speed = tiny_mlp(max_epochs=1).fit(X, Y).callbacks_[-2][1]
    assert isinstance(speed, TrainingSpeed) and hasattr(speed, "fit_start_")
    assert not hasattr(pickle.loads(pickle.dumps(speed)), "fit_start_")


def test_a_partial_fit_of_k_epochs_estimates_k():
    """The searches train k epochs a call: the estimate counts those, not max_epochs."""
    net = tiny_mlp(max_epochs=1).fit(X, Y)
    net.partial_fit(X, Y, epochs=3)
    assert net.epochs_in_call_ == 3
    time_left = net.history_[:, "time_left"][1:]
    assert time_left[0] > 0 and time_left[1] > 0 and time_left[2] == 0.0
