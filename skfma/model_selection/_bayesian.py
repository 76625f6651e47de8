"""Bayesian optimisation (TPE or a Gaussian process) of cross-validated scores."""

import functools

import numpy as np

from ..utils import check_bool, check_choice, check_int
from ._search import BaseOptunaSearchCV

__all__ = ["BayesianSearchCV"]

SAMPLERS = ("tpe", "gp")


class BayesianSearchCV(BaseOptunaSearchCV):
    """Bayesian optimisation of a net's hyperparameters: each trial learns from the earlier ones.

    After ``n_startup_trials`` random configurations, each new one is chosen
    by a model of the cross-validated scores seen so far: Optuna's
    tree-structured Parzen estimator (``sampler="tpe"``, Bergstra et al.,
    2011) or a Gaussian process (``"gp"``). Each trial cross-validates one
    configuration, fitted in full on every fold.

    With ``pruning=True``, trials also stop early as in
    :class:`HyperbandSearchCV` (TPE proposals with Hyperband's brackets, as
    BOHB): each fold's net trains from rung to rung with ``partial_fit``,
    continuing from its checkpoint, and stops when Optuna's
    ``HyperbandPruner`` ranks it out.

    Parameters
    ----------
    estimator : estimator
        Any scikit-learn estimator or Pipeline; with ``pruning=True``, a
        skorch net (every :mod:`skfma.models` net), another estimator with
        ``partial_fit``, or a Pipeline ending in one.
    param_distributions : dict or list of dict
        Parameter name -> list of values (as ``GridSearchCV``'s grid) or
        ``scipy.stats`` frozen distribution (as ``RandomizedSearchCV``). Lists
        are categorical to the model; ``uniform``, ``loguniform`` and
        ``randint`` are modelled as numbers (on a log scale for
        ``loguniform``); any other distribution through its quantiles. A
        list of dicts is a choice between subspaces.
    n_trials : int, default=30
        Configurations to try (report 002 ran 30).
    sampler : {"tpe", "gp"}, default="tpe"
        Optuna's ``TPESampler`` or ``GPSampler``.
    n_startup_trials : int, default=10
        Random configurations before the model takes over (Optuna's default).
    pruning : bool, default=False
        Stop poor configurations early, in epochs, with Hyperband's brackets.
    max_epochs : int or None, default=None
        With ``pruning``: the most epochs a configuration trains; None takes
        the net's own ``max_epochs``. Ignored otherwise.
    min_epochs : int, default=1
        With ``pruning``: epochs of the first rung.
    reduction_factor : int, default=3
        With ``pruning``: Hyperband's ``eta``.
    scoring : str, callable or None, default=None
        One scikit-learn scorer; None uses the estimator's ``score``.
    cv : int, cross-validation generator, iterable or None, default=None
        As in ``GridSearchCV``: None is 5-fold (stratified for classifiers).
    refit : bool, default=True
        Refit the best configuration on all of ``X`` as ``best_estimator_``
        (with ``pruning``, for the epochs it reached).
    n_jobs : int or None, default=None
        Folds fitted in parallel by joblib (a Dask cluster under
        ``joblib.parallel_config(backend="dask")``). Trials run one after
        another: each is proposed from the results of all earlier ones,
        which also keeps a seeded search reproducible.
    random_state : int, RandomState instance or None, default=None
        Seeds the sampler. Not None also sets every ``random_state`` left
        None in ``estimator`` to one int drawn from it, the same for every
        trial, fold and the refit.
    verbose : int, default=0
        0 keeps Optuna quiet; 1 or more prints a line per trial (its state,
        score, the time left at the mean trial's time, and its parameters)
        and lets Optuna log.
    error_score : "raise" or float, default=np.nan
        Score of a fold whose fit fails (a ``FitFailedWarning`` lists the
        errors); "raise" raises instead.
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
        One entry per trial, as ``GridSearchCV``'s, plus ``state``
        (``"complete"``, ``"pruned"``, ``"fail"``) and, for skorch nets,
        ``n_epochs`` (the epochs in the fold nets' ``history_``).
    best_estimator_ : estimator
        The best configuration refitted on all the data (``refit=True``).
    best_score_ : float
        Its mean cross-validated score.
    best_params_ : dict
        Its parameters.
    best_index_ : int
        Its row of ``cv_results_``.
    n_epochs_total_ : int or None
        Epochs trained in the search over trials and folds (the refit left
        out), for skorch nets or with ``pruning``; None otherwise.
    scorer_ : callable
        The scorer.
    n_splits_ : int
        Number of cross-validation folds.
    refit_time_ : float
        Seconds taken by the refit.
    study_ : optuna.study.Study
        Optuna's record of the trials, for ``optuna.visualization``.
    classes_ : ndarray
        The class labels (a classifier with ``refit=True``).
    multimetric_ : bool
        False: one metric.

    See Also
    --------
    HyperbandSearchCV : Random configurations with Hyperband's early stopping.
    sklearn.model_selection.RandomizedSearchCV : Random search.
    sklearn.model_selection.GridSearchCV : Exhaustive search.

    References
    ----------
    J. Bergstra, R. Bardenet, Y. Bengio and B. Kégl, "Algorithms for
    Hyper-Parameter Optimization", NeurIPS 2011.

    S. Falkner, A. Klein and F. Hutter, "BOHB: Robust and Efficient
    Hyperparameter Optimization at Scale", ICML 2018.

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import make_classification
    >>> from skfma.model_selection import BayesianSearchCV
    >>> from skfma.models import DNNClassifier
    >>> X, y = make_classification(60, 4, random_state=0)
    >>> net = DNNClassifier(module__hidden_layer_sizes=(8,), max_epochs=3, batch_size=16)
    >>> search = BayesianSearchCV(net, {"lr": loguniform(1e-5, 1e-1), "batch_size": [8, 16]},
    ...                           n_trials=4, n_startup_trials=2, cv=2, random_state=0)
    >>> search.fit(X, y).cv_results_["mean_test_score"].shape
    (4,)
    >>> sorted(search.best_params_)
    ['batch_size', 'lr']
    """

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        n_trials=30,
        sampler="tpe",
        n_startup_trials=10,
        pruning=False,
        max_epochs=None,
        min_epochs=1,
        reduction_factor=3,
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
        self.n_trials = n_trials
        self.sampler = sampler
        self.n_startup_trials = n_startup_trials
        self.pruning = pruning
        self.max_epochs = max_epochs
        self.min_epochs = min_epochs
        self.reduction_factor = reduction_factor
        self.scoring = scoring
        self.cv = cv
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.error_score = error_score
        self.checkpoint = checkpoint

    _parameter_checks = {
        "n_trials": check_int,
        "sampler": functools.partial(check_choice, choices=SAMPLERS),
        "n_startup_trials": functools.partial(check_int, minimum=0),
        "pruning": check_bool,
    }

    def _trains_by_epochs(self):
        return check_bool("pruning", self.pruning)  # True for np.True_ too

    def _make_sampler(self, optuna, seed):
        if self.sampler == "gp":
            return optuna.samplers.GPSampler(seed=seed, n_startup_trials=self.n_startup_trials)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=self.n_startup_trials)
