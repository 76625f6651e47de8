"""One cross-validation fold of a trial: trained in one go, or epoch chunk by epoch chunk.

The functions here run in joblib workers (processes, or Dask workers under
``joblib.parallel_config(backend="dask")``): they take and return picklable
objects only. A :class:`Fold` is the checkpoint of a configuration on one
fold: its fitted preprocessing, its transformed training and test clips and
its partly trained final estimator, which the next rung continues.
"""

import inspect
import sys
import time
import traceback
from numbers import Real

import numpy as np
from scipy.sparse import issparse
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline

from ..exceptions import ParameterError, ScoringError
from ..utils import is_int

__all__ = [
    "Fold",
    "advance_fold",
    "check_folds",
    "fit_and_score",
    "final_step",
    "is_skorch_net",
]


def is_skorch_net(estimator):
    """Whether ``estimator`` is a skorch net (any skfma net); skorch is not imported for it."""
    skorch = sys.modules.get("skorch")  # an estimator of a skorch class has imported skorch
    return skorch is not None and isinstance(estimator, skorch.NeuralNet)


def final_step(estimator):
    """``(prefix, final)``: the last step of a Pipeline (prefix ``"name__"``), or the estimator."""
    if isinstance(estimator, Pipeline):
        name, final = estimator.steps[-1]
        prefix, final = final_step(final)
        return f"{name}__{prefix}", final
    return "", estimator


def trains_by_epochs(estimator):
    """Whether the final step of ``estimator`` can be trained a few epochs more at a time."""
    _, final = final_step(estimator)
    return is_skorch_net(final) or callable(getattr(final, "partial_fit", None))


def take(data, indices):
    """Rows ``indices`` of an array, sparse matrix, DataFrame, Series or list."""
    if data is None:
        return None
    if hasattr(data, "iloc"):
        return data.iloc[indices]
    if issparse(data):
        return data.tocsr()[indices] if data.format not in ("csr", "csc") else data[indices]
    if hasattr(data, "shape"):
        return data[indices]
    return [data[i] for i in indices]


def _n_samples(data):
    return data.shape[0] if hasattr(data, "shape") else len(data)


def index_params(params, indices, n_samples):
    """Fit parameters with one value per sample (``sample_weight``) cut to ``indices``."""
    return {
        key: take(value, indices)
        if not isinstance(value, str)
        and hasattr(value, "__len__")
        and _n_samples(value) == n_samples
        else value
        for key, value in params.items()
    }


def epochs_trained(estimator):
    """Epochs in the history of a fitted skorch net (the final step), else None."""
    _, final = final_step(estimator)
    if is_skorch_net(final) and getattr(final, "history_", None) is not None:
        return len(final.history_)
    return None


def score_of(scorer, estimator, X, y):
    """``scorer(estimator, X, y)`` as a float; a ScoringError unless it is a real number."""
    score = scorer(estimator, X, y)
    if isinstance(score, bool) or not isinstance(score, Real):
        raise ScoringError(
            f"scoring returned {score!r} ({type(score).__name__}), not a number: a scorer "
            "must return one float, greater for better."
        )
    return float(score)


def fit_and_score(estimator, X, y, train, test, fit_params, scorer, error_score):
    """Fit a fresh configuration on one fold and score it (a trial without pruning).

    Returns
    -------
    result : dict
        ``score``, ``fit_time``, ``score_time``, ``n_epochs`` (None unless a
        skorch net) and ``error`` (None, or the formatted exception).
    """
    result = {"score": error_score, "fit_time": 0.0, "score_time": 0.0, "n_epochs": None}
    result["error"] = None
    n = _n_samples(X)
    start = time.perf_counter()
    try:
        estimator.fit(take(X, train), take(y, train), **index_params(fit_params, train, n))
        result["fit_time"] = time.perf_counter() - start
        result["n_epochs"] = epochs_trained(estimator)
        start = time.perf_counter()
        result["score"] = score_of(scorer, estimator, take(X, test), take(y, test))
        result["score_time"] = time.perf_counter() - start
    except ScoringError:  # a mistake in ``scoring``, whatever the configuration: stop
        raise
    except Exception:
        if isinstance(error_score, str):  # "raise"
            raise
        result["fit_time"] = time.perf_counter() - start
        result["n_epochs"] = epochs_trained(estimator)
        result["error"] = traceback.format_exc()
    return result


class Fold:
    """A configuration's checkpoint on one cross-validation fold.

    Created unstarted (the estimator and the fold's indices); the first
    :meth:`advance` fits the preprocessing steps of a Pipeline once, keeps
    the transformed clips, and from then on only the final estimator trains,
    continuing where the last rung left it.

    Parameters
    ----------
    estimator : estimator
        The configured (cloned) estimator: a skorch net, an estimator with
        ``partial_fit``, or a Pipeline ending in one (not in a nested
        Pipeline, which the search refuses before any trial).
    train, test : ndarray of int
        The fold's rows.
    fit_params : dict
        Fit parameters: given to ``partial_fit`` (a Pipeline's
        ``step__param`` ones to their step).
    classes : ndarray or None
        Every label of ``y``, for classifiers with a 1-D target.
    """

    def __init__(self, estimator, train, test, fit_params, classes):
        self.estimator = estimator
        self.train = train
        self.test = test
        self.fit_params = fit_params
        self.classes = classes
        self.started = False
        self.n_epochs = 0
        self.fit_time = 0.0
        self.score_time = 0.0
        self.score = np.nan
        self.error = None

    def start(self, X, y, *, reseed=True):
        """Fit the preprocessing on the training rows; keep the transformed clips.

        With ``reseed``, an int ``random_state`` of a final estimator that is
        not a skorch net is replaced by a ``RandomState`` seeded with it (see
        below).
        """
        n = _n_samples(X)
        params = index_params(self.fit_params, self.train, n)
        X_train, y_train = take(X, self.train), take(y, self.train)
        X_test, self.y_test = take(X, self.test), take(y, self.test)
        final, head = self.estimator, None
        if isinstance(self.estimator, Pipeline):
            name = self.estimator.steps[-1][0]
            head, final = self.estimator[:-1], self.estimator.steps[-1][1]
            own = {k[len(name) + 2 :]: v for k, v in params.items() if k.startswith(f"{name}__")}
            rest = {k: v for k, v in params.items() if not k.startswith(f"{name}__")}
            X_train = head.fit_transform(X_train, y_train, **rest)
            X_test = head.transform(X_test) if len(self.test) else None
            params = own
        # An int random_state reseeds scikit-learn's SGD identically on every partial_fit:
        # each chunk would replay the first one's shuffling. A RandomState seeded with it
        # gives the same first chunk, then fresh draws. (skfma's nets continue their torch
        # generator from one partial_fit to the next by themselves.)
        seed = getattr(final, "random_state", None)
        if reseed and is_int(seed) and not is_skorch_net(final):
            final.set_params(random_state=np.random.RandomState(int(seed)))
        self.head, self.final, self.params = head, final, params
        self.X_train, self.y_train, self.X_test = X_train, y_train, X_test
        self.started = True

    def advance(self, epochs, scorer):
        """Train ``epochs`` more epochs, then score the test rows."""
        start = time.perf_counter()
        final = self.final
        if is_skorch_net(final):
            kwargs = {"classes": self.classes} if self.classes is not None else {}
            final.partial_fit(self.X_train, self.y_train, epochs=epochs, **kwargs, **self.params)
            self.n_epochs = len(final.history_)
        else:
            kwargs = {}
            if self.classes is not None and _accepts(final.partial_fit, "classes"):
                kwargs["classes"] = self.classes
            for _ in range(epochs):
                final.partial_fit(self.X_train, self.y_train, **kwargs, **self.params)
                self.n_epochs += 1
        self.fit_time += time.perf_counter() - start
        start = time.perf_counter()
        self.score = score_of(scorer, final, self.X_test, self.y_test)
        self.score_time += time.perf_counter() - start

    def release(self):
        """Drop the data and the model (a finished trial keeps its numbers only)."""
        for name in ("estimator", "head", "final", "X_train", "y_train", "X_test", "y_test"):
            self.__dict__.pop(name, None)


def advance_fold(fold, epochs, scorer, error_score, X=None, y=None):
    """Start ``fold`` if needed (``X`` and ``y`` are given then), train it, score it.

    Returns
    -------
    fold : Fold
        The same fold (a copy, from another process), ``score`` set to
        ``error_score`` and ``error`` to the formatted exception if it failed.
    """
    epochs_before = fold.n_epochs
    try:
        if not fold.started:
            fold.start(X, y)
        fold.advance(epochs, scorer)
    except ScoringError:
        raise
    except Exception:
        if isinstance(error_score, str):  # "raise"
            raise
        trained = epochs_trained(getattr(fold, "final", None))
        if trained is not None:
            fold.n_epochs = trained
        fold.n_epochs = max(fold.n_epochs, epochs_before)
        fold.score = error_score
        fold.error = traceback.format_exc()
    return fold


def _accepts(method, name):
    try:
        return name in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def classes_of(estimator, y):
    """Every label of a 1-D classification target (None otherwise), for ``partial_fit``."""
    if y is None or not is_classifier(estimator):
        return None
    y = np.asarray(y)
    return np.unique(y) if y.ndim == 1 else None


def check_folds(folds, n_samples):
    """The folds of ``cv`` as integer index arrays, each part non-empty and in range.

    Parameters
    ----------
    folds : list of (train, test)
        From ``cv.split``: index arrays, or boolean masks of ``n_samples``.
    n_samples : int

    Returns
    -------
    list of (ndarray, ndarray)
        Integer indices.

    Raises
    ------
    ParameterError
        Naming ``cv`` and the fold, if there is no fold, or a part is empty,
        neither integers nor a mask of ``n_samples``, or out of range.
    """
    if not folds:
        raise ParameterError(
            "cv gives no fold: give an int >= 2, a splitter or (train, test) pairs."
        )
    checked = []
    for number, fold in enumerate(folds):
        parts = []
        for name, part in zip(("train", "test"), fold, strict=True):
            indices = np.asarray(part)
            if indices.dtype == bool and indices.shape == (n_samples,):
                indices = np.flatnonzero(indices)
            if indices.ndim != 1 or not indices.size or indices.dtype.kind not in "iu":
                raise ParameterError(
                    f"cv's fold {number}: its {name} part must be a non-empty 1-D array of row "
                    f"indices (or a boolean mask of the {n_samples} rows); got {part!r}."
                )
            if indices.min() < 0 or indices.max() >= n_samples:
                raise ParameterError(
                    f"cv's fold {number}: {name} indices must be in [0, {n_samples}) for "
                    f"{n_samples} rows; got {indices.min()} to {indices.max()}."
                )
            parts.append(indices)
        checked.append(tuple(parts))
    return checked
