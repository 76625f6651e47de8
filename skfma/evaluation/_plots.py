"""Figures of evaluation reports and training histories (matplotlib, the ``plot`` extra).

matplotlib is imported inside the functions, so that ``skfma.evaluation`` imports without
it. The figures follow scikit-learn's Display convention: an object holding the data,
whose ``plot`` draws on a given Axes (or a new figure through pyplot) and keeps the
artists (``ax_``, ``figure_``, ...).
"""

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.utils.multiclass import type_of_target

from ..exceptions import ParameterError
from ..utils import check_bool, names_its_errors
from ._history import LOSSES, is_history, is_score, training_history
from ._report import check_report, evaluate_classifier, evaluate_tagger

__all__ = ["ConfusionMatrixDisplay", "PerClassDisplay", "TrainingHistoryDisplay"]

#: Per-class (per-tag) metrics that lie in [0, 1], drawn on a [0, 1] axis.
BOUNDED = {"precision", "recall", "f1", "accuracy", "roc_auc", "pr_auc"}


def _import_matplotlib(what):
    """Import matplotlib, or raise an ImportError naming the extra to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"{what} needs matplotlib, which is not installed: pip install 'skfma[plot]'."
        ) from error
    return plt


def _check_axes(name, axes):
    """Raise a ParameterError naming ``name`` unless every one of ``axes`` is a matplotlib Axes."""
    from matplotlib.axes import Axes

    for ax in axes:
        if not isinstance(ax, Axes):
            raise ParameterError(
                f"{name} must be a matplotlib Axes (or None for a new figure); got "
                f"{type(ax).__name__}: {ax!r}."
            )


class ConfusionMatrixDisplay(metrics.ConfusionMatrixDisplay):
    """scikit-learn's confusion matrix display, which also draws a skfma report's matrix.

    The same class as :class:`sklearn.metrics.ConfusionMatrixDisplay`
    (``from_estimator``, ``from_predictions``, ``plot``, the same
    attributes), with :meth:`from_report` to draw the matrix that
    :func:`evaluate_classifier` already computed: rows are true labels,
    columns predicted ones.

    Parameters
    ----------
    confusion_matrix : ndarray, shape (n_classes, n_classes)
        The matrix.
    display_labels : ndarray of shape (n_classes,) or None, default=None
        The labels of its rows and columns.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The image, whose array is the matrix.
    text_ : ndarray of matplotlib Text or None
        The values written in the cells.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    evaluate_classifier, PerClassDisplay
    """

    @classmethod
    @names_its_errors
    def from_report(
        cls,
        report,
        *,
        normalize=True,
        ax=None,
        cmap="viridis",
        colorbar=True,
        include_values=True,
        values_format=None,
        xticks_rotation="vertical",
    ):
        """Draw the confusion matrix of a classifier's report.

        Parameters
        ----------
        report : sklearn.utils.Bunch
            From :func:`evaluate_classifier`.
        normalize : bool, default=True
            Draw the matrix normalised over true labels (each row sums to 1:
            the fraction of a class's clips predicted as each class), else
            the counts of clips.
        ax : matplotlib Axes or None, default=None
            Where to draw; ``None`` makes a new figure (with pyplot).
        cmap : str or matplotlib Colormap, default="viridis"
            Colour map of the cells.
        colorbar : bool, default=True
            Add a colour bar.
        include_values : bool, default=True
            Write each cell's value in it (turn off for many classes).
        values_format : str or None, default=None
            Format of those values; ``None``: ``".2f"`` normalised, ``"d"``
            for counts.
        xticks_rotation : {"vertical", "horizontal"} or float, default="vertical"
            Rotation of the predicted labels.

        Returns
        -------
        display : ConfusionMatrixDisplay

        Examples
        --------
        >>> import numpy as np
        >>> from matplotlib.figure import Figure
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skfma.evaluation import ConfusionMatrixDisplay, evaluate_classifier
        >>> y = np.array(["Folk", "Pop", "Rock"] * 10)
        >>> X = np.random.default_rng(0).standard_normal((30, 3)) + (y[:, None] == np.unique(y))
        >>> report = evaluate_classifier(LogisticRegression().fit(X, y), X, y, top_k=())
        >>> display = ConfusionMatrixDisplay.from_report(report, ax=Figure().subplots())
        >>> display.im_.get_array().shape
        (3, 3)
        >>> display.figure_.savefig("confusion.png")  # doctest: +SKIP
        """
        check_report(report)
        if "confusion" not in report:
            raise ParameterError(
                "report must come from evaluate_classifier: a confusion matrix needs a "
                "classifier's report, not a tagger's."
            )
        _import_matplotlib("ConfusionMatrixDisplay.from_report")
        check_bool("normalize", normalize)
        if ax is not None:
            _check_axes("ax", [ax])
        matrix = report.confusion if normalize else report.confusion_counts
        if values_format is None:
            values_format = ".2f" if normalize else "d"
        try:
            format(matrix.to_numpy().flat[0], values_format)
        except (TypeError, ValueError) as error:
            raise ParameterError(
                f"values_format must be a format spec for the matrix's "
                f"{'fractions' if normalize else 'counts'}, such as "
                f"{'.2f' if normalize else 'd'!r}; got {values_format!r} ({error})."
            ) from None
        display = cls(matrix.to_numpy(), display_labels=list(matrix.index))
        return display.plot(
            ax=ax,
            cmap=cmap,
            colorbar=colorbar,
            include_values=include_values,
            values_format=values_format,
            xticks_rotation=xticks_rotation,
        )


class PerClassDisplay:
    """Horizontal bars of one metric per class (or per tag).

    Build it with :meth:`from_report` or :meth:`from_estimator`, or from any
    values indexed by class.

    Parameters
    ----------
    values : pandas.Series, shape (n_classes,)
        The metric of each class, indexed by class label (a dict of label to
        value, or a 1-D sequence indexed from 0, is taken as such a Series);
        NaN draws no bar (its place says "n/a").
    metric : str
        Name of the metric, the x-axis label.

    Notes
    -----
    As scikit-learn's Displays, the constructor only stores its arguments:
    :meth:`plot` checks them, and raises a
    :class:`~skfma.exceptions.ParameterError` naming ``values`` or
    ``metric`` when they cannot be drawn.

    Attributes
    ----------
    bars_ : matplotlib.container.BarContainer
        The bars, one per class from the top down in the order of
        ``values``; a bar's width is its class's value.
    mean_line_ : matplotlib.lines.Line2D or None
        The dashed line at the mean over the classes (the macro average).
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    evaluate_classifier, evaluate_tagger, ConfusionMatrixDisplay
    """

    def __init__(self, values, *, metric):
        self.values = values
        self.metric = metric

    @names_its_errors
    def plot(self, *, ax=None, sort=False, show_mean=True, color=None):
        """Draw the bars.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Where to draw; ``None`` makes a new figure (with pyplot), taller
            with more classes.
        sort : bool, default=False
            Order the classes by value, the highest at the top, instead of
            the order of ``values``.
        show_mean : bool, default=True
            Draw a dashed vertical line at the mean over the classes
            (NaN left out), labelled in the legend.
        color : color or None, default=None
            Colour of the bars.

        Returns
        -------
        self : PerClassDisplay
        """
        plt = _import_matplotlib("PerClassDisplay.plot")
        values = _per_class_values(self.values)
        if not isinstance(self.metric, str):
            raise ParameterError(
                f"metric must be the metric's name (a str); got {type(self.metric).__name__}: "
                f"{self.metric!r}."
            )
        if sort:
            values = values.sort_values(ascending=False, kind="stable")
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, max(2.0, 0.9 + 0.35 * len(values))))
        _check_axes("ax", [ax])
        positions = np.arange(len(values))
        labels = [str(label) for label in values.index]
        self.bars_ = ax.barh(positions, values.to_numpy(), color=color)
        ax.set_yticks(positions, labels=labels)
        ax.invert_yaxis()  # the first class at the top
        texts = ["" if np.isnan(value) else f"{value:.3g}" for value in values]
        ax.bar_label(self.bars_, labels=texts, padding=2, fontsize="small")
        for position in positions[values.isna().to_numpy()]:  # no bar: say why at its place
            ax.annotate(
                "n/a",
                (0, position),
                xytext=(2, 0),
                textcoords="offset points",
                va="center",
                fontsize="small",
            )
        ax.set_xlabel(self.metric)
        ax.set_ylabel(values.index.name or "class")
        if self.metric in BOUNDED:
            ax.set_xlim(0, 1.1)  # room for the value labels
        self.mean_line_ = None
        if show_mean and not values.isna().all():
            mean = float(np.nanmean(values.to_numpy()))
            self.mean_line_ = ax.axvline(
                mean, color="0.3", linestyle="--", linewidth=1, label=f"mean = {mean:.3g}"
            )
            ax.legend(loc="lower right", fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    @names_its_errors
    def from_report(cls, report, *, metric=None, ax=None, sort=False, show_mean=True, color=None):
        """Draw one column of a report's per-class (or per-tag) table.

        Parameters
        ----------
        report : sklearn.utils.Bunch
            From :func:`evaluate_classifier` or :func:`evaluate_tagger`.
        metric : str or None, default=None
            A column of ``report.per_class`` (``"precision"``, ``"recall"``,
            ``"f1"``, ``"accuracy"``, ``"support"``) or of ``report.per_tag``
            (``"roc_auc"``, ``"pr_auc"``, ``"n_positive"``); ``None``:
            ``"f1"`` for a classifier, ``"roc_auc"`` for a tagger.
        ax, sort, show_mean, color
            As in :meth:`plot`.

        Returns
        -------
        display : PerClassDisplay

        Examples
        --------
        >>> import numpy as np
        >>> from matplotlib.figure import Figure
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skfma.evaluation import PerClassDisplay, evaluate_classifier
        >>> y = np.array(["Folk", "Pop", "Rock"] * 10)
        >>> X = np.random.default_rng(0).standard_normal((30, 3)) + (y[:, None] == np.unique(y))
        >>> report = evaluate_classifier(LogisticRegression().fit(X, y), X, y, top_k=())
        >>> display = PerClassDisplay.from_report(report, metric="recall", ax=Figure().subplots())
        >>> len(display.bars_)
        3
        """
        check_report(report)
        table = report.per_class if "per_class" in report else report.per_tag
        if metric is None:
            metric = "f1" if "per_class" in report else "roc_auc"
        if not isinstance(metric, str) or metric not in table.columns:
            raise ParameterError(
                f"metric must be one of {', '.join(map(repr, table.columns))} (the columns of "
                f"the report's table); got {metric!r}."
            )
        display = cls(table[metric], metric=metric)
        return display.plot(ax=ax, sort=sort, show_mean=show_mean, color=color)

    @classmethod
    @names_its_errors
    def from_estimator(
        cls, estimator, X, y, *, metric=None, ax=None, sort=False, show_mean=True, color=None
    ):
        """Evaluate a fitted classifier (or tagger) on ``X``, ``y`` and draw one metric per class.

        Parameters
        ----------
        estimator : classifier
            Fitted: a classifier (``y`` one label per clip, evaluated by
            :func:`evaluate_classifier`) or a multi-label tagger (``y`` an
            indicator matrix, evaluated by :func:`evaluate_tagger`).
        X : array-like of shape (n_clips, ...)
            What ``estimator.predict`` takes.
        y : array-like of shape (n_clips,) or (n_clips, n_tags)
            True labels, or the tags' indicator matrix.
        metric, ax, sort, show_mean, color
            As in :meth:`from_report`.

        Returns
        -------
        display : PerClassDisplay

        Examples
        --------
        >>> import numpy as np
        >>> from matplotlib.figure import Figure
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skfma.evaluation import PerClassDisplay
        >>> y = np.array(["Folk", "Pop", "Rock"] * 10)
        >>> X = np.random.default_rng(0).standard_normal((30, 3)) + (y[:, None] == np.unique(y))
        >>> classifier = LogisticRegression().fit(X, y)
        >>> display = PerClassDisplay.from_estimator(classifier, X, y, ax=Figure().subplots())
        >>> display.ax_.get_xlabel()
        'f1'
        """
        if type_of_target(y) == "multilabel-indicator":  # a column of labels is labels
            report = evaluate_tagger(estimator, X, y)
        else:
            report = evaluate_classifier(estimator, X, y, top_k=())
        return cls.from_report(
            report, metric=metric, ax=ax, sort=sort, show_mean=show_mean, color=color
        )


class TrainingHistoryDisplay:
    """Learning curves of a net: losses, and scores, per epoch.

    Build it with :meth:`from_estimator` (a fitted net) or
    :meth:`from_history` (a history), or from a :func:`training_history`
    table.

    Parameters
    ----------
    history : pandas.DataFrame, shape (n_epochs, n_columns)
        One row per epoch, indexed by epoch, as :func:`training_history`
        gives it.
    losses : list of str
        Columns drawn on the first axes (none: no losses' axes).
    scores : list of str
        Columns drawn on the next axes (none: no scores' axes).

    Notes
    -----
    As scikit-learn's Displays, the constructor only stores its arguments:
    :meth:`plot` checks them, and raises a
    :class:`~skfma.exceptions.ParameterError` naming ``history``,
    ``losses`` or ``scores`` when they cannot be drawn.

    Attributes
    ----------
    lines_ : dict of str to matplotlib.lines.Line2D
        The curve of each column; an epoch without a value is left out of
        its curve (its x data are the epochs that have one).
    axes_ : ndarray of matplotlib Axes, shape (n_panels,)
        The losses' axes, then the scores', each where it has curves.
    figure_ : matplotlib Figure

    See Also
    --------
    training_history : The same numbers as a DataFrame.
    """

    def __init__(self, history, *, losses, scores):
        self.history = history
        self.losses = losses
        self.scores = scores

    @names_its_errors
    def plot(self, *, axes=None):
        """Draw the curves.

        Parameters
        ----------
        axes : matplotlib Axes, sequence of them, or None, default=None
            One Axes per panel (losses, then scores, each when there are
            any); ``None`` makes a new figure with the panels side by side.

        Returns
        -------
        self : TrainingHistoryDisplay
        """
        plt = _import_matplotlib("TrainingHistoryDisplay.plot")
        from matplotlib.ticker import MaxNLocator

        if not isinstance(self.history, pd.DataFrame):
            raise ParameterError(
                "history must be a pandas DataFrame of one row per epoch (from "
                f"training_history); got {type(self.history).__name__}: {self.history!r}."
            )
        losses = _history_columns("losses", self.losses, self.history)
        scores = _history_columns("scores", self.scores, self.history)
        if not losses and not scores:
            raise ParameterError("losses and scores are both empty: there is nothing to draw.")
        panels = [("loss", "Loss", losses), ("score", "Scores", scores)]
        panels = [panel for panel in panels if len(panel[2])]
        if axes is None:
            _, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 3.8), squeeze=False)
        axes = np.ravel(np.asarray(axes, dtype=object))
        _check_axes("axes", axes)
        if len(axes) != len(panels):
            names = " and ".join(title.lower() for _, title, _ in panels)
            raise ParameterError(f"axes must hold {len(panels)} Axes ({names}); got {len(axes)}.")
        self.lines_ = {}
        for ax, (ylabel, title, columns) in zip(axes, panels, strict=True):
            for column in columns:
                values = self.history[column].dropna()
                (self.lines_[column],) = ax.plot(
                    values.index.to_numpy(),
                    values.to_numpy(),
                    marker="o",
                    markersize=3,
                    label=column,
                )
            ax.set_xlabel("epoch")
            ax.set_ylabel(ylabel)
            ax.set_title(title)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize="small")
        self.axes_ = axes
        self.figure_ = axes[0].figure
        return self

    @classmethod
    @names_its_errors
    def from_estimator(cls, estimator, *, scores=None, axes=None):
        """Draw a fitted net's learning curves: losses and validation scores per epoch.

        The first panel shows ``train_loss`` and ``valid_loss`` (the latter
        when the net held clips out with ``train_split``); the second the
        scores (``valid_acc`` by default for a skfma classifier,
        ``valid_roc_auc`` for a tagger, and any ``EpochScoring``
        callback's). An epoch that lacks a value (a score recorded on some
        epochs only) is left out of that curve.

        Parameters
        ----------
        estimator : skorch net, Pipeline or search
            A fitted net, or a ``Pipeline`` or search ending in one: its
            ``history_`` is drawn.
        scores : list of str or None, default=None
            Columns of the scores' panel; ``None``: every ``train_*`` and
            ``valid_*`` number other than the losses and batch counts;
            ``()``: no scores' panel.
        axes : matplotlib Axes, sequence of them, or None, default=None
            As in :meth:`plot`.

        Returns
        -------
        display : TrainingHistoryDisplay

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the net has not been fitted.
        ValueError
            If the history holds no loss or score.

        Examples
        --------
        With a net fitted with ``train_split=skorch.dataset.ValidSplit(5)``:
        ``TrainingHistoryDisplay.from_estimator(net)``.
        """
        if is_history(estimator):
            raise ParameterError(
                f"estimator must be a fitted net (or a Pipeline or search ending in one); got "
                f"a history ({type(estimator).__name__}): use from_history."
            )
        return cls._from_table(training_history(estimator), scores=scores, axes=axes)

    @classmethod
    @names_its_errors
    def from_history(cls, history, *, scores=None, axes=None):
        """Draw the losses and scores of a history's epochs.

        Parameters
        ----------
        history : skorch History, list of dict or DataFrame
            One mapping of numbers per epoch (a net's ``history_``, or one
            loaded from disk), or a :func:`training_history` table.
        scores, axes
            As in :meth:`from_estimator`.

        Returns
        -------
        display : TrainingHistoryDisplay

        Examples
        --------
        >>> from matplotlib.figure import Figure
        >>> from skfma.evaluation import TrainingHistoryDisplay
        >>> history = [
        ...     {"epoch": 1, "train_loss": 0.9, "valid_loss": 0.8, "valid_acc": 0.5},
        ...     {"epoch": 2, "train_loss": 0.6, "valid_loss": 0.7, "valid_acc": 0.7},
        ... ]
        >>> display = TrainingHistoryDisplay.from_history(history, axes=Figure().subplots(1, 2))
        >>> sorted(display.lines_)
        ['train_loss', 'valid_acc', 'valid_loss']
        >>> display.lines_["valid_acc"].get_ydata().tolist()
        [0.5, 0.7]
        """
        if not is_history(history):
            raise ParameterError(
                "history must be a skorch History, a list of dicts or a DataFrame; got "
                f"{type(history).__name__}: use from_estimator for a net."
            )
        return cls._from_table(training_history(history), scores=scores, axes=axes)

    @classmethod
    def _from_table(cls, history, *, scores, axes):
        """Draw the losses and the ``scores`` (None: every score) of a training_history table."""
        present = [column for column in history.columns if history[column].notna().any()]
        losses = [column for column in LOSSES if column in present]
        if scores is None:  # numbers only: a callback may log text beside its scores
            scores = [
                column
                for column in present
                if is_score(column) and pd.api.types.is_numeric_dtype(history[column])
            ]
        else:
            scores = [scores] if isinstance(scores, str) else list(scores)
            missing = [column for column in scores if column not in present]
            if missing:
                raise ParameterError(
                    f"scores must name columns of the history; {missing} are not there (it "
                    f"has {present})."
                )
        if not losses and not scores:
            raise ValueError(
                "the history has no train_loss, valid_loss or scores to plot; its columns: "
                f"{list(history.columns)}."
            )
        return cls(history, losses=losses, scores=scores).plot(axes=axes)


def _per_class_values(values):
    """``values`` of a :class:`PerClassDisplay` as a float Series; a ParameterError if it is not.

    A Series, a dict of label to value, or a 1-D sequence (indexed from 0)
    of numbers is accepted; a single number, a string, a 2-D table, an empty
    collection or a value that is not a number is not.
    """
    if isinstance(values, pd.Series):
        series = values
    elif isinstance(values, dict):
        series = pd.Series(values, dtype=object)
    elif isinstance(values, list | tuple | np.ndarray) and np.ndim(values) == 1:
        series = pd.Series(list(values), dtype=object)
    else:
        raise ParameterError(
            "values must be a pandas Series of one number per class, indexed by class (or a "
            f"dict of class to number); got {type(values).__name__}: {values!r}."
        )
    if series.empty:
        raise ParameterError("values holds no class: there is nothing to draw.")
    try:
        return pd.Series(series, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ParameterError(
            f"values must hold a number (or NaN) per class; got {series.tolist()!r} ({error})."
        ) from error


def _history_columns(name, columns, history):
    """``losses`` or ``scores`` of a :class:`TrainingHistoryDisplay` as a list of its columns."""
    if isinstance(columns, str):
        columns = [columns]
    if not isinstance(columns, list | tuple) or not all(isinstance(c, str) for c in columns):
        raise ParameterError(
            f"{name} must be a list of column names (str) of the history; got {columns!r}."
        )
    missing = [column for column in columns if column not in history.columns]
    if missing:
        raise ParameterError(
            f"{name} must name columns of the history; {missing} are not there (it has "
            f"{list(history.columns)})."
        )
    return list(columns)
