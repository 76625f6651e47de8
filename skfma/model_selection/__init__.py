"""Hyperparameter searches over nets with epochs as the budget: Hyperband and Bayesian.

Both are scikit-learn searches (``fit``, ``best_params_``, ``cv_results_``,
``refit``, ...) whose search logic is Optuna's (an optional dependency,
imported when a search is fitted): its random, TPE and GP samplers and its
Hyperband pruner. A configuration that survives a rung continues training
from where it stopped (``partial_fit``) rather than from its first epoch.
"""

from ._bayesian import BayesianSearchCV
from ._hyperband import HyperbandSearchCV, hyperband_n_trials

__all__ = ["BayesianSearchCV", "HyperbandSearchCV", "hyperband_n_trials"]
