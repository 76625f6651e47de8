"""Evaluation reports of fitted classifiers and taggers, as tables (a ``Bunch`` of pandas objects).

Every number comes from :mod:`sklearn.metrics`; this module only calls the
estimator once per method, times it, and lays the results out in tables.
"""

import functools
import time
import warnings

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
    top_k_accuracy_score,
)
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted

from ..exceptions import ParameterError
from ..utils import check_array_like, check_choice, check_int, validate_arguments
from ..utils._warnings import warn_user

__all__ = ["evaluate_classifier", "evaluate_tagger", "report_to_markdown"]

RESPONSE_METHODS = ("auto", "predict_proba", "decision_function")


def _check_fitted(name, value):
    """A fitted estimator with ``predict``."""
    if not hasattr(value, "predict"):
        raise ParameterError(
            f"{name} must be a fitted classifier with a predict method; got {type(value).__name__}."
        )
    check_is_fitted(value)
    return value


def _check_top_k(name, value):
    """The ks of the top-k accuracies as a tuple of distinct positive ints."""
    values = (value,) if np.ndim(value) == 0 or isinstance(value, str) else tuple(value)
    ks = tuple(check_int(name, k) for k in values)
    if len(set(ks)) != len(ks):
        raise ParameterError(f"{name} must not repeat a value; got {value!r}.")
    return ks


def _check_zero_division(name, value):
    if not (value == "warn" or value in (0.0, 1.0) or _is_nan(value)):
        raise ParameterError(f"{name} must be 'warn', 0.0, 1.0 or np.nan; got {value!r}.")
    return value


def _check_labels(name, value):
    """The true labels as a 1-D array; a tag matrix is refused, naming evaluate_tagger."""
    check_array_like(name, value)
    _check_listed_types(name, value, ValueError)
    y = np.asarray(getattr(value, "to_numpy", lambda: value)())
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2 and type_of_target(y) == "multilabel-indicator":
        raise ValueError(
            f"{name} is a multi-label indicator matrix of shape {y.shape}; evaluate_classifier "
            "takes one label per clip: use evaluate_tagger for tags."
        )
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, one label per clip; got shape {y.shape}.")
    if any(map(_is_missing, y.tolist())):
        raise ValueError(
            f"{name} contains missing labels (None, NaN or NA): every clip needs its label."
        )
    _check_label_types(name, y, ValueError)
    target = type_of_target(y, input_name=name)
    if target not in ("binary", "multiclass"):
        raise ValueError(f"{name} must hold class labels; got a {target!r} target.")
    return y


def _check_label_list(name, value):
    """None, or the labels of the report's rows as a non-empty 1-D array without repeats."""
    if value is None:
        return None
    _check_listed_types(name, value, ParameterError)
    labels = np.asarray(value)
    if labels.ndim != 1 or labels.size == 0:
        raise ParameterError(f"{name} must be a non-empty 1-D array-like; got {value!r}.")
    if len(set(labels.tolist())) != labels.size:
        raise ParameterError(f"{name} must not repeat a label; got {labels.tolist()!r}.")
    _check_label_types(name, labels, ParameterError)
    return labels


def _check_indicator(name, value):
    """Raise unless ``value`` is a 2-D 0/1 indicator matrix; returned as given (a
    DataFrame's columns name the tags)."""
    check_array_like(name, value)
    Y = _indicator_values(value)
    if Y.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D 0/1 indicator matrix (n_clips, n_tags); got shape {Y.shape}. "
            "For one label per clip, use evaluate_classifier."
        )
    if Y.dtype.kind not in "biuf" or not np.isin(Y, (0, 1)).all():
        raise ValueError(
            f"{name} must be a 0/1 (or boolean) indicator matrix; it holds other values."
        )
    return value


def _indicator_values(Y):
    """An indicator matrix's values as one numeric array: a DataFrame mixing bool and int
    columns, or of pandas' nullable types (NA as NaN), would give an array of objects."""
    if hasattr(Y, "to_numpy"):
        try:
            return Y.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):  # not numbers: refused by the caller
            return np.asarray(Y.to_numpy())
    return np.asarray(Y)


def _check_tag_names(name, value):
    """None, or the tags' names as a 1-D array without repeats (their number is checked later)."""
    if value is None:
        return None
    names = np.asarray(value)
    if names.ndim != 1:
        raise ParameterError(f"{name} must be a 1-D array-like of names; got {value!r}.")
    if len(set(names.tolist())) != len(names):
        raise ParameterError(f"{name} must not repeat a name; got {names.tolist()!r}.")
    return names


@validate_arguments(
    {
        "estimator": _check_fitted,
        "X": check_array_like,
        "y": _check_labels,
        "top_k": _check_top_k,
        "labels": _check_label_list,
        "response_method": functools.partial(check_choice, choices=RESPONSE_METHODS),
        "zero_division": _check_zero_division,
    }
)
def evaluate_classifier(
    estimator, X, y, *, top_k=(1, 3), labels=None, response_method="auto", zero_division="warn"
):
    """Evaluate a fitted single-label classifier on a test set.

    The estimator predicts ``X`` once (``predict``, timed) and, for the
    top-k accuracies, scores it once (``predict_proba`` or
    ``decision_function``); every metric is then computed by
    :mod:`sklearn.metrics` from those outputs. Any scikit-learn classifier
    works: a skfma net, a ``Pipeline`` (file paths in), a search
    (``GridSearchCV``), an ``SVC`` without probabilities. A pipeline's
    steps before the last (those of a search's ``best_estimator_``)
    transform ``X`` once, for both calls of its last step.

    Parameters
    ----------
    estimator : classifier
        A fitted classifier with ``predict`` and ``classes_``.
    X : array-like of shape (n_clips, ...)
        What ``estimator.predict`` takes: features, spectrograms, or file
        paths for a pipeline starting with ``AudioLoader``.
    y : array-like of shape (n_clips,)
        True labels, of any type (strings such as ``"Hip-Hop"`` included).
    top_k : int or tuple of int, default=(1, 3)
        The k of each top-k accuracy (the fraction of clips whose true label
        is among the k highest-scored classes,
        :func:`~sklearn.metrics.top_k_accuracy_score`). A k of at least the
        number of classes gives 1 (sklearn's warning about it is silenced);
        a clip whose label the estimator never saw counts as a miss. ``()``
        skips them, and the scoring pass with them.
    labels : array-like of shape (n_labels,) or None, default=None
        The classes of the per-class table and the confusion matrix, in that
        order (a subset is allowed); the macro averages are over them too.
        ``None``: the estimator's ``classes_``, then any label of ``y`` or
        of the predictions that it lacks.
    response_method : {"auto", "predict_proba", "decision_function"}, default="auto"
        The scores of the top-k accuracies; ``"auto"`` takes
        ``predict_proba`` where the estimator has it, else
        ``decision_function``. With neither, the top-k accuracies are NaN,
        with a warning giving the reason; a method named here that the
        estimator lacks raises a ``ParameterError``.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        The precision (recall) of a class that is never predicted (never
        true), as in :func:`~sklearn.metrics.precision_recall_fscore_support`.

    Returns
    -------
    report : sklearn.utils.Bunch
        With the keys:

        summary : pandas.Series of object, indexed by metric
            ``accuracy``, ``balanced_accuracy``, ``top_<k>_accuracy`` for
            each k, ``precision_macro``, ``recall_macro``, ``f1_macro``,
            ``f1_weighted``, ``n_clips`` (int), ``n_classes`` (int, the
            estimator's) and ``inference_seconds_per_clip`` (wall-clock
            seconds of ``predict`` over all of ``X``, divided by the number
            of clips, measured with :func:`time.perf_counter`; for a
            pipeline, the whole pipeline's time, feature extraction included:
            ``timings["transform"]`` plus ``timings["predict"]``).
        per_class : pandas.DataFrame, shape (n_labels, 5)
            Indexed by label: ``precision``, ``recall``, ``f1``,
            ``accuracy`` and ``support`` (int, true clips of the class).
            A class's accuracy is the fraction of its clips predicted as it:
            its recall, the diagonal of the row-normalised confusion matrix
            (for a label with no true clip, ``zero_division``, as its recall).
        confusion : pandas.DataFrame, shape (n_labels, n_labels)
            Confusion matrix normalised over true labels: rows are the true
            labels (index ``"true"``), columns the predicted ones
            (``"predicted"``); a row sums to 1 (to 0 for a label with no
            true clip).
        confusion_counts : pandas.DataFrame of int, shape (n_labels, n_labels)
            The same, in clips.
        labels : ndarray, shape (n_labels,)
            The labels of those tables.
        y_true, y_pred : ndarray, shape (n_clips,)
            True and predicted labels.
        y_score : ndarray of shape (n_clips, n_classes) or (n_clips,), or None
            Scores of the top-k accuracies (``None`` without them); the
            columns follow ``estimator.classes_``.
        response_method : str or None
            The method that gave ``y_score``.
        timings : dict of str to float
            Seconds taken by each method called on all of ``X``: for a
            pipeline, ``"transform"`` (its steps before the last, once),
            then its last step's ``predict`` and scoring method on their
            output.
        skipped : dict of str to str
            Metrics reported as NaN, and why.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ParameterError
        If ``estimator`` is not a classifier (it has no ``classes_``), or
        ``top_k``, ``labels`` or ``response_method`` is invalid.
    ValueError
        If ``y`` is a multi-label indicator matrix (use
        :func:`evaluate_tagger`), mixes label types (strings and numbers),
        or its length is not that of ``X``.

    See Also
    --------
    evaluate_tagger : The report of a multi-label tagger.
    ConfusionMatrixDisplay, PerClassDisplay : Figures of a report.
    report_to_markdown : The report's tables as markdown.

    Notes
    -----
    Write the tables with pandas: ``report.per_class.to_csv("per_class.csv")``,
    ``report.summary.to_csv(...)``; :func:`report_to_markdown` gives them as
    markdown text.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfma.evaluation import evaluate_classifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.array(["Folk", "Pop", "Rock"] * 20)
    >>> X = rng.standard_normal((60, 4)) + (y[:, None] == ["Folk", "Pop", "Rock", "x"])
    >>> clf = LogisticRegression().fit(X[:30], y[:30])
    >>> report = evaluate_classifier(clf, X[30:], y[30:], top_k=(1, 2))
    >>> list(report.summary.index[:4])
    ['accuracy', 'balanced_accuracy', 'top_1_accuracy', 'top_2_accuracy']
    >>> report.per_class.columns.tolist()
    ['precision', 'recall', 'f1', 'accuracy', 'support']
    >>> report.confusion.sum(axis=1).round(6).tolist()
    [1.0, 1.0, 1.0]
    """
    final = _final_estimator(estimator)
    if getattr(final, "multilabel_", False):
        raise ValueError(
            f"{type(final).__name__} was fitted on a multi-label tag matrix (multilabel_=True); "
            "use evaluate_tagger to evaluate a tagger."
        )
    classes = _classes(estimator)
    n_clips = _check_lengths(X, y.shape[0], "y")

    timings = {}
    predictor, X = _transform_front(estimator, X, timings)
    y_pred = np.asarray(_timed(predictor.predict, X, timings))
    if y_pred.ndim != 1 or y_pred.shape[0] != n_clips:
        raise ValueError(
            f"{type(estimator).__name__}.predict returned shape {y_pred.shape}; "
            f"evaluate_classifier needs one label per clip ({n_clips},). For tags, use "
            "evaluate_tagger."
        )
    labels = _report_labels(labels, classes, y, y_pred)

    skipped = {}
    y_score, method = None, None
    if top_k:
        method, reason = _score_method(predictor, response_method)
        if method is None:
            warn_user(f"top-k accuracies not computed: {reason}", UserWarning)
        else:
            y_score = np.asarray(_timed(getattr(predictor, method), X, timings))
            reason = _check_scores(y_score, n_clips, classes, method, predictor)
        if reason is not None:
            skipped.update({f"top_{k}_accuracy": reason for k in top_k})

    summary = {
        "accuracy": accuracy_score(y, y_pred),
        "balanced_accuracy": _balanced_accuracy(y, y_pred),
    }
    for k in top_k:
        name = f"top_{k}_accuracy"
        summary[name] = np.nan if name in skipped else _top_k(y, y_score, k, classes)
    # Per class first: the only call that may warn about zero divisions (once, not thrice).
    precision, recall, f1, support = precision_recall_fscore_support(
        y, y_pred, labels=labels, average=None, zero_division=zero_division
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for average in ("macro", "weighted"):
            mean_precision, mean_recall, mean_f1, _ = precision_recall_fscore_support(
                y, y_pred, labels=labels, average=average, zero_division=zero_division
            )
            if average == "macro":
                summary.update(precision_macro=mean_precision, recall_macro=mean_recall)
            summary[f"f1_{average}"] = mean_f1
    summary.update(
        n_clips=n_clips,
        n_classes=len(classes),
        inference_seconds_per_clip=(timings.get("transform", 0.0) + timings["predict"]) / n_clips,
    )

    counts = confusion_matrix(y, y_pred, labels=labels)
    # Each row over all the clips of its label (sklearn's normalize="true" would count only
    # those predicted among a subset of labels); 0 for a label without clips, as sklearn.
    normalised = counts / np.maximum(support, 1)[:, None]
    index = pd.Index(labels, name="class")
    per_class = pd.DataFrame(
        {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "accuracy": recall,  # normalised's diagonal, or zero_division for a label never true
            "support": support.astype(np.int64),
        },
        index=index,
    )
    true = pd.Index(labels, name="true")
    predicted = pd.Index(labels, name="predicted")
    return Bunch(
        summary=_summary(summary),
        per_class=per_class,
        confusion=pd.DataFrame(normalised, index=true, columns=predicted),
        confusion_counts=pd.DataFrame(counts, index=true, columns=predicted),
        labels=labels,
        y_true=y,
        y_pred=y_pred,
        y_score=y_score,
        response_method=method,
        timings=timings,
        skipped=skipped,
    )


@validate_arguments(
    {
        "estimator": _check_fitted,
        "X": check_array_like,
        "Y": _check_indicator,
        "tag_names": _check_tag_names,
    }
)
def evaluate_tagger(estimator, X, Y, *, tag_names=None):
    """Evaluate a fitted multi-label tagger on a test set: ROC-AUC and PR-AUC per tag.

    The estimator scores ``X`` once (``predict_proba``, else
    ``decision_function``; timed); each tag's ROC-AUC
    (:func:`~sklearn.metrics.roc_auc_score`) and PR-AUC (average precision,
    :func:`~sklearn.metrics.average_precision_score`) rank the clips by
    their score for it. A tag that every clip of ``Y`` carries, or none
    does, has neither: it gets NaN, with a warning naming it, and is left
    out of the macro averages.

    Parameters
    ----------
    estimator : classifier
        A fitted multi-label classifier: a skfma net fitted on a tag matrix,
        a ``Pipeline`` ending in one, or a scikit-learn multi-label
        classifier (``MultiOutputClassifier``, ``OneVsRestClassifier``,
        ``KNeighborsClassifier``, ...).
    X : array-like of shape (n_clips, ...)
        What the estimator takes (features, spectrograms, file paths).
    Y : array-like of shape (n_clips, n_tags)
        The true tags: a 0/1 (or boolean) indicator matrix, such as a pandas
        DataFrame with one column per tag. A DataFrame's columns are matched
        to a skfma net's ``tag_names_`` by name (taken in the net's order);
        other columns than those are refused.
    tag_names : array-like of shape (n_tags,) or None, default=None
        Names of the tags. ``None``: the fitted ``tag_names_`` of a skfma
        net (the columns of the DataFrame it was fitted on), else the
        columns of ``Y`` if it is a DataFrame, else ``0 .. n_tags - 1``.

    Returns
    -------
    report : sklearn.utils.Bunch
        With the keys:

        summary : pandas.Series of object, indexed by metric
            ``roc_auc_macro``, ``roc_auc_micro``, ``pr_auc_macro``,
            ``pr_auc_micro``, ``n_clips`` (int), ``n_tags`` (int),
            ``n_tags_scored`` (int, the tags with a ROC-AUC) and
            ``inference_seconds_per_clip`` (wall-clock seconds of the
            scoring call over all of ``X`` divided by the number of clips,
            :func:`time.perf_counter`). Macro averages are the mean over the
            scored tags; micro averages pool every (clip, tag) pair, those
            of unscored tags included.
        per_tag : pandas.DataFrame, shape (n_tags, 3)
            Indexed by tag name: ``roc_auc``, ``pr_auc`` and ``n_positive``
            (int, clips carrying the tag).
        tag_names : ndarray, shape (n_tags,)
            The tags' names, in the order of ``Y``'s columns.
        y_true : ndarray of int, shape (n_clips, n_tags)
            ``Y`` as checked.
        y_score : ndarray of float, shape (n_clips, n_tags)
            Each clip's score for each tag (probability, or decision value).
        response_method : str
            ``"predict_proba"`` or ``"decision_function"``.
        timings : dict of str to float
            Seconds taken by the scoring call on all of ``X``.
        skipped : dict of str to str
            Tags left unscored, and why.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``Y`` is not a 2-D 0/1 matrix (for labels, use
        :func:`evaluate_classifier`), its length is not that of ``X``, or the
        estimator gives neither probabilities nor decision values.

    See Also
    --------
    evaluate_classifier : The report of a single-label classifier.
    PerClassDisplay : Bars of the per-tag scores.
    skfma.models.predict_tags : Each clip's top tags.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from skfma.evaluation import evaluate_tagger
    >>> X, Y = make_multilabel_classification(n_samples=80, n_classes=3, random_state=0)
    >>> tagger = KNeighborsClassifier().fit(X[:40], Y[:40])
    >>> report = evaluate_tagger(tagger, X[40:], Y[40:], tag_names=["rock", "guitar", "live"])
    >>> report.per_tag.index.tolist()
    ['rock', 'guitar', 'live']
    >>> report.per_tag.columns.tolist()
    ['roc_auc', 'pr_auc', 'n_positive']
    >>> bool(0 <= report.summary["roc_auc_macro"] <= 1)
    True
    """
    given = getattr(Y, "columns", None)
    Y = _align_tag_columns(Y, getattr(_final_estimator(estimator), "tag_names_", None))
    columns = getattr(Y, "columns", None)
    if tag_names is not None and given is not None and len(tag_names) == len(given):
        # tag_names name Y's columns as given: they follow them to the net's order.
        position = {column: i for i, column in enumerate(given)}
        tag_names = np.asarray(tag_names)[[position[column] for column in columns]]
    Y_true = _indicator_values(Y).astype(np.int64)
    n_clips = _check_lengths(X, Y_true.shape[0], "Y")
    n_tags = Y_true.shape[1]
    names = _tag_names(tag_names, estimator, columns, n_tags)

    method, reason = _score_method(estimator, "auto")
    if method is None:
        raise ValueError(f"evaluate_tagger cannot rank clips by tag: {reason}")
    timings = {}
    raw = _timed(getattr(estimator, method), X, timings)
    y_score = _tag_scores(raw, estimator, method, n_clips, n_tags)

    scored = Y_true.min(axis=0) != Y_true.max(axis=0)
    skipped = {}
    if not scored.all():
        for tag in np.flatnonzero(~scored):
            name = names.tolist()[tag]
            skipped[name] = f"every clip has the value {Y_true[0, tag]}: one class, no ROC-AUC"
        warn_user(
            f"{len(skipped)} of {n_tags} tags have only one class in Y (all or no clips carry "
            f"them), so their ROC-AUC and PR-AUC are NaN and left out of the macro averages: "
            f"{list(skipped)}.",
            UserWarning,
        )
    roc_auc = np.full(n_tags, np.nan)
    pr_auc = np.full(n_tags, np.nan)
    for tag in np.flatnonzero(scored):
        roc_auc[tag] = roc_auc_score(Y_true[:, tag], y_score[:, tag])
        pr_auc[tag] = average_precision_score(Y_true[:, tag], y_score[:, tag])
    summary = {
        "roc_auc_macro": np.mean(roc_auc[scored]) if scored.any() else np.nan,
        "roc_auc_micro": _micro(roc_auc_score, Y_true, y_score),
        "pr_auc_macro": np.mean(pr_auc[scored]) if scored.any() else np.nan,
        "pr_auc_micro": _micro(average_precision_score, Y_true, y_score),
        "n_clips": n_clips,
        "n_tags": n_tags,
        "n_tags_scored": int(scored.sum()),
        "inference_seconds_per_clip": timings[method] / n_clips,
    }
    per_tag = pd.DataFrame(
        {"roc_auc": roc_auc, "pr_auc": pr_auc, "n_positive": Y_true.sum(axis=0)},
        index=pd.Index(names, name="tag"),
    )
    return Bunch(
        summary=_summary(summary),
        per_tag=per_tag,
        tag_names=names,
        y_true=Y_true,
        y_score=y_score,
        response_method=method,
        timings=timings,
        skipped=skipped,
    )


def _check_report_or_table(name, value):
    if not isinstance(value, pd.DataFrame):
        check_report(value, alternative=", or a DataFrame")
    return value


def _check_float_format(name, value):
    message = f"{name} must be a str.format pattern such as '{{:.3f}}'; got {value!r}."
    try:
        formatted = value.format(0.5)
    except (AttributeError, ValueError, IndexError, KeyError) as error:
        raise ParameterError(message) from error
    if formatted == value.format(0.25):  # "%.3f" or "": no field, every value alike
        raise ParameterError(message)
    return value


@validate_arguments({"report": _check_report_or_table, "float_format": _check_float_format})
def report_to_markdown(report, *, float_format="{:.3f}"):
    """The tables of a report as markdown text (GitHub-flavoured pipe tables).

    Parameters
    ----------
    report : sklearn.utils.Bunch or pandas.DataFrame
        From :func:`evaluate_classifier` or :func:`evaluate_tagger`; or any
        table (e.g. several experiments' summaries side by side), written as
        one pipe table with its index as the first column.
    float_format : str, default="{:.3f}"
        :meth:`str.format` pattern of the float values; NaN is written
        ``nan``, integers as they are.

    Returns
    -------
    markdown : str
        A ``### Summary`` table (metric, value), then ``### Per class`` (or
        ``### Per tag``), then, for a classifier, ``### Confusion matrix``
        (row-normalised; rows are true labels, columns predicted ones). For a
        DataFrame, its table alone.

    See Also
    --------
    evaluate_classifier, evaluate_tagger

    Notes
    -----
    For CSV files, use pandas: ``report.per_class.to_csv(path)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from skfma.evaluation import evaluate_classifier, report_to_markdown
    >>> y = np.array(["Pop", "Rock", "Rock", "Rock"])
    >>> clf = DummyClassifier().fit(np.zeros((4, 1)), y)
    >>> report = evaluate_classifier(clf, np.zeros((4, 1)), y, top_k=(), zero_division=0.0)
    >>> text = report_to_markdown(report)
    >>> print(text[text.index("### Per class"):text.index("### Confusion")].strip())
    ### Per class
    <BLANKLINE>
    | class | precision | recall | f1 | accuracy | support |
    | --- | --- | --- | --- | --- | --- |
    | Pop | 0.000 | 0.000 | 0.000 | 0.000 | 1 |
    | Rock | 0.750 | 1.000 | 0.857 | 1.000 | 3 |
    """
    if isinstance(report, pd.DataFrame):
        return _markdown_table(report, float_format)
    summary = report.summary.rename_axis("metric").to_frame("value")
    seconds = "inference_seconds_per_clip"
    if seconds in summary.index:  # often well under a millisecond: three significant digits
        summary.loc[seconds, "value"] = f"{summary.loc[seconds, 'value']:.3g}"
    sections = [("Summary", summary)]
    if "per_class" in report:
        sections.append(("Per class", report.per_class))
        confusion = report.confusion.rename_axis("true \\ predicted")
        sections.append(
            ("Confusion matrix (row-normalised: rows true labels, columns predicted)", confusion)
        )
    else:
        sections.append(("Per tag", report.per_tag))
    parts = []
    for title, frame in sections:
        parts.append(f"### {title}\n\n{_markdown_table(frame, float_format)}\n")
    return "\n".join(parts)


# --------------------------------------------------------------------------- helpers


def _final_estimator(estimator):
    """The estimator that makes the predictions: inside a search, at the end of a pipeline."""
    estimator = getattr(estimator, "best_estimator_", estimator)
    while isinstance(estimator, Pipeline):
        estimator = estimator[-1]
    return estimator


def _classes(estimator):
    """The fitted ``classes_`` (the columns of ``predict_proba``) of a fitted estimator."""
    try:
        classes = estimator.classes_
    except AttributeError as error:
        raise ParameterError(
            f"estimator must be a classifier (with classes_, the labels it predicts); "
            f"{type(estimator).__name__} is fitted but has no classes_."
        ) from error
    return np.asarray(classes)


def _n_clips(X):
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    try:
        return len(X)
    except TypeError as error:
        raise ValueError(
            f"X must be an array-like of clips (with a length); got {type(X).__name__}."
        ) from error


def _check_lengths(X, n_targets, name):
    n_clips = _n_clips(X)
    if n_clips != n_targets:
        raise ValueError(f"X has {n_clips} clips but {name} has {n_targets} rows.")
    if n_clips == 0:
        raise ValueError(f"X and {name} are empty: evaluate at least one clip.")
    return n_clips


def _align_tag_columns(Y, fitted_names):
    """``Y``'s DataFrame columns in the order of the net's ``tag_names_``, matched by name.

    Raises
    ------
    ParameterError
        If they are other tags than the net's.
    """
    columns = getattr(Y, "columns", None)
    if columns is None or fitted_names is None or list(columns) == list(fitted_names):
        return Y
    if len(columns) == len(fitted_names) and set(columns) == set(fitted_names):
        return Y[list(fitted_names)]
    raise ParameterError(
        f"Y's columns {list(columns)} are not the tags the estimator was fitted on, "
        f"tag_names_={list(fitted_names)}."
    )


def _tag_names(tag_names, estimator, columns, n_tags):
    if tag_names is not None:
        if len(tag_names) != n_tags:
            raise ParameterError(
                f"tag_names must name the {n_tags} tags of Y; got {len(tag_names)} names."
            )
        return tag_names
    fitted = getattr(_final_estimator(estimator), "tag_names_", None)
    for names in (fitted, columns):
        if names is not None and len(names) == n_tags:
            return np.asarray(names)
    return np.arange(n_tags)


def _is_missing(label):
    """None, NaN (the one label unequal to itself) or pandas' NA (which cannot be compared)."""
    return label is None or label is pd.NA or label != label


def _check_listed_types(name, value, error):
    """:func:`_check_label_types` of a list or tuple, before NumPy makes its labels strings
    (``np.asarray(["Folk", 1])`` is ``["Folk", "1"]``)."""
    if isinstance(value, list | tuple):
        present = [
            label
            for label in np.asarray(value, dtype=object).ravel().tolist()
            if not _is_missing(label)  # named by the caller's own check
        ]
        _check_label_types(name, np.asarray(present, dtype=object), error)


def _check_label_types(name, values, error):
    """Raise ``error`` naming ``name`` unless its labels sort together (one type, as sklearn's)."""
    try:
        sorted(set(values.tolist()))
    except TypeError:
        types = sorted({type(value).__name__ for value in values.tolist()})
        raise error(
            f"{name} must be labels of one type, all strings or all numbers; got a mix of "
            f"{', '.join(types)}."
        ) from None


def _transform_front(estimator, X, timings):
    """The estimator that predicts, and ``X`` through the pipeline steps before it (timed).

    For a pipeline (a search's ``best_estimator_`` included), the steps before the last
    transform ``X`` once, so that the last step's ``predict`` and scoring method do not
    both run them; any other estimator (a one-step pipeline too) comes back with ``X``.
    """
    pipeline = getattr(estimator, "best_estimator_", estimator)
    if not isinstance(pipeline, Pipeline) or len(pipeline) == 1:
        return estimator, X
    return pipeline[-1], _timed(pipeline[:-1].transform, X, timings)


def _timed(method, X, timings):
    start = time.perf_counter()
    result = method(X)
    timings[method.__name__] = time.perf_counter() - start
    return result


def _score_method(estimator, response_method):
    """The scoring method to call, or None and the reason why there is none."""
    methods = RESPONSE_METHODS[1:] if response_method == "auto" else (response_method,)
    for method in methods:
        if hasattr(estimator, method):
            return method, None
    if response_method != "auto":
        raise ParameterError(
            f"response_method={response_method!r}, but {type(estimator).__name__} has no "
            f"{response_method} method (an SVC needs probability=True for predict_proba)."
        )
    return None, (
        f"{type(estimator).__name__} has no {' or '.join(methods)} method to score the classes."
    )


def _check_scores(y_score, n_clips, classes, method, predictor):
    """None when the scores have one column per class (or one for two), else the reason."""
    n_classes = len(classes)
    one_vs_one = getattr(_final_estimator(predictor), "decision_function_shape", None) == "ovo"
    if method == "decision_function" and one_vs_one and n_classes > 2:
        # With 3 classes its 3 pairwise columns have the shape of one score per class.
        return (
            "decision_function of an estimator with decision_function_shape='ovo' scores "
            "pairs of classes, not each class."
        )
    expected = {(n_clips, n_classes)} | ({(n_clips,), (n_clips, 1)} if n_classes == 2 else set())
    if y_score.shape not in expected:
        return (
            f"{method} returned shape {y_score.shape}, not one score per class "
            f"({n_clips}, {n_classes}) (an SVC with decision_function_shape='ovo'?)."
        )
    return _nonfinite_scores(y_score, method)


def _nonfinite_scores(y_score, method):
    """None when every score is finite, else why not (how many clips: a diverged model)."""
    bad = ~np.isfinite(np.asarray(y_score, dtype=np.float64))
    if bad.ndim > 1:
        bad = bad.any(axis=tuple(range(1, bad.ndim)))
    if not bad.any():
        return None
    return f"{method} gave NaN or infinite scores for {int(bad.sum())} of {len(bad)} clips."


def _top_k(y_true, y_score, k, classes):
    """sklearn's top-k accuracy; clips of labels the estimator never saw count as misses.

    ``classes`` (the score columns' labels) may come in any order: sklearn's
    needs them sorted, so the columns are put in their sorted order.
    """
    classes = np.asarray(classes)
    order = np.argsort(classes, kind="stable")
    if len(classes) == 2:
        # Binary: sklearn thresholds one score per clip, at 0.5 when the scores lie in [0, 1]
        # and at 0 otherwise. The sigmoid of the second class's margin over the first lies in
        # (0, 1) and passes 0.5 where the prediction (the larger score) changes; so do the
        # sigmoids of decision values, whatever their range.
        if y_score.ndim == 2 and y_score.shape[1] == 2:
            y_score = y_score[:, 1] - y_score[:, 0]
        y_score = expit(np.ravel(y_score) * (1 if order[0] == 0 else -1))
    elif y_score.ndim == 2:
        y_score = y_score[:, order]
    classes = classes[order]
    seen = np.isin(y_true, classes)
    if not seen.any():
        return 0.0
    if len(classes) == 1:  # every k ranks the one class first
        return seen.sum() / len(y_true)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "'k' .* will result in a perfect score", UndefinedMetricWarning
        )
        hits = top_k_accuracy_score(
            y_true[seen], y_score[seen], k=k, labels=classes, normalize=False
        )
    return hits / len(y_true)


def _balanced_accuracy(y_true, y_pred):
    with warnings.catch_warnings():
        # A label predicted but never true: sklearn warns and leaves it out, as documented.
        warnings.filterwarnings("ignore", "y_pred contains classes not in y_true", UserWarning)
        return balanced_accuracy_score(y_true, y_pred)


def _report_labels(labels, classes, y_true, y_pred):
    if labels is not None:
        present = set(unique_labels(y_true, y_pred).tolist())
        if not present & set(labels.tolist()):
            raise ParameterError(
                f"labels must include a label of y or of the predictions; got {labels.tolist()!r} "
                f"for labels {sorted(present, key=str)!r}."
            )
        return labels
    known = set(classes.tolist())
    extra = [label for label in unique_labels(y_true, y_pred) if label not in known]
    return np.asarray([*classes.tolist(), *extra]) if extra else classes


def _tag_scores(raw, estimator, method, n_clips, n_tags):
    """Each clip's score for each tag, from a matrix or from per-tag (n_clips, 2) outputs."""
    if isinstance(raw, list):
        # MultiOutputClassifier, KNeighbors, forests: one (n_clips, n_classes) array per tag.
        fitted_classes = getattr(estimator, "classes_", None)
        columns = []
        for tag, proba in enumerate(raw):
            proba = np.asarray(proba)
            classes = (
                np.asarray(fitted_classes[tag])
                if isinstance(fitted_classes, list)
                else np.arange(proba.shape[1])
            )
            positive = np.flatnonzero(classes == 1)
            columns.append(proba[:, positive[0]] if positive.size else np.zeros(len(proba)))
        raw = np.stack(columns, axis=1) if columns else np.empty((n_clips, 0))
    y_score = np.asarray(raw, dtype=np.float64)
    if y_score.ndim == 1 and n_tags == 1:
        y_score = y_score[:, None]
    if y_score.shape != (n_clips, n_tags):
        raise ValueError(
            f"{type(estimator).__name__}.{method} returned scores of shape {y_score.shape}; "
            f"Y has {n_tags} tags for {n_clips} clips, so ({n_clips}, {n_tags}) was expected."
        )
    reason = _nonfinite_scores(y_score, f"{type(estimator).__name__}.{method}")
    if reason is not None:
        raise ValueError(f"evaluate_tagger cannot rank clips by tag: {reason}")
    return y_score


def _micro(metric, Y_true, y_score):
    """The metric over every (clip, tag) pair pooled, as sklearn's ``average="micro"``."""
    if Y_true.min() == Y_true.max():
        return np.nan
    return metric(Y_true.ravel(), y_score.ravel())


def _summary(values):
    """A Series of object, so that counts stay ints beside the float metrics."""
    return pd.Series(
        {name: value if isinstance(value, int) else float(value) for name, value in values.items()},
        dtype=object,
        name="value",
    ).rename_axis("metric")


#: The tables of each kind of report, which its consumers read.
REPORT_TABLES = {
    "evaluate_classifier": ("summary", "per_class", "confusion", "confusion_counts"),
    "evaluate_tagger": ("summary", "per_tag"),
}


def check_report(report, *, alternative=""):
    """Raise a ParameterError unless ``report`` is a Bunch of :func:`evaluate_classifier` or
    :func:`evaluate_tagger` with all its tables (``alternative``: what else the caller takes).

    A report with a table removed or replaced is refused naming the table.
    """
    if not isinstance(report, Bunch):
        raise ParameterError(
            "report must be the Bunch returned by evaluate_classifier or evaluate_tagger"
            f"{alternative}; got {type(report).__name__}."
        )
    tagger = "per_tag" in report or "tag_names" in report
    maker = "evaluate_tagger" if tagger else "evaluate_classifier"
    damaged = [
        key
        for key in REPORT_TABLES[maker]
        if not isinstance(report.get(key), pd.Series | pd.DataFrame)
    ]
    if damaged:
        raise ParameterError(
            f"report (from {maker}) lacks its table(s) {', '.join(damaged)}, or holds "
            "something else there: pass the report as evaluate_classifier or "
            f"evaluate_tagger returned it{alternative}."
        )


def _is_nan(value):
    return isinstance(value, float) and np.isnan(value)


def _format_cell(value, float_format):
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "nan" if np.isnan(value) else float_format.format(float(value))
    return _one_line(value)


def _one_line(value):
    """``str(value)`` on one line, its pipes escaped: a cell of a pipe table."""
    return " ".join(str(value).splitlines()).replace("|", "\\|")


def _markdown_table(frame, float_format):
    """A pipe table of a DataFrame, its index (named by its names) as the first column."""
    index_name = ", ".join(str(name) for name in frame.index.names if name is not None)
    header = [index_name, *frame.columns]
    lines = [
        "| " + " | ".join(_one_line(cell) for cell in header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    for label, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        cells = [_format_cell(label, float_format)]
        cells += [_format_cell(value, float_format) for value in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
