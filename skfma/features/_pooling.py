"""TemporalStatistics: pool spectrogram-like features over time."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import validate_parameters
from ..exceptions import ParameterError
from ..utils import names_its_errors

__all__ = ["TemporalStatistics", "temporal_statistics", "STATISTICS"]

#: The statistics of the FMA features, in their released order.
STATISTICS = ("mean", "std", "skew", "kurtosis", "median", "min", "max")


def temporal_statistics(features, *, statistics=STATISTICS, dtype=np.float64, clips_per_chunk=64):
    """Summarise every bin of every clip over time.

    Parameters
    ----------
    features : ndarray, shape (n_clips, n_bins, n_frames)
        Spectrogram-like features.
    statistics : sequence of str, default=STATISTICS
        Any of ``"mean"``, ``"std"`` (population, ``ddof=0``), ``"skew"``
        (biased, as ``scipy.stats.skew``), ``"kurtosis"`` (Fisher, biased, as
        ``scipy.stats.kurtosis``), ``"median"``, ``"min"``, ``"max"``.
    dtype : numpy dtype, default=np.float64
        Output dtype. The moments are always computed in float64.
    clips_per_chunk : int, default=64
        Clips pooled at a time: the float64 temporaries of one chunk are all
        the memory used beyond the output.

    Returns
    -------
    pooled : ndarray, shape (n_clips, len(statistics) * n_bins)
        Statistic-major: all bins' first statistic, then all bins' second, and
        so on. Skew and kurtosis of a constant row, where scipy returns NaN, are 0.
    """
    n_clips, n_bins = features.shape[:2]
    pooled = np.empty((n_clips, len(statistics) * n_bins), dtype=dtype)
    for start in range(0, n_clips, clips_per_chunk):
        chunk = features[start : start + clips_per_chunk]
        pooled[start : start + clips_per_chunk] = _pool_chunk(chunk, statistics)
    return pooled


def _pool_chunk(features, statistics):
    """:func:`temporal_statistics` of a few clips, in float64."""
    x = np.asarray(features, dtype=np.float64)
    mean = x.mean(axis=-1)
    centred = x - mean[..., None]
    # The moments of the deviations scaled to at most 1: powers of them neither overflow
    # (values near 1e200) nor underflow (near 1e-160), where the plain ones gave inf or NaN.
    scale = np.maximum(centred.max(axis=-1), -centred.min(axis=-1))
    scaled = np.divide(centred, np.where(scale > 0, scale, 1.0)[..., None], out=centred)
    squared = scaled**2
    m2 = squared.mean(axis=-1)
    std = scale * np.sqrt(m2)
    # scipy.stats treats a variance this small relative to the mean as zero (NaN out).
    constant = std <= np.finfo(np.float64).resolution * np.abs(mean)
    safe_m2 = np.where(constant, 1.0, m2)
    columns = []
    for name in statistics:
        if name == "mean":
            columns.append(mean)
        elif name == "std":
            columns.append(std)
        elif name == "skew":
            skew = np.mean(squared * scaled, axis=-1) / safe_m2**1.5
            columns.append(np.where(constant, 0.0, skew))
        elif name == "kurtosis":
            kurtosis = np.mean(squared * squared, axis=-1) / safe_m2**2 - 3.0
            columns.append(np.where(constant, 0.0, kurtosis))
        elif name == "median":
            columns.append(np.median(x, axis=-1))
        elif name == "min":
            columns.append(x.min(axis=-1))
        elif name == "max":
            columns.append(x.max(axis=-1))
        else:
            raise ParameterError(f"Unknown statistic {name!r}; choose from {STATISTICS}.")
    return np.concatenate(columns, axis=-1)


def _check_frames(X):
    """``X`` if it is 2-D or 3-D with at least one frame, else a ValueError naming its shape."""
    if X.ndim not in (2, 3) or X.shape[-1] == 0:
        raise ValueError(
            "Expected (n_clips, n_bins, n_frames) or (n_clips, n_frames) with n_frames >= 1; "
            f"got shape {X.shape}."
        )
    return X


class TemporalStatistics(TransformerMixin, BaseEstimator):
    """Pool time away: per-bin statistics of spectrogram-like features.

    Turns 3-D features ``(n_clips, n_bins, n_frames)`` into 2-D tabular features
    for classic classifiers (SVM, random forest, ...): for every bin its mean,
    standard deviation, skewness, kurtosis, median, minimum and maximum over
    time, the summary of the FMA handcrafted features. A 2-D input
    ``(n_clips, n_frames)`` is one bin per clip.

    The output is always finite for finite input: the skewness and kurtosis of
    a constant row (undefined, NaN in scipy) are 0.

    Parameters
    ----------
    statistics : sequence of str, default=("mean", "std", "skew", "kurtosis", \
"median", "min", "max")
        Which statistics, in output order.

    Attributes
    ----------
    n_features_in_ : int
        ``n_bins`` for 3-D input, ``n_frames`` for 2-D input.
    n_bins_ : int
        Number of bins seen in ``fit`` (1 for 2-D input).
    input_ndim_ : int
        2 or 3, the dimensions of the input seen in ``fit``: ``transform``
        refuses the other (its pooled width would differ).

    See Also
    --------
    MelSpectrogram, MFCC

    Examples
    --------
    >>> import numpy as np
    >>> from skfma import TemporalStatistics
    >>> X = np.random.default_rng(0).standard_normal((4, 3, 50))
    >>> pool = TemporalStatistics(statistics=("mean", "max")).fit(X)
    >>> pool.transform(X).shape
    (4, 6)
    >>> pool.get_feature_names_out()[:3].tolist()
    ['mean_0', 'mean_1', 'mean_2']
    """

    def __init__(self, *, statistics=STATISTICS):
        self.statistics = statistics

    @names_its_errors
    def fit(self, X, y=None):
        """Validate the statistics and record the number of bins.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins, n_frames) or (n_clips, n_frames)
        y : None
            Ignored.

        Returns
        -------
        self : TemporalStatistics
        """
        validate_parameters(self)
        X = _check_frames(validate_data(self, X, allow_nd=True, dtype=(np.float64, np.float32)))
        self.n_bins_ = 1 if X.ndim == 2 else X.shape[1]
        self.input_ndim_ = X.ndim
        return self

    @names_its_errors
    def transform(self, X):
        """Pool every bin over time.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins, n_frames) or (n_clips, n_frames)

        Returns
        -------
        pooled : ndarray, shape (n_clips, len(statistics) * n_bins)
            Same float dtype as ``X``; columns named by ``get_feature_names_out``.
        """
        check_is_fitted(self)
        validate_parameters(self)
        X = validate_data(self, X, reset=False, allow_nd=True, dtype=(np.float64, np.float32))
        X = _check_frames(X)
        fitted_ndim = getattr(self, "input_ndim_", X.ndim)
        if X.ndim != fitted_ndim:
            raise ValueError(
                f"X has shape {X.shape}, but {type(self).__name__} was fitted on {fitted_ndim}-D "
                f"input ({self.n_bins_} bins): pooling it would give another width."
            )
        features = X[:, None, :] if X.ndim == 2 else X
        return temporal_statistics(features, statistics=self.statistics, dtype=X.dtype)

    def get_feature_names_out(self, input_features=None):
        """Output column names, ``"{statistic}_{bin}"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the bins; default ``"0"``, ``"1"``, ...

        Returns
        -------
        feature_names_out : ndarray of str, shape (len(statistics) * n_bins,)
        """
        check_is_fitted(self, "n_bins_")
        if input_features is None:
            input_features = [str(b) for b in range(self.n_bins_)]
        elif len(input_features) != self.n_bins_:
            raise ValueError(
                f"input_features has {len(input_features)} names but there are {self.n_bins_} bins."
            )
        names = [f"{stat}_{name}" for stat in self.statistics for name in input_features]
        return np.asarray(names, dtype=object)

    _parameter_checks = {"statistics": lambda name, statistics: _check_statistics(statistics)}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _check_statistics(statistics):
    if not isinstance(statistics, list | tuple) or len(statistics) == 0:
        raise ParameterError(
            f"statistics must be a non-empty list or tuple of names from {STATISTICS}; got "
            f"{statistics!r}."
        )
    unknown = [name for name in statistics if name not in STATISTICS]
    if unknown:
        raise ParameterError(f"statistics: unknown {unknown}; choose from {STATISTICS}.")
