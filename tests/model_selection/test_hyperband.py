"""HyperbandSearchCV: better than the worst configuration, fewer epochs than the grid, checkpoints.

The problem (conftest): 120 points on two concentric circles, 3-fold; twelve
configurations of which the six linear ones cannot learn it.
"""

import joblib
import numpy as np
import pytest
import torch
from scipy.stats import loguniform, norm, randint, uniform
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import SGDClassifier
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
from skfma.model_selection import HyperbandSearchCV, hyperband_n_trials
from skfma.models import DNNClassifier, KostrzewaCNN

optuna = pytest.importorskip("optuna")

MAX_EPOCHS = 27


@pytest.fixture(scope="module")
def search(circles, space, epoch_log):
    """The twelve-configuration space, 12 trials of up to 27 epochs; every epoch logged.

    Returns the fitted search and the log: net key -> epoch counts (the refit left out).
    """
    X, y = circles
    param_distributions, n_grid = space
    net = DNNClassifier(batch_size=8, callbacks=[("log", epoch_log.callback())], random_state=0)
    fitted = HyperbandSearchCV(
        net, param_distributions, max_epochs=MAX_EPOCHS, n_trials=n_grid, cv=3, random_state=0
    ).fit(X, y)
    refit = epoch_log.key(fitted.best_estimator_)
    return fitted, epoch_log.by_net(exclude={refit})


def test_beats_the_worst_configuration_by_a_clear_margin(search, circles, margin):
    fitted, _ = search
    X, y = circles
    linear = DNNClassifier(module__hidden_layer_sizes=(), lr=1e-3, max_epochs=MAX_EPOCHS)
    worst = cross_val_score(linear.set_params(batch_size=8, random_state=0), X, y, cv=3).mean()
    assert fitted.best_score_ >= worst + margin, (fitted.best_score_, worst)
    assert fitted.best_params_["module__hidden_layer_sizes"] == (32,)
    assert fitted.cv_results_["state"][fitted.best_index_] == "complete"


def test_spends_fewer_epochs_than_the_full_grid(search, space):
    """Counted from the nets' own histories (an epoch callback), against 12 x 27 x 3."""
    fitted, nets = search
    _, n_grid = space
    logged = sum(len(epochs) for epochs in nets.values())
    assert fitted.n_epochs_total_ == logged
    assert logged == 3 * fitted.cv_results_["n_epochs"].sum()
    grid = n_grid * MAX_EPOCHS * fitted.n_splits_
    # Measured: 396 to 594 epochs over seeds 0-7 (0.41 to 0.61 of the grid's 972).
    assert logged < 0.8 * grid, (logged, grid)
    assert len(fitted.cv_results_["params"]) == n_grid  # as many configurations as the grid
    assert "pruned" in set(fitted.cv_results_["state"])


def test_a_surviving_configuration_continues_from_its_checkpoint(search):
    """Each fold's net trains 1, 2, 3, ... epochs once: never rebuilt, never retrained."""
    fitted, nets = search
    assert len(nets) == fitted.n_splits_ * len(fitted.cv_results_["params"])
    for epochs in nets.values():
        assert epochs == list(range(1, len(epochs) + 1))
    reached = sorted(len(epochs) for epochs in nets.values())
    expected = sorted(np.repeat(fitted.cv_results_["n_epochs"], fitted.n_splits_))
    assert reached == expected
    # the rungs: 1, 3, 9 and 27 epochs, where the pruner decides
    assert set(fitted.cv_results_["n_epochs"]) <= {1, 3, 9, MAX_EPOCHS}
    complete = fitted.cv_results_["state"] == "complete"
    assert (fitted.cv_results_["n_epochs"][complete] == MAX_EPOCHS).all()
    assert (fitted.cv_results_["n_epochs"][~complete] < MAX_EPOCHS).all()
    for trial in fitted.study_.trials:
        assert set(trial.intermediate_values) <= {1, 3, 9, MAX_EPOCHS}


def test_refits_the_best_for_the_epochs_it_reached(search, circles):
    fitted, _ = search
    X, y = circles
    best = fitted.best_estimator_
    assert len(best.history_) == MAX_EPOCHS
    assert best.lr == fitted.best_params_["lr"]
    np.testing.assert_array_equal(fitted.classes_, [0, 1])
    assert fitted.predict(X).shape == (len(X),)
    assert fitted.predict_proba(X).shape == (len(X), 2)
    assert fitted.score(X, y) == pytest.approx(np.mean(fitted.predict(X) == y))
    assert fitted.n_features_in_ == 2


def test_cv_results_are_scikit_learn_shaped(search):
    fitted, _ = search
    results = fitted.cv_results_
    n = len(results["params"])
    for key in ("mean_test_score", "std_test_score", "rank_test_score", "mean_fit_time"):
        assert results[key].shape == (n,)
    for split in range(3):
        assert results[f"split{split}_test_score"].shape == (n,)
    assert isinstance(results["param_lr"], np.ma.MaskedArray)
    assert [p["lr"] for p in results["params"]] == list(results["param_lr"])
    assert results["rank_test_score"][fitted.best_index_] == 1
    assert fitted.best_score_ == results["mean_test_score"][fitted.best_index_]
    # trials that trained further rank first
    order = np.argsort(results["rank_test_score"], kind="stable")
    assert (np.diff(results["n_epochs"][order]) <= 0).all()
    assert len(fitted.study_.trials) == n


SMALL = {"lr": [3e-2, 1e-3], "module__hidden_layer_sizes": [(), (16,)]}


def _small_search(**params):
    net = DNNClassifier(batch_size=16, random_state=0)
    params = {"max_epochs": 9, "n_trials": 6, "cv": 2, **params}
    return HyperbandSearchCV(net, SMALL, **params)


@pytest.fixture(scope="module")
def small(circles):
    return _small_search(random_state=1).fit(*circles)


def test_is_reproducible_with_random_state(small, circles, same_results):
    same_results(small, _small_search(random_state=1).fit(*circles))
    other = _small_search(random_state=2, refit=False).fit(*circles)
    assert other.cv_results_["params"] != small.cv_results_["params"]


def test_fills_the_estimators_random_state_from_its_own(circles, same_results):
    """A net left with random_state=None is seeded from the search's random_state."""
    X, y = circles
    net = DNNClassifier(batch_size=8)
    runs = [
        HyperbandSearchCV(net, SMALL, max_epochs=3, n_trials=3, cv=2, random_state=5).fit(X, y)
        for _ in range(2)
    ]
    same_results(*runs)
    assert runs[0].best_estimator_.random_state is not None
    assert net.random_state is None


def test_runs_on_a_dask_cluster_as_it_runs_here(small, circles, dask_client, same_results):
    with joblib.parallel_config(backend="dask"):
        remote = _small_search(random_state=1, n_jobs=2).fit(*circles)
    same_results(remote, small)


# ------------------------------------------------------------------ other estimators


def test_a_spectrogram_cnn(genre_spectrograms):
    X, y = genre_spectrograms
    net = KostrzewaCNN(module__filters=(4, 8), module__kernel_size=3, batch_size=8, random_state=0)
    fitted = HyperbandSearchCV(
        net,
        {"lr": [1e-2, 1e-6], "module__kernel_size": [3, 5], "module__dropout": [0.0, 0.5]},
        max_epochs=4,
        reduction_factor=2,
        cv=2,
        random_state=0,
    ).fit(X, y)
    assert fitted.best_params_["lr"] == 1e-2
    assert fitted.best_score_ >= 0.9
    assert len(fitted.best_estimator_.history_) == 4
    assert set(fitted.predict(X)) <= {"rock", "jazz"}


class CountingScaler(StandardScaler):
    """A StandardScaler that counts its fits (in this process)."""

    fits = 0

    def fit(self, X, y=None, sample_weight=None):
        CountingScaler.fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


def test_a_pipeline_fits_its_preprocessing_once_per_fold(circles, epoch_log):
    X, y = circles
    CountingScaler.fits = 0
    pipe = make_pipeline(
        CountingScaler(),
        DNNClassifier(batch_size=8, callbacks=[("log", epoch_log.callback())], random_state=0),
    )
    before = len(epoch_log.entries)
    fitted = HyperbandSearchCV(
        pipe,
        {"dnnclassifier__lr": [3e-2, 1e-5], "countingscaler__with_mean": [True, False]},
        max_epochs=4,
        reduction_factor=2,
        n_trials=5,
        cv=2,
        random_state=0,
    ).fit(X, y)
    assert CountingScaler.fits == 5 * 2 + 1  # each trial's folds, and the refit
    assert len(epoch_log.entries) - before == fitted.n_epochs_total_ + 4  # and the refit's
    assert len(fitted.best_estimator_[-1].history_) == 4
    assert fitted.predict(X).shape == y.shape


def test_an_estimator_with_partial_fit_trains_one_epoch_per_call(circles):
    X, y = circles
    fitted = HyperbandSearchCV(
        SGDClassifier(random_state=0),
        {"alpha": loguniform(1e-4, 1e2), "penalty": ["l2", "l1"]},
        max_epochs=9,
        n_trials=8,
        cv=3,
        random_state=0,
    ).fit(X, y)
    assert fitted.best_estimator_.t_ == 9 * len(X) + 1  # sklearn's count of samples seen
    assert fitted.n_epochs_total_ == 3 * fitted.cv_results_["n_epochs"].sum()


def test_every_skfma_net(net_name, tiny_net):
    net, X = tiny_net(net_name)
    y = np.tile([0, 1], len(X) // 2)
    fitted = HyperbandSearchCV(
        net, {"lr": [1e-2, 1e-3]}, max_epochs=2, reduction_factor=2, n_trials=3, cv=2
    ).fit(X, y)
    assert fitted.n_epochs_total_ == 2 * fitted.cv_results_["n_epochs"].sum()
    assert len(fitted.best_estimator_.history_) == 2


# ------------------------------------------------------------------------ the space


def test_lists_of_any_values_and_scipy_distributions(circles):
    X, y = circles
    fitted = HyperbandSearchCV(
        DNNClassifier(batch_size=16, random_state=0),
        {
            "lr": loguniform(1e-4, 1e-1),
            "batch_size": randint(8, 17),
            "module__hidden_layer_sizes": [(4,), (8, 8)],  # tuples: stored by their repr
            "optimizer": [torch.optim.Adam, torch.optim.SGD],  # classes
        },
        max_epochs=2,
        n_trials=6,
        cv=2,
        refit=False,
        random_state=0,
    ).fit(X, y)
    for params in fitted.cv_results_["params"]:
        assert 1e-4 <= params["lr"] <= 1e-1
        assert isinstance(params["batch_size"], int) and 8 <= params["batch_size"] <= 16
        assert params["module__hidden_layer_sizes"] in [(4,), (8, 8)]
        assert params["optimizer"] in [torch.optim.Adam, torch.optim.SGD]
    distributions = fitted.study_.trials[0].distributions
    assert isinstance(distributions["lr"], optuna.distributions.FloatDistribution)
    assert distributions["lr"].log
    assert isinstance(distributions["batch_size"], optuna.distributions.IntDistribution)
    assert not hasattr(fitted, "best_estimator_")
    with pytest.raises(AttributeError, match="initialized with refit=False"):
        fitted.predict(X)


def test_a_list_of_spaces(circles):
    X, y = circles
    fitted = HyperbandSearchCV(
        DNNClassifier(batch_size=16, random_state=0),
        [{"lr": [1e-2]}, {"module__dropout": [0.0, 0.5], "batch_size": [8]}],
        max_epochs=2,
        n_trials=6,
        cv=2,
        random_state=0,
    ).fit(X, y)
    lr = fitted.cv_results_["param_lr"]
    dropout = fitted.cv_results_["param_module__dropout"]
    assert (lr.mask != dropout.mask).all()  # each trial draws from one subspace
    assert lr.mask.any() and (~lr.mask).any()


# ----------------------------------------------------------------- params and errors


def test_clone_get_params_and_set_params():
    search = HyperbandSearchCV(DNNClassifier(lr=1e-3), {"lr": [1e-2, 1e-3]}, max_epochs=5)
    params = search.get_params()
    assert params["estimator__lr"] == 1e-3 and params["max_epochs"] == 5
    search.set_params(estimator__lr=1e-2, reduction_factor=4)
    assert search.estimator.lr == 1e-2 and search.reduction_factor == 4
    copy = clone(search)
    assert copy.estimator is not search.estimator
    assert copy.get_params()["estimator__lr"] == 1e-2
    for check in (
        check_estimator_cloneable,
        check_estimator_repr,
        check_no_attributes_set_in_init,
        check_get_params_invariance,
        check_set_params,
    ):
        check("HyperbandSearchCV", search)


def test_default_trials_are_one_hyperband_iteration():
    assert hyperband_n_trials(9) == 3 + 5 + 9
    assert hyperband_n_trials(27) == 4 + 6 + 12 + 27
    assert hyperband_n_trials(81, 1, 3) == 5 + 8 + 15 + 34 + 81
    assert hyperband_n_trials(4, 4) == 1


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"max_epochs": 0}, "max_epochs"),
        ({"min_epochs": 0}, "min_epochs"),
        ({"min_epochs": 10}, "min_epochs"),
        ({"reduction_factor": 1}, "reduction_factor"),
        ({"n_trials": 0}, "n_trials"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"verbose": -1}, "verbose"),
        ({"cv": 1}, "cv"),
        ({"refit": "yes"}, "refit"),
        ({"error_score": np.inf}, "error_score"),
        ({"scoring": ["accuracy", "f1"]}, "scoring"),
        ({"param_distributions": {"lr": 1e-2}}, "lr"),
        ({"param_distributions": {"lr": "1e-2"}}, "lr"),
        ({"param_distributions": {"lr": []}}, "lr"),
        ({"param_distributions": {"lr": np.ones((2, 2))}}, "lr"),
        ({"param_distributions": {"nope": [1, 2]}}, "nope"),
        ({"param_distributions": {"max_epochs": [5, 10]}}, "max_epochs"),
        ({"param_distributions": [1, 2]}, "param_distributions"),
        ({"param_distributions": {}}, "param_distributions"),
        ({"param_distributions": [{}, {}]}, "param_distributions"),
        ({"param_distributions": "lr"}, "param_distributions"),
        ({"max_epochs": 10**30}, "max_epochs"),  # used to exhaust memory
        ({"estimator": DNNClassifier}, "estimator"),  # the class, not an instance
        ({"random_state": -1}, "random_state"),
        ({"random_state": "x"}, "random_state"),
        ({"scoring": "bogus"}, "scoring"),
    ],
)
def test_invalid_parameters_name_the_search_and_the_parameter(params, name, circles):
    search = HyperbandSearchCV(DNNClassifier(max_epochs=5), {"lr": [1e-2]}).set_params(**params)
    with pytest.raises(ParameterError, match=rf"^HyperbandSearchCV: .*\b{name}\b"):
        search.fit(*circles)


@pytest.mark.parametrize(
    "dist",
    [uniform(0, np.inf), loguniform(1e-3, np.inf), uniform(np.nan, 1), norm(np.nan, 1)],
    ids=["uniform-inf", "loguniform-inf", "uniform-nan", "norm-nan"],
)
def test_refuses_a_distribution_of_non_finite_values(dist, circles):
    search = HyperbandSearchCV(DNNClassifier(max_epochs=2), {"lr": dist}, cv=2)
    with pytest.raises(
        ParameterError, match=r"^HyperbandSearchCV: param_distributions\['lr'\] .*finite"
    ):
        search.fit(*circles)


def test_refuses_a_pipeline_nested_as_the_last_step_before_any_trial(circles, epoch_log):
    """Refused when fit starts: not trial by trial, ending in "every trial failed"."""
    net = DNNClassifier(batch_size=8, callbacks=[("log", epoch_log.callback())], random_state=0)
    pipe = make_pipeline(StandardScaler(), make_pipeline(StandardScaler(), net))
    search = HyperbandSearchCV(
        pipe, {"pipeline__dnnclassifier__lr": [1e-2, 1e-3]}, max_epochs=2, n_trials=2, cv=2
    )
    before = len(epoch_log.entries)
    with pytest.raises(
        ParameterError, match=r"^HyperbandSearchCV: estimator: a Pipeline nested .*flatten"
    ):
        search.fit(*circles)
    assert len(epoch_log.entries) == before  # not one epoch trained


def test_refuses_an_estimator_that_cannot_train_by_epochs(circles):
    with pytest.raises(ParameterError, match=r"^HyperbandSearchCV: estimator .*SVC"):
        HyperbandSearchCV(SVC(), {"C": [1, 10]}, max_epochs=3).fit(*circles)
    with pytest.raises(ParameterError, match="max_epochs is required for SGDClassifier"):
        HyperbandSearchCV(SGDClassifier(), {"alpha": [1e-4]}).fit(*circles)


def test_failing_configurations_score_nan_and_warn(circles):
    X, y = circles
    search = HyperbandSearchCV(
        DNNClassifier(batch_size=8, random_state=0),
        {"module__hidden_layer_sizes": [(8,), (-1,)]},  # (-1,) fails when the module is built
        max_epochs=2,
        n_trials=4,
        cv=2,
        random_state=0,
    )
    with pytest.warns(FitFailedWarning, match="hidden_layer_sizes"):
        search.fit(X, y)
    failed = search.cv_results_["state"] == "fail"
    assert failed.any() and not failed.all()
    assert np.isnan(search.cv_results_["mean_test_score"][failed]).all()
    assert (search.cv_results_["rank_test_score"][failed] > (~failed).sum()).all()
    with pytest.raises(ParameterError, match="hidden_layer_sizes"):
        search.set_params(error_score="raise").fit(X, y)
    with pytest.raises(
        ValueError, match=r"^HyperbandSearchCV: every trial failed .*ParameterError"
    ):
        search.set_params(
            error_score=np.nan, param_distributions={"module__hidden_layer_sizes": [(-1,)]}
        ).fit(X, y)


def test_optuna_stays_quiet_and_its_verbosity_is_restored(circles, capfd):
    level = optuna.logging.get_verbosity()
    _small_search(random_state=0, refit=False).set_params(n_trials=2, max_epochs=1).fit(*circles)
    assert optuna.logging.get_verbosity() == level
    assert "Trial" not in capfd.readouterr().err
