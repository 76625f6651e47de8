"""Input and parameter validation shared by skfma's estimators."""

import os
from numbers import Real

import numpy as np

from ..exceptions import ParameterError

__all__ = ["check_paths", "check_choice", "check_positive"]


def check_paths(X):
    """Validate a collection of audio file paths.

    Parameters
    ----------
    X : array-like of str or os.PathLike, shape (n_clips,) or (n_clips, 1)
        A list, a pandas Series or DataFrame column, or a one-column array.

    Returns
    -------
    paths : ndarray of object, shape (n_clips,)
        The paths as ``str``, in the input order.

    Raises
    ------
    TypeError
        If an element is neither ``str`` nor ``os.PathLike``.
    ValueError
        If ``X`` is not one-dimensional (or a single column) or is empty.
    """
    if isinstance(X, str | os.PathLike):
        raise TypeError(
            "Expected a 1-D collection of audio paths, got a single path "
            f"{os.fspath(X)!r}; wrap it in a list."
        )
    values = np.asarray(getattr(X, "to_numpy", lambda: X)(), dtype=object)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(
            f"Expected a 1-D collection of audio paths (or one column), got shape {values.shape}."
        )
    if values.shape[0] == 0:
        raise ValueError("Expected at least one audio path, got an empty collection.")
    paths = np.empty(values.shape[0], dtype=object)
    for i, path in enumerate(values):
        if not isinstance(path, str | os.PathLike):
            raise TypeError(
                f"Audio path at row {i} must be str or os.PathLike, got {type(path).__name__}: "
                f"{path!r}."
            )
        paths[i] = os.fspath(path)
    return paths


def check_choice(name, value, choices):
    """Raise a :class:`~skfma.exceptions.ParameterError` unless ``value`` is in ``choices``."""
    if value not in choices:
        raise ParameterError(
            f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}."
        )
    return value


def check_positive(name, value, *, allow_none=False, integer=False):
    """Raise a :class:`~skfma.exceptions.ParameterError` unless ``value`` is a number > 0."""
    if value is None and allow_none:
        return value
    kind = (int, np.integer) if integer else Real
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        what = "a positive integer" if integer else "a positive number"
        raise ParameterError(f"{name} must be {what}; got {value!r}.")
    return value
