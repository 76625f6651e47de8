"""Plumbing that several subpackages share, in one place.

- :class:`WaveformTransformer`: the base of the stateless transformers of 2-D mono
  waveforms (``skfma.features``, ``skfma.transfer``);
- :func:`check_spectrograms`: validation of 3-D spectrogram input (``features``,
  ``transfer``);
- :func:`paths_input_tags`, :data:`ON_ERROR` and :func:`warn_failures`: the tags
  and the failure policy of the steps that take audio file paths (``audio``,
  ``pipeline``);
- :func:`validate_parameters`: every estimator's parameters, checked in one place
  against the table of checks its class declares (``_parameter_checks``);
- :class:`ArrayOutputMixin`: ``set_output`` for the transformers whose output has no
  column names.

Like ``sklearn/base.py``, it is imported by the subpackages, never the other way:
it sits on the lowest layers (``docs/contributing.rst``).
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .utils import check_choice, names_its_errors
from .utils._warnings import warn_user

__all__ = [
    "ON_ERROR",
    "WaveformTransformer",
    "check_spectrograms",
    "declared_checks",
    "paths_input_tags",
    "validate_parameters",
    "warn_failures",
]

#: What a step that decodes files does with one it cannot decode: raise, or warn and fill.
ON_ERROR = ("raise", "warn")

#: Accepted waveform dtypes; anything else is converted to the first.
WAVEFORM_DTYPES = (np.float32, np.float64)

#: The largest waveform amplitude accepted: audio is in [-1, 1] (decoders' float output),
#: or up to 32768 for integer PCM cast to float. Far above it, the squared magnitudes of
#: float32 spectra (about (n_fft x amplitude)**2) leave float32's range (3.4e38).
MAX_AMPLITUDE = 1e6


def declared_checks(cls):
    """The table of parameter checks that ``cls`` declares, its base classes' included.

    Each class may declare ``_parameter_checks``: a dict mapping a parameter's
    name to a check called as ``check(name, value)``, which raises a
    :class:`~skfma.exceptions.ParameterError` naming the parameter (the
    ``check_*`` functions of :mod:`skfma.utils`, or ``functools.partial`` of
    them). A name ending in ``*`` covers every parameter it begins
    (``"module__*"``). A subclass's entries add to and replace its bases'.

    Parameters
    ----------
    cls : type

    Returns
    -------
    dict of str to callable
    """
    table = {}
    for klass in reversed(cls.__mro__):
        table.update(vars(klass).get("_parameter_checks", {}))
    return table


def validate_parameters(estimator, names=None):
    """Check each parameter of ``estimator`` (``get_params(deep=False)``) with its declared check.

    The one place where an estimator's parameters are checked, each on its
    own; what relates two parameters (``fmin < fmax``) is checked after it,
    in the estimator's ``_check_params``. A parameter without a declared
    check (one a user's subclass adds) is left to its class; skfma's own
    estimators declare one for every parameter (``tests/test_common.py``).

    Parameters
    ----------
    estimator : BaseEstimator
    names : sequence of str or None, default=None
        Check only these parameters (those a fitted estimator still reads
        when it transforms); None checks them all.

    Raises
    ------
    ParameterError
        Naming the first parameter whose value its check refuses.
    """
    table = declared_checks(type(estimator))
    prefixes = [(name[:-1], check) for name, check in table.items() if name.endswith("*")]
    params = estimator.get_params(deep=False)
    for name in params if names is None else names:
        value = params[name]
        check = table.get(name)
        if check is None:
            check = next((c for prefix, c in prefixes if name.startswith(prefix)), None)
        if check is not None:
            check(name, value)


#: The values of scikit-learn's ``set_output(transform=...)``.
OUTPUT_CONTAINERS = (None, "default", "pandas", "polars")


class ArrayOutputMixin:
    """``set_output`` for a transformer whose output has no column names.

    Spectrograms (3-D), waveforms and images have no columns to name, so
    these transformers have no ``get_feature_names_out``, and scikit-learn
    gives ``set_output`` only to those that have it: ``Pipeline.set_output``
    then failed on any pipeline holding one. This ``set_output`` accepts
    every setting and leaves the output an array, as scikit-learn's global
    ``transform_output`` does for such a transformer; a later step that
    names its columns (``TemporalStatistics``) makes the pipeline's
    DataFrame. Put it before ``TransformerMixin`` among the bases.
    """

    def set_output(self, *, transform=None):
        """Accept an output container; the output stays an array (it has no column names).

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None

        Returns
        -------
        self : estimator
        """
        check_choice("transform", transform, OUTPUT_CONTAINERS)
        return self


class WaveformTransformer(TransformerMixin, BaseEstimator):
    """Validation shared by the transformers of ``(n_clips, n_samples)`` waveforms.

    They learn nothing: ``fit`` validates the parameters and records the clip
    length (``n_features_in_``), and ``transform`` works unfitted too
    (``requires_fit`` is False). Subclasses implement ``_check_params()``.
    """

    @names_its_errors
    def fit(self, X, y=None):
        """Validate the parameters and record the clip length; nothing is learnt.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Mono waveforms at ``sr`` Hz.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._check_params()
        _check_amplitude(validate_data(self, X, dtype=WAVEFORM_DTYPES))
        return self

    def _validate_waveforms(self, X):
        """``transform``'s checks: the parameters, then ``X`` as float32 or float64 2-D.

        Raises
        ------
        ValueError
            If an amplitude exceeds :data:`MAX_AMPLITUDE`, which no audio
            reaches and whose features would overflow float32.
        """
        check_is_fitted(self)
        self._check_params()
        return _check_amplitude(validate_data(self, X, reset=False, dtype=WAVEFORM_DTYPES))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


def _check_amplitude(X):
    """``X`` if no sample's magnitude exceeds :data:`MAX_AMPLITUDE`, else a ValueError."""
    # Max and min, not np.abs(X).max(): no temporary as large as X.
    peak = max(float(X.max(initial=0.0)), -float(X.min(initial=0.0)))
    if peak > MAX_AMPLITUDE:
        raise ValueError(
            f"X holds waveform amplitudes up to {peak:.3g}; audio is expected in [-1, 1] (at "
            f"most {MAX_AMPLITUDE:.0e}, beyond which its features overflow float32): scale the "
            "waveforms, e.g. X / np.abs(X).max()."
        )
    return X


def check_spectrograms(estimator, X, *, reset, dtype=np.float32):
    """``X`` validated as 3-D ``(n_clips, n_bins, n_frames)`` with no empty axis.

    Parameters
    ----------
    estimator : estimator
        Whose ``n_features_in_`` (the bins) is set (``reset``) or checked.
    X : array-like of shape (n_clips, n_bins, n_frames)
    reset : bool
        As in ``validate_data``.
    dtype : dtype or tuple of dtypes, default=np.float32
        As in ``validate_data``.

    Returns
    -------
    X : ndarray, shape (n_clips, n_bins, n_frames)

    Raises
    ------
    ValueError
        Naming the shape, if ``X`` is not 3-D or has an empty axis; if a
        value is NaN, infinite, or beyond float32's range.
    """
    X = validate_data(estimator, X, reset=reset, allow_nd=True, dtype=dtype)
    if X.ndim != 3 or 0 in X.shape:
        raise ValueError(
            f"Expected spectrograms of shape (n_clips, n_bins, n_frames), none empty; got shape "
            f"{X.shape}."
        )
    largest = max(X.max(), -X.min()) if X.dtype == np.float64 else 0.0  # no copy of X
    if largest > np.finfo(np.float32).max:
        # Kept float64 to be cast batch by batch: to float32, such values would be infinite.
        raise ValueError(
            f"Input X contains a value too large for dtype('float32') (the largest is "
            f"{largest:.3g}), which the computation uses."
        )
    return X


def paths_input_tags(tags):
    """The tags of a stateless transformer of audio file paths (1-D strings), set in ``tags``."""
    tags.requires_fit = False
    tags.input_tags.two_d_array = False
    tags.input_tags.one_d_array = True
    tags.input_tags.string = True
    tags.transformer_tags.preserves_dtype = []
    return tags


def warn_failures(failures, n_files):
    """Warn once, naming every file that could not be decoded (nothing if none failed).

    Parameters
    ----------
    failures : list of (int, str, str)
        ``(row, path, reason)`` of each failed file.
    n_files : int
        Files in the call.
    """
    if not failures:
        return
    listing = "; ".join(f"row {row}: {path} ({reason})" for row, path, reason in failures)
    warn_user(
        f"{len(failures)} of {n_files} audio files could not be decoded; their rows are zeros "
        f"(see failures_): {listing}",
        UserWarning,
    )
