"""A net's training history (skorch's ``history_``) as a table of epochs."""

import math
from collections.abc import Mapping, Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

from ..exceptions import ParameterError
from ..utils import validate_arguments
from ._report import _final_estimator

__all__ = ["is_history", "training_history"]

#: The losses skorch records each epoch; the other ``train_*``/``valid_*`` numbers are scores.
LOSSES = ("train_loss", "valid_loss")


def _check_net_or_history(name, value):
    """Raise a TypeError unless ``value`` is a history or an estimator ending in a net."""
    if not is_history(value) and not hasattr(_final_estimator(value), "history_"):
        raise TypeError(
            f"{name} must be a skorch net (with history_), a Pipeline or search ending in one, "
            f"a skorch History, a list of dicts or a DataFrame; got {type(value).__name__}."
        )
    return value


@validate_arguments({"net_or_history": _check_net_or_history})
def training_history(net_or_history):
    """The numbers a net recorded each epoch, one row per epoch.

    Parameters
    ----------
    net_or_history : skorch net, Pipeline, skorch History, list of dict or DataFrame
        A fitted skfma (or skorch) net, or a ``Pipeline`` or search ending in
        one, whose ``history_`` is read; or such a history itself: a
        sequence of one mapping per epoch (skorch's ``History``), or a
        DataFrame from an earlier call (with an ``epoch`` column or index;
        other rows are taken as epochs 1, 2, ... in order).

    Returns
    -------
    history : pandas.DataFrame, shape (n_epochs, n_columns)
        Indexed by ``epoch`` (skorch counts from 1; the position plus one
        where an epoch has no ``epoch`` entry). One column per numeric entry
        in any epoch: ``train_loss`` and ``valid_loss``, then the scores
        (such as ``valid_acc``, ``valid_roc_auc`` for a tagger, and those of
        ``EpochScoring`` callbacks) in the order first recorded, then the
        rest (``dur`` in seconds, batch counts, ...). Booleans
        (``valid_loss_best``) and per-batch lists are left out. An epoch
        without an entry has NaN there.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the net has not been fitted (no history).
    ValueError
        If the history has no epoch.
    ParameterError
        If an epoch number is not an integer (``"a"``, ``None``, ``1.5``,
        NaN); the message names the position of the first such epoch. It is
        also a :class:`ValueError`.
    TypeError
        If ``net_or_history`` is none of the above.

    See Also
    --------
    TrainingHistoryDisplay : The losses and scores per epoch as a figure.

    Examples
    --------
    >>> from skfma.evaluation import training_history
    >>> history = [
    ...     {"epoch": 1, "train_loss": 0.9, "valid_loss": 0.8, "valid_acc": 0.5, "dur": 0.1},
    ...     {"epoch": 2, "train_loss": 0.6, "valid_loss": 0.7, "valid_acc": 0.7, "dur": 0.1},
    ... ]
    >>> training_history(history)[["train_loss", "valid_loss", "valid_acc"]]
    ... # doctest: +NORMALIZE_WHITESPACE
           train_loss  valid_loss  valid_acc
    epoch
    1             0.9         0.8        0.5
    2             0.6         0.7        0.7

    With a fitted net: ``training_history(net)``, or ``net.history_`` itself.
    """
    if isinstance(net_or_history, pd.DataFrame):
        frame = net_or_history.copy()
        if "epoch" in frame.columns:
            frame = frame.set_index("epoch")
        elif frame.index.name != "epoch":  # rows in epoch order, counted from 1 as skorch does
            frame.index = pd.RangeIndex(1, len(frame) + 1)
        if frame.empty:
            raise ValueError("net_or_history is an empty DataFrame: no epoch to show.")
        _check_epochs(frame.index)
        frame.index = frame.index.astype(np.int64)
        frame.index.name = "epoch"
        return frame
    history = _history_of(net_or_history)
    columns = {}
    epochs = []
    for position, row in enumerate(history):
        if not isinstance(row, Mapping):
            raise TypeError(
                f"net_or_history must hold one mapping per epoch; epoch {position} is a "
                f"{type(row).__name__}."
            )
        epochs.append(row.get("epoch", position + 1))
        for key, value in row.items():
            if key != "epoch" and _is_number(value):
                columns.setdefault(key, {})[position] = float(value)
    _check_epochs(epochs)
    epochs = [int(epoch) for epoch in epochs]
    # The losses first, then the scores, then the rest (durations, batch counts, ...).
    order = sorted(columns, key=lambda key: 0 if key in LOSSES else 1 if is_score(key) else 2)
    return pd.DataFrame(
        {key: [columns[key].get(i, np.nan) for i in range(len(epochs))] for key in order},
        index=pd.Index(epochs, name="epoch"),
    )


def is_score(column):
    """Whether a history column is a score: ``train_*`` or ``valid_*``, not a loss or a count."""
    return (
        column.startswith(("train_", "valid_"))
        and column not in LOSSES
        and not column.endswith(("_count", "_best"))
    )


def is_history(value):
    """Whether ``value`` is a history (a DataFrame or a sequence of epochs), not a net."""
    return isinstance(value, pd.DataFrame) or (
        isinstance(value, Sequence) and not isinstance(value, str | bytes)
    )


def _history_of(net_or_history):
    """The list of epoch mappings of a net, a pipeline or search ending in one, or a history."""
    if is_history(net_or_history):
        history = net_or_history
        if len(history) == 0:
            raise ValueError("net_or_history is an empty history: no epoch to show.")
        return history
    net = _final_estimator(net_or_history)
    history = net.history_
    if history is None or len(history) == 0:
        raise NotFittedError(
            f"{type(net).__name__} has no training history: fit it before plotting its epochs."
        )
    return history


def _check_epochs(epochs):
    """Raise a ParameterError naming the first epoch number that is not an integer.

    Integral floats (``2.0``, as a DataFrame column with NaN elsewhere holds
    them) are integers here.
    """
    for position, epoch in enumerate(epochs):
        integral = isinstance(epoch, Integral) or (
            isinstance(epoch, Real) and math.isfinite(epoch) and float(epoch).is_integer()
        )
        if isinstance(epoch, bool | np.bool_) or not integral:
            raise ParameterError(
                "net_or_history must number its epochs with integers (skorch counts from 1); "
                f"the epoch at position {position} is {epoch!r}."
            )


def _is_number(value):
    """Whether ``value`` is a real number that a float holds (not a bool, not a 400-digit int)."""
    if not isinstance(value, Real) or isinstance(value, bool | np.bool_):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True
