"""The three published nets learn genres inside audio pipelines and tune with GridSearchCV."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfma import KostrzewaCNN, TemporalStatistics
from skfma.models import DNNClassifier, UNetEncoderCNN
from skfma.nn import DNNModule, KostrzewaCNNModule, UNetEncoderCNNModule

#: Small nets: each learns the 4-genre task in a few CPU seconds.
NETS = {
    "dnn": lambda: DNNClassifier(
        module__hidden_layer_sizes=(32,), lr=1e-2, max_epochs=10, batch_size=8, random_state=0
    ),
    "kostrzewa": lambda: KostrzewaCNN(
        module__filters=(8, 8, 16, 16),
        module__kernel_size=3,
        max_epochs=5,
        batch_size=8,
        random_state=0,
    ),
    "unet": lambda: UNetEncoderCNN(
        module__filters=(8, 8, 16, 16),
        segment_length=32,
        segment_hop=16,
        lr=1e-2,
        max_epochs=5,
        batch_size=16,
        random_state=0,
    ),
}


def make_net_pipeline(name, front_end):
    steps = front_end()
    if name == "dnn":
        steps += [TemporalStatistics(), StandardScaler()]
    return make_pipeline(*steps, NETS[name]())


@pytest.mark.parametrize("name", sorted(NETS))
def test_learns_genres_from_audio_files(name, genre_files, front_end):
    (paths_train, y_train), (paths_test, y_test) = genre_files
    pipe = make_net_pipeline(name, front_end).fit(paths_train, y_train)
    # 4 balanced genres: chance is 0.25.
    assert pipe.score(paths_test, y_test) >= 0.75
    assert set(pipe.predict(paths_test)) <= set(y_train)
    net = pipe[-1]
    assert list(net.classes_) == sorted(set(y_train))
    assert len(net.history_) == net.max_epochs


def test_defaults_and_modules():
    assert DNNClassifier().module is DNNModule
    assert (DNNClassifier().lr, DNNClassifier().batch_size) == (1e-4, 32)
    assert KostrzewaCNN().module is KostrzewaCNNModule
    unet = UNetEncoderCNN()
    assert unet.module is UNetEncoderCNNModule
    assert (unet.batch_size, unet.segment_length) == (42, 128)
    assert "one_cycle" in dict(unet.get_default_callbacks())
    assert KostrzewaCNN().train_split is None


def test_kostrzewa_builds_the_reference_net_for_128x128_mels():
    X = np.random.default_rng(0).standard_normal((16, 128, 128)).astype(np.float32)
    y = np.arange(16) % 8
    net = KostrzewaCNN(max_epochs=1, batch_size=8, random_state=0).fit(X, y)
    assert sum(p.numel() for p in net.module_.parameters()) == 735_944


def test_grid_search_over_lr_and_a_module_parameter(mel_data):
    (X_train, y_train), _ = mel_data
    net = KostrzewaCNN(module__filters=(4, 8), module__kernel_size=3, max_epochs=2, random_state=0)
    grid = {"lr": [1e-3, 1e-2], "module__kernel_size": [3, 5]}
    search = GridSearchCV(net, grid, cv=2).fit(X_train, y_train)
    assert len(search.cv_results_["params"]) == 4
    assert (
        search.best_estimator_.module_.layers[0].kernel_size[0]
        == (search.best_params_["module__kernel_size"])
    )
    assert search.best_estimator_.optimizer_.param_groups[0]["lr"] == search.best_params_["lr"]
    assert search.predict(X_train[:3]).dtype == y_train.dtype


def test_fitted_pipeline_pickles_and_clones(genre_files, front_end):
    (paths_train, y_train), (paths_test, _) = genre_files
    pipe = make_net_pipeline("kostrzewa", front_end).fit(paths_train, y_train)
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(
        restored.predict_proba(paths_test), pipe.predict_proba(paths_test)
    )
    fresh = clone(pipe)
    assert not hasattr(fresh[-1], "classes_")
    assert fresh.get_params()["kostrzewacnn__module__filters"] == (8, 8, 16, 16)
    fresh.fit(paths_train, y_train)
    np.testing.assert_array_equal(fresh.predict_proba(paths_test), pipe.predict_proba(paths_test))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no GPU")
@pytest.mark.parametrize("name", sorted(NETS))
def test_trains_and_predicts_on_cuda(name, mel_data):
    (X_train, y_train), (X_test, _) = mel_data
    net = NETS[name]().set_params(device="cuda")
    if name == "dnn":
        X_train, X_test = X_train.mean(axis=2), X_test.mean(axis=2)
    net.fit(X_train, y_train)
    assert next(net.module_.parameters()).is_cuda
    proba = net.predict_proba(X_test)
    assert isinstance(proba, np.ndarray) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
