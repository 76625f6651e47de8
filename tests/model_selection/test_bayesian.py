"""BayesianSearchCV: TPE (or GP) proposals, full fits or Hyperband-pruned epochs, on the circles.

The problem (conftest): 120 points on two concentric circles, 3-fold; a
linear net cannot learn it, a net with a hidden layer can.
"""

import joblib
import numpy as np
import pytest
import torch
from scipy.stats import loguniform, norm, uniform
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_set_params,
)

from skfma.exceptions import ParameterError
from skfma.model_selection import BayesianSearchCV
from skfma.models import DNNClassifier, KostrzewaCNN, OneCycleSchedule

optuna = pytest.importorskip("optuna")

#: Learnable by the hidden layer at any of these rates in 9 epochs; never by the linear net.
CONTINUOUS = {
    "lr": loguniform(1e-2, 1e-1),
    "module__hidden_layer_sizes": [(), (32,)],
    "batch_size": [8, 16],
}
EPOCHS = 9
N_TRIALS = 8


@pytest.fixture(scope="module")
def search(circles, epoch_log):
    """8 TPE trials (4 random first), each a full 9-epoch fit per fold; every epoch logged."""
    net = DNNClassifier(
        max_epochs=EPOCHS, callbacks=[("log", epoch_log.callback())], random_state=0
    )
    fitted = BayesianSearchCV(
        net, CONTINUOUS, n_trials=N_TRIALS, n_startup_trials=4, cv=3, random_state=0
    ).fit(*circles)
    refit = epoch_log.key(fitted.best_estimator_)
    return fitted, epoch_log.by_net(exclude={refit})


def test_beats_the_worst_configuration_by_a_clear_margin(search, circles, margin):
    fitted, _ = search
    X, y = circles
    linear = DNNClassifier(module__hidden_layer_sizes=(), lr=1e-2, max_epochs=EPOCHS)
    worst = cross_val_score(linear.set_params(batch_size=8, random_state=0), X, y, cv=3).mean()
    assert fitted.best_score_ >= worst + margin, (fitted.best_score_, worst)
    assert fitted.best_params_["module__hidden_layer_sizes"] == (32,)
    assert isinstance(fitted.study_.sampler, optuna.samplers.TPESampler)


def test_counts_the_epochs_of_full_fits(search):
    fitted, nets = search
    assert len(nets) == 3 * N_TRIALS
    assert all(epochs == list(range(1, EPOCHS + 1)) for epochs in nets.values())
    assert fitted.n_epochs_total_ == 3 * N_TRIALS * EPOCHS
    assert (fitted.cv_results_["n_epochs"] == EPOCHS).all()
    assert (fitted.cv_results_["state"] == "complete").all()


def test_results_and_the_refit(search, circles):
    fitted, _ = search
    X, y = circles
    results = fitted.cv_results_
    assert len(results["params"]) == N_TRIALS
    assert results["rank_test_score"][fitted.best_index_] == 1
    assert fitted.best_score_ == results["mean_test_score"].max()
    for params in results["params"]:
        assert 1e-2 <= params["lr"] <= 1e-1
    best = fitted.best_estimator_
    assert best.lr == fitted.best_params_["lr"]
    assert len(best.history_) == EPOCHS
    assert fitted.score(X, y) >= 0.9
    assert fitted.predict_proba(X[:4]).shape == (4, 2)


@pytest.fixture(scope="module")
def pruned(circles, space, epoch_log):
    """TPE with Hyperband pruning over the twelve configurations, up to 27 epochs."""
    param_distributions, _ = space
    before = len(epoch_log.entries)
    net = DNNClassifier(batch_size=8, callbacks=[("log", epoch_log.callback())], random_state=0)
    fitted = BayesianSearchCV(
        net,
        param_distributions,
        pruning=True,
        max_epochs=27,
        n_trials=12,
        n_startup_trials=4,
        cv=3,
        random_state=0,
    ).fit(*circles)
    refit = epoch_log.key(fitted.best_estimator_)
    entries = epoch_log.entries[before:]
    nets = {}
    for key, epoch in entries:
        if key != refit:
            nets.setdefault(key, []).append(epoch)
    return fitted, nets


def test_pruning_spends_fewer_epochs_than_the_full_grid(pruned, space, circles, margin):
    fitted, nets = pruned
    _, n_grid = space
    logged = sum(len(epochs) for epochs in nets.values())
    assert fitted.n_epochs_total_ == logged == 3 * fitted.cv_results_["n_epochs"].sum()
    # Measured: 450 to 696 epochs over seeds 0-7, of the grid's 12 x 27 x 3 = 972.
    assert logged < n_grid * 27 * 3
    assert "pruned" in set(fitted.cv_results_["state"])
    assert fitted.best_params_["module__hidden_layer_sizes"] == (32,)
    assert fitted.best_score_ >= 0.67 + margin - 0.05  # the linear net's ceiling, and more
    assert len(fitted.best_estimator_.history_) == 27


def test_pruning_continues_survivors_from_their_checkpoints(pruned):
    fitted, nets = pruned
    assert len(nets) == 3 * len(fitted.cv_results_["params"])
    for epochs in nets.values():
        assert epochs == list(range(1, len(epochs) + 1))
    assert sorted(map(len, nets.values())) == sorted(np.repeat(fitted.cv_results_["n_epochs"], 3))
    assert set(fitted.cv_results_["n_epochs"]) <= {1, 3, 9, 27}


SMALL = {"lr": loguniform(1e-3, 1e-1), "module__hidden_layer_sizes": [(), (16,)]}


def _small_search(**params):
    net = DNNClassifier(batch_size=16, max_epochs=4, random_state=0)
    params = {"n_trials": 5, "n_startup_trials": 2, "cv": 2, **params}
    return BayesianSearchCV(net, SMALL, **params)


@pytest.fixture(scope="module")
def small(circles):
    return _small_search(random_state=3).fit(*circles)


def test_is_reproducible_with_random_state(small, circles, same_results):
    same_results(small, _small_search(random_state=3).fit(*circles))
    other = _small_search(random_state=4, refit=False).fit(*circles)
    assert other.cv_results_["params"] != small.cv_results_["params"]


def test_runs_on_a_dask_cluster_as_it_runs_here(small, circles, dask_client, same_results):
    with joblib.parallel_config(backend="dask"):
        remote = _small_search(random_state=3, n_jobs=2).fit(*circles)
    same_results(remote, small)


def test_a_gaussian_process_sampler(circles, same_results):
    runs = [
        _small_search(sampler="gp", n_trials=4, random_state=0, refit=False).fit(*circles)
        for _ in range(2)
    ]
    assert isinstance(runs[0].study_.sampler, optuna.samplers.GPSampler)
    same_results(*runs)


# ------------------------------------------------------------------ other estimators


def test_a_spectrogram_cnn_with_and_without_pruning(genre_spectrograms):
    X, y = genre_spectrograms
    net = KostrzewaCNN(
        module__filters=(4, 8), module__kernel_size=3, batch_size=8, max_epochs=4, random_state=0
    )
    space = {"lr": loguniform(1e-3, 1e-1), "module__dropout": uniform(0.0, 0.5)}
    for pruning in (False, True):
        fitted = BayesianSearchCV(
            net, space, n_trials=4, n_startup_trials=2, pruning=pruning, cv=2, random_state=0
        ).fit(X, y)
        # Measured 0.9375 on 24-clip folds (one clip is 0.042); an untrained net scores
        # about 0.56, so 0.8 still means it learned, with room for float32 convolutions
        # rounding differently on other CPUs.
        assert fitted.best_score_ >= 0.8
        assert len(fitted.best_estimator_.history_) == 4


def test_a_pipeline(circles):
    pipe = make_pipeline(StandardScaler(), DNNClassifier(batch_size=16, max_epochs=3))
    space = {"dnnclassifier__lr": [3e-2, 1e-5], "standardscaler__with_std": [True, False]}
    for pruning in (False, True):
        fitted = BayesianSearchCV(
            pipe, space, n_trials=4, n_startup_trials=2, pruning=pruning, cv=2, random_state=0
        ).fit(*circles)
        assert fitted.n_epochs_total_ == 2 * fitted.cv_results_["n_epochs"].sum()
        assert len(fitted.best_estimator_[-1].history_) == 3


def test_any_estimator_without_pruning(circles):
    fitted = BayesianSearchCV(
        SVC(),
        {"C": loguniform(1e-2, 1e2), "gamma": norm(1.0, 0.1)},
        n_trials=6,
        cv=3,
        n_startup_trials=3,
        random_state=0,
    ).fit(*circles)
    assert fitted.best_score_ >= 0.9
    assert "n_epochs" not in fitted.cv_results_
    assert fitted.n_epochs_total_ is None
    # a distribution other than uniform, log-uniform and randint: sampled by its quantiles
    assert isinstance(
        fitted.study_.trials[0].distributions["gamma"], optuna.distributions.FloatDistribution
    )
    assert all(0.5 < params["gamma"] < 1.5 for params in fitted.cv_results_["params"])


def test_max_epochs_is_a_plain_parameter_without_pruning(circles):
    fitted = BayesianSearchCV(
        DNNClassifier(batch_size=16),
        {"max_epochs": [1, 2]},
        n_trials=3,
        cv=2,
        random_state=0,
    ).fit(*circles)
    epochs = [params["max_epochs"] for params in fitted.cv_results_["params"]]
    np.testing.assert_array_equal(fitted.cv_results_["n_epochs"], epochs)


def test_every_skfma_net(net_name, tiny_net):
    net, X = tiny_net(net_name)
    y = np.tile([0, 1], len(X) // 2)
    fitted = BayesianSearchCV(
        net.set_params(max_epochs=2), {"lr": loguniform(1e-3, 1e-2)}, n_trials=2, cv=2
    ).fit(X, y)
    assert fitted.n_epochs_total_ == 2 * 2 * 2
    assert len(fitted.best_estimator_.history_) == 2


# ----------------------------------------------------------------- params and errors


def test_clone_get_params_and_set_params():
    search = BayesianSearchCV(DNNClassifier(lr=1e-3), {"lr": loguniform(1e-4, 1e-2)})
    assert search.get_params()["estimator__lr"] == 1e-3
    search.set_params(estimator__lr=1e-2, sampler="gp")
    copy = clone(search)
    assert copy.get_params()["estimator__lr"] == 1e-2 and copy.sampler == "gp"
    assert copy.param_distributions["lr"].support() == (1e-4, 1e-2)
    for check in (
        check_estimator_cloneable,
        check_estimator_repr,
        check_no_attributes_set_in_init,
        check_get_params_invariance,
        check_set_params,
    ):
        check("BayesianSearchCV", search)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_trials": 0}, "n_trials"),
        ({"n_trials": None}, "n_trials"),
        ({"sampler": "cma"}, "sampler"),
        ({"n_startup_trials": -1}, "n_startup_trials"),
        ({"pruning": "yes"}, "pruning"),
        ({"min_epochs": 0}, "min_epochs"),
        ({"reduction_factor": 1.5}, "reduction_factor"),
        ({"error_score": "ignore"}, "error_score"),
        ({"param_distributions": {"lr": 1e-2}}, "lr"),
        ({"param_distributions": {"nope": [1]}}, "nope"),
        ({"pruning": True, "param_distributions": {"max_epochs": [1, 2]}}, "max_epochs"),
    ],
)
def test_invalid_parameters_name_the_search_and_the_parameter(params, name, circles):
    search = BayesianSearchCV(DNNClassifier(max_epochs=2), {"lr": [1e-2]}).set_params(**params)
    with pytest.raises(ParameterError, match=rf"^BayesianSearchCV: .*\b{name}\b"):
        search.fit(*circles)


def test_an_empty_subspace_tries_the_estimator_as_it_is(circles):
    fitted = BayesianSearchCV(
        SVC(), [{}, {"C": [0.01]}], n_trials=6, n_startup_trials=6, cv=2, random_state=0
    ).fit(*circles)
    assert {} in fitted.cv_results_["params"]
    assert all(params in ({}, {"C": 0.01}) for params in fitted.cv_results_["params"])


def test_every_trial_scoring_nan_is_an_error_naming_the_search(circles):
    search = BayesianSearchCV(
        SVC(), {"C": [1, 10]}, n_trials=2, cv=2, scoring=lambda estimator, X, y: np.nan
    )
    with pytest.raises(ValueError, match=r"^BayesianSearchCV: every trial scored NaN"):
        search.fit(*circles)


def test_pruning_needs_an_estimator_that_trains_by_epochs(circles):
    with pytest.raises(ParameterError, match=r"^BayesianSearchCV: estimator .*SVC"):
        BayesianSearchCV(SVC(), {"C": [1, 10]}, pruning=True, max_epochs=3).fit(*circles)


def _identity_collate(batch):
    return torch.utils.data.default_collate(batch)


def test_choices_of_objects_are_stored_under_labels_that_do_not_change_between_runs(circles):
    """Optuna stores other choices by label: a repr, or a position for memory-address reprs."""
    net = DNNClassifier(max_epochs=2, callbacks=[("one_cycle", OneCycleSchedule())])
    space = {
        "callbacks__one_cycle": [OneCycleSchedule(pct_start=0.2), None],
        "iterator_train__collate_fn": [_identity_collate, None],  # "<function ... at 0x...>"
    }
    search = BayesianSearchCV(net, space, n_trials=3, n_startup_trials=3, cv=2, random_state=0)
    search.fit(*circles)
    labels = {name: {trial.params[name] for trial in search.study_.trials} for name in space}
    assert labels["callbacks__one_cycle"] <= {
        "OneCycleSchedule(pct_start=0.2, div_factor=25.0, final_div_factor=10000.0)",
        "None",
    }
    assert labels["iterator_train__collate_fn"] <= {"0: function", "1: NoneType"}
    assert search.best_params_["iterator_train__collate_fn"] in (_identity_collate, None)


def test_a_numpy_bool_turns_pruning_on_and_off():
    """np.True_ passes as a bool (check_bool), so it must prune as True does."""
    for flag in (True, np.True_, False, np.False_):
        search = BayesianSearchCV(SVC(), {"C": [1, 10]}, pruning=flag)
        assert search._trains_by_epochs() is bool(flag)
