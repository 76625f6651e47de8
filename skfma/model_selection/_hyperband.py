"""Hyperband over epochs: random configurations, stopped early in brackets of successive halving."""

import functools
import math

import numpy as np

from ..exceptions import ParameterError
from ..utils import check_int, validate_arguments
from ._search import BaseOptunaSearchCV

__all__ = ["HyperbandSearchCV", "hyperband_n_trials"]


@validate_arguments(
    {
        "max_epochs": check_int,
        "min_epochs": check_int,
        "reduction_factor": functools.partial(check_int, minimum=2),
    }
)
def hyperband_n_trials(max_epochs, min_epochs=1, reduction_factor=3):
    """Configurations of one Hyperband iteration (Li et al., 2018, Algorithm 1).

    With ``s_max + 1`` brackets (``floor(log_eta(max_epochs / min_epochs)) +
    1``), bracket ``s`` starts ``ceil((s_max + 1) / (s + 1) * eta**s)``
    configurations: 17 for 9 epochs and ``eta = 3``, 49 for 27.

    Parameters
    ----------
    max_epochs, min_epochs, reduction_factor : int
        As in :class:`HyperbandSearchCV`.

    Returns
    -------
    n_trials : int
    """
    if min_epochs > max_epochs:
        raise ParameterError(f"min_epochs must be <= max_epochs; got {min_epochs} > {max_epochs}.")
    # Optuna's own count of brackets (HyperbandPruner), so that both agree; its floating-point
    # logarithm counts one bracket fewer than the formula at some exact powers (243 epochs).
    n_brackets = math.floor(math.log(max_epochs / min_epochs, reduction_factor)) + 1
    return sum(math.ceil(n_brackets * reduction_factor**s / (s + 1)) for s in range(n_brackets))


class HyperbandSearchCV(BaseOptunaSearchCV):
    """Hyperband search over a net's hyperparameters, with epochs as the budget.

    Hyperband (Li et al., 2018) runs brackets of successive halving: many
    configurations train a few epochs, and only the best fraction
    (``1 / reduction_factor``) of those at each rung trains on, up to
    ``max_epochs``; each bracket starts at a different rung, trading many
    short trials against few long ones. Configurations are drawn at random
    from ``param_distributions``. Optuna does the bookkeeping
    (:class:`optuna.pruners.HyperbandPruner`, its asynchronous variant: a
    trial is promoted when it is in the top fraction of the trials of its
    bracket that reached the rung before it, so the first trials of a
    bracket always go on).

    A surviving configuration continues from its checkpoint: each fold's
    net is trained with ``partial_fit`` a chunk of epochs at a time (from one
    rung to the next) and scored on the fold's held-out clips after each
    chunk; it is never retrained from its first epoch. For a Pipeline, the
    steps before the net are fitted once per fold, and only the net goes on
    training. ``cv_results_`` records the epochs each configuration reached,
    and ``n_epochs_total_`` the epochs of the whole search.

    Parameters
    ----------
    estimator : estimator
        A skorch net (every :mod:`skfma.models` net), another estimator
        with ``partial_fit`` (one call is one epoch), or a Pipeline ending
        in one.
    param_distributions : dict or list of dict
        Parameter name -> list of values (as ``GridSearchCV``'s grid:
        layer sizes, callbacks, any value) or ``scipy.stats`` frozen
        distribution (as ``RandomizedSearchCV``: ``loguniform(1e-4,
        1e-2)``, ``randint(3, 7)``, ...); nested names (``"step__lr"``,
        ``"module__dropout"``) as in ``set_params``. A list of dicts is a
        choice between subspaces. ``max_epochs`` cannot be searched: it is
        the budget.
    max_epochs : int or None, default=None
        The most epochs a configuration trains (Hyperband's ``R`` in units
        of ``min_epochs``). None takes the net's own ``max_epochs``.
    min_epochs : int, default=1
        Epochs of the first rung of the most aggressive bracket.
    reduction_factor : int, default=3
        Hyperband's ``eta``: rungs are ``min_epochs * eta**k`` epochs apart,
        and ``1 / eta`` of a rung's configurations train on.
    n_trials : int or None, default=None
        Configurations to try; None gives one Hyperband iteration's worth
        (:func:`hyperband_n_trials`, 17 for ``max_epochs=9``). Values are
        drawn with replacement, so a small space of lists may repeat one.
    scoring : str, callable or None, default=None
        One scikit-learn scorer (a name such as ``"accuracy"`` or
        ``"f1_macro"``, or a callable); None uses the estimator's ``score``.
    cv : int, cross-validation generator, iterable or None, default=None
        As in ``GridSearchCV``: None is 5-fold (stratified for classifiers).
    refit : bool, default=True
        Refit the best configuration on all of ``X`` for the epochs it
        reached (``max_epochs``), as ``best_estimator_``.
    n_jobs : int or None, default=None
        Folds trained in parallel by joblib, so that a Dask cluster runs them
        under ``joblib.parallel_config(backend="dask")``. Trials run one
        after another, as Hyperband decides each one's fate from the earlier
        ones; with parallel folds, each rung sends every fold's partly
        trained net and its (transformed) clips to a worker and back.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws of configurations. Not None also sets every
        ``random_state`` left None in ``estimator`` (its nets, its steps)
        to one int drawn from it, the same for every trial, fold and the
        refit, so that two searches with the same ``random_state`` give the
        same ``cv_results_`` (on the same machine).
    verbose : int, default=0
        0 keeps Optuna quiet; 1 or more prints a line per trial (its state,
        epochs, score, the time left at the mean trial's time, and its
        parameters) and lets Optuna log.
    error_score : "raise" or float, default=np.nan
        Score of a fold whose fit fails, which ends its trial (a
        ``FitFailedWarning`` lists the errors); "raise" raises instead.
    checkpoint : str, os.PathLike or None, default=None
        A folder where the search saves each trial as it ends, and the
        refit net its epochs (for a skfma net). A search started again with
        the same folder, the same settings and data goes on after the
        trials saved there (an interrupted trial starts again), with
        ``random_state`` as an uninterrupted search would; ``n_trials``,
        ``n_jobs``, ``verbose`` and ``refit`` may change (more trials go on
        from the saved ones). A folder of another search is refused, naming
        what differs.

    Attributes
    ----------
    cv_results_ : dict of ndarray
        One entry per trial, as ``GridSearchCV``'s (``params``,
        ``param_<name>`` masked arrays, ``split<i>_test_score``,
        ``mean_test_score``, ``std_test_score``, ``rank_test_score``,
        ``mean_fit_time``, ...) plus ``n_epochs`` (the epochs each fold's net
        reached) and ``state`` (``"complete"``, ``"pruned"`` or
        ``"fail"``). Scores are those at the last rung reached; trials rank
        by the epochs they reached first (as in ``HalvingGridSearchCV``),
        then by score.
    best_estimator_ : estimator
        The best configuration refitted on all the data (``refit=True``).
    best_score_ : float
        Its mean cross-validated score.
    best_params_ : dict
        Its parameters.
    best_index_ : int
        Its row of ``cv_results_``.
    n_epochs_total_ : int
        Epochs trained in the search, summed over trials and folds (the
        refit left out), as counted by the nets' ``history_``; a full grid
        of ``n`` configurations costs ``n * max_epochs * n_splits_``.
    scorer_ : callable
        The scorer.
    n_splits_ : int
        Number of cross-validation folds.
    refit_time_ : float
        Seconds taken by the refit.
    study_ : optuna.study.Study
        Optuna's record of the trials (intermediate scores at each rung), for
        ``optuna.visualization``. A list's non-primitive values (tuples,
        classes) appear there as their ``repr``; a distribution other than
        uniform, log-uniform or randint as its sampled quantile.
    classes_ : ndarray
        The class labels (a classifier with ``refit=True``).
    multimetric_ : bool
        False: one metric.

    See Also
    --------
    BayesianSearchCV : Bayesian optimisation (TPE or GP), optionally with
        Hyperband's early stopping.
    sklearn.model_selection.HalvingRandomSearchCV : Successive halving over
        samples, retraining each survivor.
    sklearn.model_selection.RandomizedSearchCV : Random search at full budget.
    sklearn.model_selection.GridSearchCV : Exhaustive search.

    Notes
    -----
    A net whose ``random_state`` is an int seeds torch with it on every
    ``partial_fit``; the search hands each fold's net a ``RandomState``
    seeded with that int instead, so that its first chunk is as from the int
    and later chunks shuffle anew rather than replay the first one's order.
    The refit trains in one ``fit``, so its random draws differ from those of
    the chunked fold nets.

    References
    ----------
    L. Li, K. Jamieson, G. DeSalvo, A. Rostamizadeh and A. Talwalkar,
    "Hyperband: A Novel Bandit-Based Approach to Hyperparameter
    Optimization", JMLR 18(185), 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from skfma.model_selection import HyperbandSearchCV
    >>> from skfma.models import DNNClassifier
    >>> X, y = make_classification(60, 4, random_state=0)
    >>> net = DNNClassifier(module__hidden_layer_sizes=(8,), batch_size=16, random_state=0)
    >>> search = HyperbandSearchCV(net, {"lr": [1e-2, 1e-5]}, max_epochs=4, cv=2,
    ...                            reduction_factor=2, random_state=0).fit(X, y)
    >>> search.best_params_
    {'lr': 0.01}
    >>> int(search.cv_results_["n_epochs"].max())
    4
    >>> search.predict(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        max_epochs=None,
        min_epochs=1,
        reduction_factor=3,
        n_trials=None,
        scoring=None,
        cv=None,
        refit=True,
        n_jobs=None,
        random_state=None,
        verbose=0,
        error_score=np.nan,
        checkpoint=None,
    ):
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.max_epochs = max_epochs
        self.min_epochs = min_epochs
        self.reduction_factor = reduction_factor
        self.n_trials = n_trials
        self.scoring = scoring
        self.cv = cv
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.error_score = error_score
        self.checkpoint = checkpoint

    _parameter_checks = {"n_trials": functools.partial(check_int, allow_none=True)}

    def _trains_by_epochs(self):
        return True

    def _make_sampler(self, optuna, seed):
        return optuna.samplers.RandomSampler(seed=seed)

    def _n_trials(self, max_epochs):
        if self.n_trials is not None:
            return self.n_trials
        return hyperband_n_trials(max_epochs, self.min_epochs, self.reduction_factor)
