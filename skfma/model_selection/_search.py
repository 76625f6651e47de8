"""The machinery shared by the Hyperband and Bayesian searches: Optuna's ask-and-tell as glue.

Optuna proposes configurations (its samplers) and decides which ones stop
early (its pruners); everything scikit-learn-shaped is here: the search
space, cross-validation, scoring, ``cv_results_``, the refit and the
delegated prediction methods.
"""

import contextlib
import functools
import math
import os
import time
import types
from collections import Counter
from copy import deepcopy
from numbers import Real

import numpy as np
from joblib import Parallel, delayed
from joblib import hash as stable_hash
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state, get_tags, indexable
from sklearn.utils.validation import check_is_fitted
from tqdm import tqdm

from ..base import validate_parameters
from ..exceptions import CheckpointError, ParameterError
from ..utils import (
    check_bool,
    check_int,
    check_n_jobs,
    expand_path,
    is_int,
    names_its_errors,
    value_check,
)
from ..utils._fingerprint import describe
from ..utils._random import check_seed, torch_seed
from ..utils._warnings import warn_user
from ._fold import (
    Fold,
    _n_samples,
    advance_fold,
    check_folds,
    classes_of,
    final_step,
    fit_and_score,
    is_skorch_net,
    trains_by_epochs,
)
from ._journal import SearchJournal, search_fingerprint
from ._space import SearchSpace

__all__ = ["BaseOptunaSearchCV"]

#: Optuna's study name: fixed, because Hyperband assigns trials to brackets by hashing it.
STUDY_NAME = "skfma"


def _import_optuna(owner):
    try:
        import optuna
    except ImportError as error:  # an optional dependency
        raise ImportError(
            f"{owner} needs Optuna, which is not installed: pip install optuna "
            "(or skfma's 'search' extra)."
        ) from error
    return optuna


@contextlib.contextmanager
def _optuna_logging(optuna, verbose):
    """Optuna's log level for the block: errors only, or its info with ``verbose``."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose else optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def _search_estimator_has(attr):
    """Delegate ``attr`` to the refitted best estimator (or, before fit, the estimator)."""

    def check(self):
        if not self.refit:
            raise AttributeError(
                f"This {type(self).__name__} instance was initialized with refit=False. "
                f"{attr} is available only after refitting on the best parameters; refit an "
                "estimator yourself with best_params_."
            )
        getattr(self.best_estimator_ if hasattr(self, "best_estimator_") else self.estimator, attr)
        return True

    return check


class _if_best_estimator_has:  # noqa: N801 (a decorator, named as scikit-learn's available_if)
    """A method present when the best estimator (or, before fit, the estimator) has it.

    As ``available_if(_search_estimator_has(name))`` in scikit-learn's
    searches, so that ``hasattr`` answers alike, but the AttributeError says
    why the method is absent: ``refit=False``, or the estimator lacks it.
    """

    def __init__(self, method):
        self.method = method
        functools.update_wrapper(self, method)

    def __get__(self, search, owner=None):
        if search is None:
            return self.method
        _search_estimator_has(self.method.__name__)(search)
        return types.MethodType(self.method, search)


class BaseOptunaSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Base of the searches: one Optuna study, trials run one after another.

    Subclasses store their parameters in ``__init__`` (declaring the checks of their
    own in ``_parameter_checks``) and say how trials are
    proposed and whether they train by epochs through :meth:`_make_sampler`,
    :meth:`_trains_by_epochs` and :meth:`_n_trials`; trials that train by
    epochs are stopped by Optuna's Hyperband pruner (:meth:`_make_pruner`).
    """

    # ----------------------------------------------------------------- subclass hooks

    def _trains_by_epochs(self):
        """Whether trials train epoch chunk by epoch chunk, reported to a pruner."""
        raise NotImplementedError

    def _make_sampler(self, optuna, seed):
        raise NotImplementedError

    def _make_pruner(self, optuna, max_epochs):
        """Optuna's Hyperband pruner, with rungs from ``min_epochs`` to ``max_epochs``.

        ``max_epochs`` is None exactly when the trials do not train by epochs
        (see :meth:`_check_estimator`): then nothing is pruned.
        """
        if max_epochs is None:
            return optuna.pruners.NopPruner()
        return optuna.pruners.HyperbandPruner(
            min_resource=self.min_epochs,
            max_resource=max_epochs,
            reduction_factor=self.reduction_factor,
        )

    def _n_trials(self, max_epochs):
        return self.n_trials

    # ------------------------------------------------------------------------ fitting

    _parameter_checks = {
        "estimator": lambda name, estimator: _check_estimator_instance(estimator),
        "param_distributions": lambda name, space: SearchSpace(space),
        "max_epochs": functools.partial(check_int, allow_none=True),
        "min_epochs": check_int,
        "reduction_factor": functools.partial(check_int, minimum=2),
        "scoring": lambda name, scoring: _check_one_metric(scoring),
        "cv": lambda name, cv: _check_cv_value(cv),
        "refit": check_bool,
        "n_jobs": value_check(check_n_jobs),
        "random_state": value_check(check_seed),
        "verbose": functools.partial(check_int, minimum=0),
        "error_score": lambda name, error_score: _check_error_score(error_score),
        "checkpoint": functools.partial(expand_path, allow_none=True),
    }

    def _check_params(self):
        validate_parameters(self)

    def _check_estimator(self, space):
        """Check the estimator (and the space's names against it); return the epoch budget.

        The budget is None when the trials do not train by epochs.
        """
        estimator = self.estimator
        folders = {
            name: value
            for name, value in estimator.get_params(deep=True).items()
            if name.rsplit("__", 1)[-1] == "checkpoint" and value is not None
        }
        if folders:
            name, value = next(iter(folders.items()))
            raise ParameterError(
                f"estimator: {name}={value!r} would make every fold of every trial train into "
                "that one folder, each resuming another's run; leave it None (the searches "
                "keep their trials' nets in memory)."
            )
        for name, value in space.examples().items():
            try:
                clone(estimator).set_params(**{name: value})
            except (ValueError, TypeError, AttributeError) as error:
                raise ParameterError(
                    f"param_distributions names {name!r}, which is not a parameter of "
                    f"{type(estimator).__name__}."
                ) from error
        if not self._trains_by_epochs():
            return None
        prefix, final = final_step(estimator)
        if isinstance(estimator, Pipeline) and isinstance(estimator.steps[-1][1], Pipeline):
            raise ParameterError(
                "estimator: a Pipeline nested as the last step of a Pipeline cannot train epoch "
                "by epoch; flatten it (make_pipeline(*outer[:-1], *inner))."
            )
        if not trains_by_epochs(estimator):
            raise ParameterError(
                f"estimator must train epoch by epoch for {type(self).__name__}'s budget: a "
                "skorch net (every skfma net), an estimator with partial_fit, or a Pipeline "
                f"ending in one; got {type(final).__name__}."
            )
        budget = prefix + "max_epochs"
        if is_skorch_net(final) and budget in space.names:
            raise ParameterError(
                f"param_distributions must not hold {budget!r}: max_epochs is "
                f"{type(self).__name__}'s budget (each configuration trains up to it)."
            )
        max_epochs = self.max_epochs
        if max_epochs is None:
            if not is_skorch_net(final):
                raise ParameterError(
                    f"max_epochs is required for {type(final).__name__} (None takes the "
                    "max_epochs of a skorch net)."
                )
            max_epochs = check_int(f"estimator's {budget}", final.max_epochs)
        if self.min_epochs > max_epochs:
            raise ParameterError(
                f"min_epochs must be <= max_epochs; got min_epochs={self.min_epochs} and "
                f"max_epochs={max_epochs}."
            )
        return max_epochs

    def _rungs(self, max_epochs):
        """Epoch counts at which trials are scored: every rung of every bracket, then the end.

        Rungs sit at ``min_epochs * reduction_factor**k``: Optuna's Hyperband
        brackets start at successive ``k`` and promote at the following ones.
        """
        rungs, epochs = [], self.min_epochs
        while epochs < max_epochs:
            rungs.append(epochs)
            epochs *= self.reduction_factor
        return [*rungs, max_epochs]

    @names_its_errors
    def fit(self, X, y=None, *, groups=None, **fit_params):
        """Run the search, then refit the best configuration on all of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training data: features, spectrograms, or whatever ``estimator``
            takes (audio paths for a Pipeline starting with ``AudioLoader``).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Target.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group splitter (``GroupKFold``) given as ``cv``.
        **fit_params : dict
            Passed to the estimator's ``fit`` (``partial_fit`` when training
            by epochs; for a Pipeline, ``step__param`` goes to that step);
            arrays with one value per sample are cut to each fold.

        Returns
        -------
        self : object
            The fitted search.
        """
        self._check_params()
        optuna = _import_optuna(type(self).__name__)
        space = SearchSpace(self.param_distributions)
        max_epochs = self._check_estimator(space)
        estimator = self.estimator
        X, y, groups = indexable(X, y, groups)
        try:
            scorer = check_scoring(estimator, scoring=self.scoring)
        except (ValueError, TypeError) as error:
            raise ParameterError(
                f"scoring must be None, a scikit-learn scorer name or a callable; got "
                f"{self.scoring!r} ({' '.join(str(error).split())})."
            ) from None
        try:
            cv = check_cv(self.cv, y, classifier=is_classifier(estimator))
        except (ValueError, TypeError) as error:
            raise ParameterError(f"cv: {' '.join(str(error).split())}") from None
        folds = check_folds(list(cv.split(X, y, groups)), _n_samples(X))

        rng = check_random_state(self.random_state)
        sampler_seed, fill = None, {}
        if self.random_state is not None:
            sampler_seed = torch_seed(rng)
            seed = torch_seed(rng)
            fill = {
                name: seed
                for name, value in estimator.get_params(deep=True).items()
                if name.rsplit("__", 1)[-1] == "random_state"
                and value is None
                and not any(name == p or name.startswith(f"{p}__") for p in space.names)
            }
        n_trials = self._n_trials(max_epochs)
        journal, fingerprint, saved = None, None, []
        if self.checkpoint is not None:
            journal = SearchJournal(self.checkpoint)
            fingerprint = search_fingerprint(self, X, y, folds)
            saved = journal.load(fingerprint)[:n_trials]
            if saved and self.verbose:
                print(
                    f"[{type(self).__name__}] going on after trial {len(saved)}/{n_trials}, "
                    f"saved in {journal.file!r}"
                )
        with _optuna_logging(optuna, self.verbose):
            study = optuna.create_study(
                study_name=STUDY_NAME,
                direction="maximize",
                sampler=self._make_sampler(optuna, sampler_seed),
                pruner=self._make_pruner(optuna, max_epochs),
            )
            records, seconds = [], []  # the seconds of each trial trained in this run
            for _ in range(n_trials):
                start = time.perf_counter()
                if len(records) < len(saved):
                    trial, record = self._replay_trial(study, space, saved[len(records)], journal)
                    params = record["params"]
                else:
                    trial = study.ask()
                    params = space.suggest(trial)
                    candidate = clone(estimator).set_params(**fill, **params)
                    if max_epochs is None:
                        record = self._run_trial(candidate, X, y, folds, fit_params, scorer)
                    else:
                        record = self._run_trial_by_epochs(
                            trial, candidate, X, y, folds, fit_params, scorer, max_epochs
                        )
                    record["params"] = params
                    record["trial_params"] = dict(trial.params)
                    seconds.append(time.perf_counter() - start)
                records.append(record)
                if journal is not None and len(records) > len(saved):
                    journal.save(fingerprint, records)
                if self.verbose:
                    epochs = "" if record["n_epochs"] is None else f", {record['n_epochs']} epochs"
                    again = " (saved)" if len(records) <= len(saved) else ""
                    left = ""
                    if seconds and len(records) < n_trials:  # trials left at the mean trial's time
                        estimate = np.mean(seconds) * (n_trials - len(records))
                        left = f"; about {tqdm.format_interval(estimate)} left"
                    print(
                        f"[{type(self).__name__}] trial {len(records)}/{n_trials}{again} "
                        f"{record['state']}{epochs}: score {record['mean']:.4f}{left}, {params}"
                    )
                if record["state"] == "complete" and math.isfinite(record["mean"]):
                    study.tell(trial, record["mean"])
                else:
                    state = "PRUNED" if record["state"] == "pruned" else "FAIL"
                    study.tell(trial, state=getattr(optuna.trial.TrialState, state))

        self._warn_about_failures(records, len(folds))
        self.study_ = study
        self.n_splits_ = len(folds)
        self.scorer_ = scorer
        self.multimetric_ = False
        self.cv_results_ = self._format_results(records, space.names, len(folds))
        ranks = self.cv_results_["rank_test_score"]
        self.best_index_ = int(np.flatnonzero(ranks == ranks.min())[0])
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        self.best_params_ = records[self.best_index_]["params"]
        epochs = [record["n_epochs_total"] for record in records]
        self.n_epochs_total_ = None if None in epochs else int(sum(epochs))

        if self.refit:
            best = clone(estimator).set_params(**fill, **self.best_params_)
            prefix, final = final_step(best)
            if journal is not None and "checkpoint" in final.get_params(deep=False):
                # The refit net saves its epochs too: an interrupted refit goes on.
                # One folder per best configuration: more trials may choose another.
                refit = f"refit-{stable_hash(describe(self.best_params_))[:12]}"
                best.set_params(**{prefix + "checkpoint": os.path.join(journal.folder, refit)})
            start = time.perf_counter()
            if max_epochs is None:
                best.fit(X, y, **fit_params)
            else:
                n_epochs = int(self.cv_results_["n_epochs"][self.best_index_])
                _fit_epochs(best, X, y, n_epochs, fit_params)
            self.refit_time_ = time.perf_counter() - start
            self.best_estimator_ = best
        return self

    def _replay_trial(self, study, space, record, journal):
        """Tell Optuna a trial saved by an earlier run, as it was told then; no training.

        With ``random_state``, the sampler draws the saved trial's parameters
        again (so that the trials after it are those of an uninterrupted
        run); without, they are queued for it.

        Returns
        -------
        trial : optuna.trial.Trial
        record : dict
            The saved record.
        """
        if self.random_state is None:
            study.enqueue_trial(record["trial_params"])
        trial = study.ask()
        space.suggest(trial)
        if trial.params != record["trial_params"]:
            raise CheckpointError(
                f"{type(self).__name__}: the sampler drew {trial.params} where the search "
                f"saved in {journal.file!r} drew {record['trial_params']} (another version of "
                "Optuna?): delete the folder to search from the start."
            )
        for step, value in record.get("intermediate", ()):
            trial.report(value, step)
        return trial, record

    def _run_trial(self, candidate, X, y, folds, fit_params, scorer):
        """Cross-validate one configuration, each fold fitted in full."""
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(fit_and_score)(
                clone(candidate), X, y, train, test, fit_params, scorer, self.error_score
            )
            for train, test in folds
        )
        epochs = [result["n_epochs"] for result in results]
        errors = [result["error"] for result in results]
        return {
            "scores": [result["score"] for result in results],
            "fit_time": [result["fit_time"] for result in results],
            "score_time": [result["score_time"] for result in results],
            "n_epochs": None if None in epochs else max(epochs),
            "n_epochs_total": None if None in epochs else sum(epochs),
            "errors": [error for error in errors if error is not None],
            "state": "fail" if any(errors) else "complete",
            "mean": float(np.mean([result["score"] for result in results])),
        }

    def _run_trial_by_epochs(self, trial, candidate, X, y, folds, fit_params, scorer, max_epochs):
        """Train one configuration rung by rung on every fold; stop when the pruner says so.

        Each fold's net continues from where the previous rung left it: it is
        never trained again from its first epoch.
        """
        classes = classes_of(candidate, y)
        state = [Fold(clone(candidate), train, test, fit_params, classes) for train, test in folds]
        status, done, mean, intermediate = "complete", 0, np.nan, []
        for rung in self._rungs(max_epochs):
            data = (X, y) if done == 0 else ()
            state = Parallel(n_jobs=self.n_jobs)(
                delayed(advance_fold)(fold, rung - done, scorer, self.error_score, *data)
                for fold in state
            )
            done = rung
            mean = float(np.mean([fold.score for fold in state]))
            if any(fold.error is not None for fold in state):
                status = "fail"
                break
            trial.report(mean, done)
            intermediate.append((done, mean))
            if rung < max_epochs and trial.should_prune():
                status = "pruned"
                break
        for fold in state:
            fold.release()
        epochs = [fold.n_epochs for fold in state]
        return {
            "scores": [fold.score for fold in state],
            "fit_time": [fold.fit_time for fold in state],
            "score_time": [fold.score_time for fold in state],
            "n_epochs": max(epochs),
            "n_epochs_total": sum(epochs),
            "errors": [fold.error for fold in state if fold.error is not None],
            "state": status,
            "mean": mean,
            "intermediate": intermediate,
        }

    def _warn_about_failures(self, records, n_splits):
        """Warn about failed fits (FitFailedWarning) as scikit-learn's searches do; all: raise."""
        errors = [error for record in records for error in record["errors"]]
        if not errors:
            return
        n_fits = len(records) * n_splits
        summary = "\n".join(
            f"{'-' * 80}\n{n} fits failed with the following error:\n{error}"
            for error, n in Counter(errors).items()
        )
        if all(record["state"] == "fail" for record in records):
            error, _ = Counter(errors).most_common(1)[0]
            cause = error.strip().splitlines()[-1]  # the exception, after its traceback
            raise ValueError(
                f"{type(self).__name__}: every trial failed ({len(errors)} failed fits), e.g. "
                f"with {cause}\nIt is very "
                "likely that your model is misconfigured; set error_score='raise' to debug.\n\n"
                f"Below are more details about the failures:\n{summary}"
            )
        warn_user(
            f"\n{len(errors)} fits failed out of a total of {n_fits}.\nThe score on these "
            f"train-test partitions for these parameters will be set to {self.error_score}."
            "\nIf these failures are not expected, set error_score='raise' to debug.\n\n"
            f"Below are more details about the failures:\n{summary}",
            FitFailedWarning,
        )

    def _format_results(self, records, names, n_splits):
        """``cv_results_`` as scikit-learn's searches give it, plus ``n_epochs`` and ``state``."""
        n = len(records)
        results = {}
        for key in ("fit_time", "score_time"):
            times = np.array([record[key] for record in records], dtype=float)
            results[f"mean_{key}"] = times.mean(axis=1)
            results[f"std_{key}"] = times.std(axis=1)
        for name in names:
            column = np.ma.MaskedArray(np.empty(n, dtype=object), mask=True)
            for i, record in enumerate(records):
                if name in record["params"]:
                    column[i] = record["params"][name]
            results[f"param_{name}"] = column
        results["params"] = [record["params"] for record in records]
        scores = np.array([record["scores"] for record in records], dtype=float)
        for split in range(n_splits):
            results[f"split{split}_test_score"] = scores[:, split]
        results["mean_test_score"] = scores.mean(axis=1)
        results["std_test_score"] = scores.std(axis=1)
        states = np.array([record["state"] for record in records])
        epochs = [record["n_epochs"] for record in records]
        # Pruned trials: those that trained further rank first (as in HalvingGridSearchCV),
        # then by score. Unpruned ones by score alone, whatever epochs each trained (max_epochs
        # searched, early stopping). Failed trials and NaN scores last.
        pruned = self._trains_by_epochs() and None not in epochs
        reached = np.array(epochs, dtype=float) if pruned else np.zeros(n)
        keys = [
            (np.isnan(s), state != "complete", -r, 0.0 if np.isnan(s) else -s)
            for s, state, r in zip(results["mean_test_score"], states, reached, strict=True)
        ]
        results["rank_test_score"] = np.array(
            [1 + sum(other < key for other in keys) for key in keys], dtype=np.int32
        )
        if math.isnan(results["mean_test_score"][int(np.argmin(results["rank_test_score"]))]):
            raise ValueError(
                f"{type(self).__name__}: every trial scored NaN: there is no best configuration."
            )
        if None not in epochs:
            results["n_epochs"] = np.array(epochs, dtype=np.int64)
        results["state"] = states
        return results

    # ---------------------------------------------------------------- using the best

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        sub = get_tags(self.estimator)
        tags.estimator_type = sub.estimator_type
        tags.classifier_tags = deepcopy(sub.classifier_tags)
        tags.regressor_tags = deepcopy(sub.regressor_tags)
        tags.transformer_tags = deepcopy(sub.transformer_tags)
        tags.input_tags = deepcopy(sub.input_tags)
        tags.target_tags = deepcopy(sub.target_tags)
        return tags

    @property
    def classes_(self):
        """The class labels of the best estimator (``refit=True``, a classifier)."""
        _search_estimator_has("classes_")(self)
        return self.best_estimator_.classes_

    @property
    def n_features_in_(self):
        """Number of features seen by the best estimator's fit (``refit=True``)."""
        try:
            check_is_fitted(self)
        except Exception as error:
            raise AttributeError(
                f"{type(self).__name__} object has no n_features_in_ attribute."
            ) from error
        return self.best_estimator_.n_features_in_

    @_if_best_estimator_has
    def predict(self, X):
        """Predict with the best estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    @_if_best_estimator_has
    def predict_proba(self, X):
        """Class probabilities from the best estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    @_if_best_estimator_has
    def predict_log_proba(self, X):
        """Log class probabilities from the best estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.best_estimator_.predict_log_proba(X)

    @_if_best_estimator_has
    def decision_function(self, X):
        """Decision function of the best estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        scores : ndarray
        """
        check_is_fitted(self)
        return self.best_estimator_.decision_function(X)

    @_if_best_estimator_has
    def score_samples(self, X):
        """Per-sample scores of the best estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.best_estimator_.score_samples(X)

    @_if_best_estimator_has
    def transform(self, X):
        """Transform with the best estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        Xt : array-like
        """
        check_is_fitted(self)
        return self.best_estimator_.transform(X)

    @_if_best_estimator_has
    def inverse_transform(self, X):
        """Inverse-transform with the best estimator.

        Parameters
        ----------
        X : array-like

        Returns
        -------
        X_original : array-like
        """
        check_is_fitted(self)
        return self.best_estimator_.inverse_transform(X)

    def score(self, X, y=None):
        """Score the best estimator with ``scoring`` (its own ``score`` when None).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None

        Returns
        -------
        score : float
        """
        _search_estimator_has("score")(self)
        check_is_fitted(self)
        return self.scorer_(self.best_estimator_, X, y)


def _fit_epochs(estimator, X, y, n_epochs, fit_params):
    """Fit a fresh configuration on all the data for ``n_epochs`` epochs (the refit)."""
    prefix, final = final_step(estimator)
    if is_skorch_net(final):
        estimator.set_params(**{prefix + "max_epochs": n_epochs})
        return estimator.fit(X, y, **fit_params)
    everything = np.arange(_n_samples(X))
    fold = Fold(estimator, everything, everything[:0], fit_params, classes_of(estimator, y))
    fold.start(X, y, reseed=False)
    if n_epochs:
        fold.advance(n_epochs, _no_score)
    return estimator


def _no_score(estimator, X, y):
    return np.nan


def _check_estimator_instance(estimator):
    """``estimator`` of a search: an estimator instance, not a class."""
    if isinstance(estimator, type) or not (
        hasattr(estimator, "fit") and hasattr(estimator, "get_params")
    ):
        what = f"the class {estimator.__name__}" if isinstance(estimator, type) else repr(estimator)
        raise ParameterError(
            "estimator must be a scikit-learn estimator instance, such as DNNClassifier(); "
            f"got {what}."
        )


def _check_error_score(error_score):
    if not (
        error_score == "raise"
        if isinstance(error_score, str)
        else isinstance(error_score, Real)
        and not isinstance(error_score, bool)
        and not math.isinf(error_score)
    ):
        raise ParameterError(
            f"error_score must be 'raise', a finite number or nan; got {error_score!r}."
        )


def _check_cv_value(cv):
    """A number of folds is an int >= 2 (splitters and iterables are checked with the data)."""
    if isinstance(cv, Real) and not (is_int(cv) and cv >= 2):
        raise ParameterError(
            "cv must be None, an int >= 2 (folds), a splitter or an iterable of "
            f"(train, test) splits; got {cv!r}."
        )


def _check_one_metric(scoring):
    """One metric (its name or callable is checked against the estimator when fitting)."""
    if isinstance(scoring, list | tuple | set | dict):
        raise ParameterError(
            "scoring must be one metric (None, a scorer name or a callable): the search "
            f"optimises one number; got {scoring!r}."
        )
