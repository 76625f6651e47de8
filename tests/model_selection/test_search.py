"""Edges of both searches (the base in _search.py): folds, scorers and refit=False, named."""

import re

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfma.exceptions import ParameterError
from skfma.model_selection import BayesianSearchCV, HyperbandSearchCV

X = np.random.default_rng(0).random((30, 3))
y = np.arange(30) % 2


def search(kind, **params):
    if kind is HyperbandSearchCV:  # trains by epochs: an estimator with partial_fit
        space = {"alpha": [1e-4, 1e-3]}
        return kind(SGDClassifier(random_state=0), space, n_trials=2, max_epochs=2, **params)
    return kind(LogisticRegression(), {"C": [0.1, 1.0]}, n_trials=2, random_state=0, **params)


SEARCHES = pytest.mark.parametrize("kind", [BayesianSearchCV, HyperbandSearchCV])


@SEARCHES
@pytest.mark.parametrize(
    ("cv", "match"),
    [
        ([], "cv gives no fold"),
        ([(np.arange(10), np.arange(25, 35))], r"fold 0: test indices must be in \[0, 30\)"),
        ([(np.arange(10), np.arange(10, 20)), (np.arange(-3, 5), [6])], "fold 1: train indices"),
        ([(np.arange(10), [])], "fold 0: its test part must be a non-empty"),
        ([(np.arange(10), np.array([0.5, 1.5]))], "test part must be .* row indices"),
    ],
)
def test_folds_that_cannot_be_used_are_named_before_any_trial(kind, cv, match):
    with pytest.raises(ParameterError, match=f"{kind.__name__}: cv.*{match}|{match}"):
        search(kind, cv=cv).fit(X, y)


@SEARCHES
def test_boolean_masks_are_folds_too(kind):
    train = np.arange(30) < 20
    fitted = search(kind, cv=[(train, ~train)]).fit(X, y)
    assert np.isfinite(fitted.best_score_)


@SEARCHES
@pytest.mark.parametrize("score", ["good", None, np.array([0.5, 0.6]), True])
def test_a_scorer_returning_no_number_is_named_not_a_failed_fit(kind, score):
    with pytest.raises(ParameterError, match=re.escape(f"scoring returned {score!r}")):
        search(kind, cv=2, scoring=lambda estimator, X, y: score).fit(X, y)


@SEARCHES
def test_without_refit_the_methods_say_why_they_are_absent(kind):
    fitted = search(kind, cv=2, refit=False).fit(X, y)
    assert not hasattr(fitted, "predict")
    with pytest.raises(AttributeError, match="initialized with refit=False"):
        fitted.predict(X)
    refitted = search(kind, cv=2).fit(X, y)
    assert refitted.predict(X).shape == (30,)
    with pytest.raises(AttributeError, match="has no attribute 'transform'"):
        refitted.transform(X)


@pytest.mark.parametrize(
    ("kind", "params", "ranks"),
    [
        # Without pruning, the trial that trained more epochs (max_epochs searched, early
        # stopping) is not better for it: by score alone.
        (BayesianSearchCV, {}, [1, 3, 2]),
        (BayesianSearchCV, {"pruning": True}, [3, 1, 2]),
        # Pruned trials: those that went further first (HalvingGridSearchCV's order).
        (HyperbandSearchCV, {}, [3, 1, 2]),
    ],
)
def test_trials_rank_by_epochs_reached_only_when_pruned(kind, params, ranks):
    records = [
        {"params": {"C": c}, "scores": [score], "fit_time": [0.1], "score_time": [0.1]}
        | {"state": "complete", "n_epochs": epochs}
        for c, score, epochs in [(1, 0.9, 3), (2, 0.5, 30), (3, 0.7, 9)]
    ]
    search = kind(SGDClassifier(), {"C": [1, 2, 3]}, **params)
    results = search._format_results(records, ["C"], n_splits=1)
    np.testing.assert_array_equal(results["rank_test_score"], ranks)


@SEARCHES
def test_a_checkpoint_folder_on_the_estimator_is_refused(kind, tmp_path):
    """Every fold of every trial would resume another's run from that one folder."""
    from skfma.models import DNNClassifier

    net = DNNClassifier(max_epochs=2, checkpoint=tmp_path / "ck")
    space = {"lr": [1e-2, 1e-3]}
    with pytest.raises(ParameterError, match=r"estimator: dnnclassifier__checkpoint=.*None"):
        kind(make_pipeline(StandardScaler(), net), space, n_trials=2).fit(X, y)
    assert not (tmp_path / "ck").exists()  # refused before any fit
