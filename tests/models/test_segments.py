"""Windows of clips: where they start, exactly N tiles per clip, and per-window predictions."""

import numpy as np
import pytest

from skfma.exceptions import ParameterError
from skfma.models import NeuralClassifier
from skfma.models._segments import window_starts
from skfma.nn import DNNModule, KostrzewaCNNModule


@pytest.mark.parametrize(
    ("n_frames", "kwargs", "expected"),
    [
        (32, {}, [0, 8, 16, 24]),
        (35, {"hop": 4}, [0, 4, 8, 12, 16, 20, 24]),
        (5, {"hop": 2}, [0]),  # shorter than a window: one, padded
        (1292, {"n_segments": 3}, [0, 582, 1164]),  # 128-frame tiles over a 30 s log-mel
        (384, {"n_segments": 3}, [0, 128, 256]),
        (200, {"n_segments": 4}, [0, 24, 48, 72]),  # overlapping when they must
        (200, {"n_segments": 1}, [0]),
        (100, {"n_segments": 2}, [0, 0]),  # shorter than a window: padded copies
    ],
)
def test_window_starts(n_frames, kwargs, expected):
    length = 8 if "n_segments" not in kwargs else 128
    assert window_starts(n_frames, length, **kwargs) == expected
    if "n_segments" in kwargs and n_frames >= length:
        assert expected[-1] + length == n_frames or len(expected) == 1  # the last ends at the end


def test_exactly_n_tiles_per_clip_and_per_tile_predictions():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 8, 50)).astype(np.float32)
    y = np.array(["a", "b", "c"] * 4)
    X[y == "b"] += 1.0
    net = NeuralClassifier(
        module=KostrzewaCNNModule,
        module__filters=(4,),
        module__kernel_size=3,
        segment_length=16,
        n_segments=3,
        max_epochs=2,
        batch_size=8,
        random_state=0,
    ).fit(X, y)
    assert sum(net.history_[-1, "batches", :, "train_batch_size"]) == 36  # 3 tiles x 12 clips
    tiles = net.predict_segments(X)
    assert tiles.shape == (12, 3) and set(tiles.ravel()) <= {"a", "b", "c"}
    assert net.score_segments(X, y) == pytest.approx(np.mean(tiles == y[:, None]))
    # A column of labels is the same labels; a wrong count is named (both broadcast silently).
    assert net.score_segments(X, y[:, None]) == net.score_segments(X, y)
    with pytest.raises(ValueError, match="y has 1 labels for the 12 clips of X"):
        net.score_segments(X, y[:1])
    # A tile's prediction is the net's prediction of that tile alone.
    alone = net.set_params(n_segments=None).predict(X[:, :, 34:50])
    np.testing.assert_array_equal(tiles[:, 2], alone)
    with pytest.raises(ParameterError, match="segment_hop or n_segments"):
        net.set_params(segment_hop=4, n_segments=3).predict(X)


def test_predict_segments_without_segments_is_one_window_per_clip():
    X = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    net = NeuralClassifier(
        module=DNNModule,
        module__hidden_layer_sizes=(4,),
        max_epochs=1,
        random_state=0,
    ).fit(X, [0, 1] * 3)
    np.testing.assert_array_equal(net.predict_segments(X)[:, 0], net.predict(X))
