"""Input and parameter validation shared by skfma's estimators."""

import functools
import inspect
import math
import os
import tempfile
from collections.abc import Hashable
from numbers import Integral, Real

import numpy as np

from ..exceptions import ParameterError

__all__ = [
    "names_its_errors",
    "validate_arguments",
    "value_check",
    "check_paths",
    "check_sample_rate",
    "ensure_writable_folder",
    "expand_path",
    "check_choice",
    "check_positive",
    "check_int",
    "check_sizes",
    "check_dropout",
    "check_top_db",
    "check_n_jobs",
    "is_int",
    "is_finite_number",
]


def names_its_errors(function):
    """Decorate a method or function so that its :class:`~skfma.exceptions.ParameterError` names it.

    A pipeline may hold several steps with an ``sr`` or an ``n_fft``:
    ``"sr must be a finite number > 0"`` does not say which is wrong. A
    decorated method prefixes the message with its estimator's class name
    (``"MelSpectrogram: sr must be ..."``), a decorated function with its own
    name. The exception is the same object with its original traceback;
    a message that already carries the prefix is left as it is, so nested
    decorated calls name the owner once. Errors from another object inside
    keep their own prefix after it (``"KostrzewaCNN: KostrzewaCNNModule:
    filters must be ..."``).

    Parameters
    ----------
    function : callable
        A method (whose first argument is the instance, or the class for a
        class method: decorate it under ``@classmethod``) or a plain function.

    Returns
    -------
    wrapper : callable
    """
    is_method = "." in function.__qualname__ and "<locals>" not in function.__qualname__

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ParameterError as error:
            if not is_method:
                owner = function.__name__
            else:  # a class method's first argument is the class
                owner = args[0].__name__ if isinstance(args[0], type) else type(args[0]).__name__
            message = str(error)
            if not message.startswith(f"{owner}: "):
                error.args = (f"{owner}: {message}",)
            raise

    return wrapper


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
        paths[i] = os.path.expanduser(os.fspath(path))  # "~/x.mp3", as the datasets do
    return paths


def validate_arguments(checks):
    """Decorate a public function so that each argument is checked by its declared check.

    The functions' counterpart of the estimators' ``_parameter_checks``
    (:func:`skfma.base.validate_parameters`): the table is declared beside the
    signature, and every argument (its default included) goes through its
    check before the body runs. A check is called as ``check(name, value)``
    and raises a :class:`~skfma.exceptions.ParameterError` naming the
    parameter; what it returns, unless None, is what the body receives (a
    path with ``~`` expanded, a NumPy integer as an int). What relates two
    arguments (``fmin < fmax``) stays in the body. The decorated function
    names its errors (:func:`names_its_errors`) and keeps the table as
    ``_parameter_checks``, as an estimator class keeps its own.

    Parameters
    ----------
    checks : dict of str to callable
        One check per parameter of the function (``*args`` and ``**kwargs``
        excepted): the ``check_*`` functions of this module, partials of
        them, or :func:`value_check` around one that takes only the value.

    Returns
    -------
    decorator : callable

    Raises
    ------
    TypeError
        When decorating, if the table names a parameter the function does not
        have, or leaves one out: a mistake in skfma's code, not the user's.
    """

    def decorate(function):
        signature = inspect.signature(function)
        named = {
            name
            for name, parameter in signature.parameters.items()
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        }
        if set(checks) != named:
            raise TypeError(
                f"{function.__qualname__}: the checks' table must name each parameter once; "
                f"missing {sorted(named - set(checks))}, unknown {sorted(set(checks) - named)}."
            )

        @names_its_errors
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            for name, check in checks.items():
                checked = check(name, bound.arguments[name])
                if checked is not None:
                    bound.arguments[name] = checked
            return function(*bound.args, **bound.kwargs)

        wrapper._parameter_checks = checks
        return wrapper

    return decorate


def value_check(check, **options):
    """A table entry from a check that takes only the value and names the parameter itself.

    Parameters
    ----------
    check : callable
        Called as ``check(value, **options)`` (``check_n_jobs``, ``check_top_db``).
    **options
        Passed on.

    Returns
    -------
    callable
        ``entry(name, value)``, which returns what ``check`` returns.
    """

    def entry(name, value):
        return check(value, **options)

    return entry


def expand_path(name, path, *, allow_none=False):
    """A folder or file parameter as a str, with ``~`` expanded to the home folder.

    Parameters
    ----------
    name : str
        The parameter's name, for the error.
    path : str or os.PathLike
    allow_none : bool, default=False
        Accept None, returned as it is.

    Returns
    -------
    str or None

    Raises
    ------
    ParameterError
        Naming ``name``, if ``path`` is not a str or path, or is empty (which
        would name the working folder without saying so).
    """
    if path is None and allow_none:
        return None
    if not isinstance(path, str | os.PathLike):
        raise ParameterError(
            f"{name} must be a path (str or os.PathLike){' or None' * allow_none}; got {path!r}."
        )
    path = os.fspath(path)
    if not isinstance(path, str) or not path:
        raise ParameterError(f"{name} must name a folder or file; got {path!r}.")
    return os.path.expanduser(path)


def ensure_writable_folder(path):
    """Create the folder ``path`` if needed and write (then remove) a file in it.

    Raises
    ------
    OSError
        As the system gives it, if the folder cannot be created or written:
        callers name what the folder is for.
    """
    os.makedirs(path, exist_ok=True)
    with tempfile.TemporaryFile(dir=path):
        pass


def check_bool(name, value, *, allow_none=False):
    """Return ``value`` as a bool if it is one (Python's or NumPy's), else raise.

    ``0`` and ``1`` are not booleans here, although they compare equal to
    ``False`` and ``True``: a flag set to a number is a mistake to name.
    With ``allow_none``, None is accepted and returned.

    Raises
    ------
    ParameterError
        Naming ``name``.
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, bool | np.bool_):
        raise ParameterError(
            f"{name} must be True or False{' or None' * allow_none}; got {value!r}."
        )
    return bool(value)


def check_array_like(name, value):
    """Raise a :class:`~skfma.exceptions.ParameterError` unless ``value`` holds data as an array.

    An ndarray (a memory map included), a torch tensor, a list or tuple, a
    pandas object, or anything NumPy converts through ``__array__``; its
    contents are checked where they are used.
    """
    if not (
        isinstance(value, list | tuple) or hasattr(value, "__array__") or hasattr(value, "shape")
    ):
        raise ParameterError(
            f"{name} must be an array (NumPy, torch, pandas or a list); got "
            f"{type(value).__name__}: {value!r}."
        )


def check_choice(name, value, choices):
    """Raise a :class:`~skfma.exceptions.ParameterError` unless ``value`` is in ``choices``.

    An array or a list is none of them, whatever it holds (``value in
    choices`` would compare it element-wise).
    """
    if not isinstance(value, Hashable) or value not in choices:
        raise ParameterError(
            f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}."
        )
    return value


def is_int(value):
    """Whether ``value`` is an integer, Python's or NumPy's (a bool is not)."""
    return isinstance(value, Integral) and not isinstance(value, bool)


#: The largest integer parameter accepted: sizes, counts and epochs beyond it are typing
#: mistakes, which would overflow torch's and NumPy's index types or exhaust memory.
MAX_INT = 2**31 - 1


def check_int(name, value, *, minimum=1, allow_none=False):
    """Return ``value`` as a Python int if it is an integer from ``minimum`` to ``MAX_INT``.

    NumPy integers (as from a ``np.arange`` parameter grid) are accepted and
    converted, since torch's layers take only Python ints.

    Raises
    ------
    ParameterError
        Naming ``name``, if ``value`` is not such an integer (or None, when allowed).
    """
    if value is None and allow_none:
        return value
    if not is_int(value) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an int >= {minimum}"
        raise ParameterError(
            f"{name} must be {what}{' or None' if allow_none else ''}; got {value!r}."
        )
    if value > MAX_INT:
        raise ParameterError(f"{name} must be at most 2**31 - 1; got {value!r}.")
    return int(value)


def is_finite_number(value):
    """Whether ``value`` is a real number (Python's or NumPy's, not a bool) and finite."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def check_positive(name, value, *, allow_none=False, integer=False, maximum=None):
    """Raise a :class:`~skfma.exceptions.ParameterError` unless ``value`` is a finite number > 0.

    NaN and infinity are refused. With ``integer=True`` this is
    :func:`check_int`, and returns a Python int.

    Parameters
    ----------
    name : str
        The parameter's name, for the error.
    value : object
    allow_none : bool, default=False
        Accept None.
    integer : bool, default=False
        Require an integer (at most ``MAX_INT``).
    maximum : float or None, default=None
        The largest value accepted (inclusive); the message states it and,
        where the caller gives the reason in ``name``'s own message, why.
    """
    if integer:
        value = check_int(name, value, allow_none=allow_none)
    elif value is None and allow_none:
        return value
    elif not is_finite_number(value) or not value > 0:
        raise ParameterError(f"{name} must be a finite number > 0; got {value!r}.")
    if maximum is not None and value is not None and value > maximum:
        raise ParameterError(f"{name} must be at most {maximum:g}; got {value!r}.")
    return value


#: The sample rates accepted (Hz): below, resampling a clip to a model's rate multiplies
#: its samples by thousands; above, by no audio format's rate (768 kHz at most).
SAMPLE_RATES = (100, 1_000_000)


def check_sample_rate(name, value, *, allow_none=False, integer=False):
    """Return ``value`` if it is a sample rate in Hz within :data:`SAMPLE_RATES`, else raise.

    Raises
    ------
    ParameterError
        Naming ``name``, if ``value`` is not a finite number (an int with
        ``integer``) from 100 to 1,000,000.
    """
    if value is None and allow_none:
        return value
    low, high = SAMPLE_RATES
    number = is_int(value) if integer else is_finite_number(value)
    if not number or not low <= value <= high:
        kind = "an int" if integer else "a number"
        raise ParameterError(
            f"{name} must be {kind} of Hz from {low} to {high:,}"
            f"{' or None' if allow_none else ''}; got {value!r}."
        )
    return value


def check_frequency(name, value, *, allow_none=False):
    """Raise a :class:`~skfma.exceptions.ParameterError` unless ``value`` is a finite number of Hz.

    Parameters
    ----------
    name : str
    value : object
    allow_none : bool, default=False
        Accept None (for "the default edge").
    """
    if not (is_finite_number(value) or (allow_none and value is None)):
        raise ParameterError(
            f"{name} must be a finite number of Hz{' or None' * allow_none}; got {value!r}."
        )


def check_mel_range(sr, fmin, fmax):
    """Return the upper edge of a mel filterbank's range, checked against ``sr``.

    Parameters
    ----------
    sr : float
        Sample rate in Hz (already checked).
    fmin : float
        Lowest edge in Hz.
    fmax : float or None
        Highest edge in Hz; ``None`` means ``sr / 2``.

    Returns
    -------
    fmax : float
        ``fmax``, or ``sr / 2`` for None.

    Raises
    ------
    ParameterError
        Unless both are finite numbers with ``0 <= fmin < fmax <= sr / 2``.
    """
    check_frequency("fmin", fmin)
    check_frequency("fmax", fmax, allow_none=True)
    upper = sr / 2 if fmax is None else fmax
    if not 0 <= fmin < upper <= sr / 2:
        raise ParameterError(
            f"need 0 <= fmin < fmax <= sr / 2 = {sr / 2}; got fmin={fmin!r}, fmax={fmax!r}."
        )
    return upper


def check_n_jobs(n_jobs):
    """Return ``n_jobs`` if it is None or a non-zero integer (joblib's), else raise."""
    if n_jobs is not None and (not is_int(n_jobs) or n_jobs == 0):
        raise ParameterError(f"n_jobs must be None or a non-zero integer; got {n_jobs!r}.")
    return n_jobs


def check_sizes(name, values, *, allow_empty=False):
    """Return a tuple (or list) of positive integers, such as layer widths, as a tuple of ints."""
    values = tuple(values) if isinstance(values, list | tuple) else values
    if (
        not isinstance(values, tuple)
        or (not values and not allow_empty)
        or not all(is_int(v) and 0 < v <= MAX_INT for v in values)
    ):
        raise ParameterError(
            f"{name} must be a tuple of positive ints (at most 2**31 - 1); got {values!r}."
        )
    return tuple(int(v) for v in values)


def check_dropout(dropout, name="dropout"):
    """Return a dropout probability in [0, 1) as a float, else raise a ParameterError naming it."""
    if isinstance(dropout, bool) or not (isinstance(dropout, Real) and 0.0 <= dropout < 1.0):
        raise ParameterError(f"{name} must be a number in [0, 1); got {dropout!r}.")
    return float(dropout)


def check_top_db(top_db):
    """Return ``top_db`` if it is None or a finite number >= 0 (decibels), else raise."""
    if top_db is not None and (not is_finite_number(top_db) or top_db < 0):
        raise ParameterError(f"top_db must be None or a finite number >= 0; got {top_db!r}.")
    return top_db
