"""Tag inspection: each clip's top tags, compensated for unbalanced tags."""

import functools

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..exceptions import ParameterError
from ..utils import check_array_like, check_bool, check_positive, validate_arguments
from ._neural import NeuralClassifier

__all__ = ["predict_tags"]


def _final_classifier(estimator):
    """The net at the end of a search and a pipeline, or ``estimator`` itself."""
    classifier = getattr(estimator, "best_estimator_", estimator)
    return classifier[-1] if isinstance(classifier, Pipeline) else classifier


def _check_fitted_classifier(name, value):
    """A fitted skfma net (with ``tag_names_`` and ``class_prior_``), or one at a pipeline's end."""
    final = _final_classifier(value)
    is_search = final is value and hasattr(value, "estimator")  # one not fitted yet
    if not hasattr(value, "predict_proba") or not (
        isinstance(final, NeuralClassifier) or is_search
    ):
        raise ParameterError(
            f"{name} must be a fitted skfma neural classifier, or a Pipeline or search ending in "
            f"one; got {type(final).__name__}."
        )
    check_is_fitted(value)
    check_is_fitted(final, ["tag_names_", "class_prior_"])
    return value


@validate_arguments(
    {
        "estimator": _check_fitted_classifier,
        "X": check_array_like,
        "top_k": functools.partial(check_positive, integer=True),
        "divide_by_prior": check_bool,
    }
)
def predict_tags(estimator, X, *, top_k=10, divide_by_prior=True):
    """Each clip's top tags (or classes) with their scores.

    A clip's score for a tag is its predicted probability, divided by the
    tag's prior (the fraction of training clips carrying it) with
    ``divide_by_prior=True``: rare tags then rank by how much more likely
    they are than usual rather than drowning under the common ones, as in
    Choi et al.'s tagging tool. Works for multi-label taggers and
    single-label classifiers alike.

    Parameters
    ----------
    estimator : NeuralClassifier, Pipeline or search
        A fitted skfma neural classifier, or a fitted ``Pipeline`` (or
        ``GridSearchCV``) ending in one, e.g. ``AudioLoader ->
        MelSpectrogram -> ChoiCRNN``.
    X : array-like
        What ``estimator.predict_proba`` takes: file paths for a pipeline
        starting with ``AudioLoader``, spectrograms for a bare net.
    top_k : int, default=10
        Tags kept per clip (all of them when there are fewer).
    divide_by_prior : bool, default=True
        Divide probabilities by the training priors (``class_prior_``). A
        tag that no training clip carried scores 0.

    Returns
    -------
    tags : list of list of (tag, float)
        For each clip, in the order of ``X``, its ``top_k`` tags from the
        highest score down, named by the classifier's ``tag_names_`` (the
        columns of a DataFrame tag matrix, else ``classes_``).

    See Also
    --------
    ChoiCRNN, NeuralClassifier

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skfma.models import ChoiCRNN, predict_tags
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((20, 16, 24)).astype(np.float32)
    >>> Y = pd.DataFrame({"rock": np.arange(20) % 2, "guitar": np.arange(20) % 4 == 0}, dtype=int)
    >>> clf = ChoiCRNN(module__filters=(4, 4, 4, 4), max_epochs=2, random_state=0).fit(X, Y)
    >>> tags = predict_tags(clf, X[:2], top_k=1)
    >>> len(tags), len(tags[0]), tags[0][0][0] in ("rock", "guitar")
    (2, 1, True)
    """
    classifier = _final_classifier(estimator)
    names = np.asarray(classifier.tag_names_).tolist()
    scores = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    if divide_by_prior:
        prior = classifier.class_prior_
        scores = np.divide(scores, prior, out=np.zeros_like(scores), where=prior > 0)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :top_k]
    return [
        [(names[tag], float(row[tag])) for tag in tags]
        for tags, row in zip(order, scores, strict=True)
    ]
