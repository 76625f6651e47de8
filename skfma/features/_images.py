"""Spectrograms as images: bilinear resizing, and standardisation learnt on the training set."""

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._batching import map_batches
from ..base import ArrayOutputMixin, check_spectrograms, validate_parameters
from ..exceptions import ParameterError
from ..utils import check_bool, check_sizes, names_its_errors

__all__ = ["Resize", "SpectrogramScaler"]

#: Bytes of float64 temporaries per chunk when SpectrogramScaler sums.
CHUNK_BYTES = 32 * 2**20


class Resize(ArrayOutputMixin, TransformerMixin, BaseEstimator):
    """Resize spectrograms to a fixed ``(n_bins, n_frames)`` by bilinear interpolation.

    As Keras' ``Resizing`` layer (``tf.image.resize``, bilinear, half-pixel
    centres, no antialiasing) and ``torch.nn.functional.interpolate(...,
    mode="bilinear", align_corners=False)``: the report of the Milano-Bicocca
    group fed ``KostrzewaCNN`` 128 x 128 images resized from 128 x 1280
    log-mels. Shrinking time this way keeps one frame in ten, blended with
    its neighbour; it is the papers' recipe, not a low-pass filter.

    Parameters
    ----------
    shape : tuple of (int, int), default=(128, 128)
        ``(n_bins, n_frames)`` of the output.

    See Also
    --------
    SpectrogramScaler, skfma.models.KostrzewaCNN

    Examples
    --------
    >>> import numpy as np
    >>> from skfma.features import Resize
    >>> X = np.random.default_rng(0).standard_normal((2, 128, 1280)).astype(np.float32)
    >>> Resize(shape=(128, 128)).fit_transform(X).shape
    (2, 128, 128)
    """

    def __init__(self, *, shape=(128, 128)):
        self.shape = shape

    @names_its_errors
    def fit(self, X, y=None):
        """Check the shape and the input; nothing is learnt.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins, n_frames)
        y : None
            Ignored.

        Returns
        -------
        self : Resize
        """
        self._check_shape()
        check_spectrograms(self, X, reset=True)
        return self

    @names_its_errors
    def transform(self, X):
        """Resize every spectrogram.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins, n_frames)
            Any number of frames.

        Returns
        -------
        resized : ndarray of float32, shape (n_clips, n_bins, n_frames)
            ``(n_bins, n_frames)`` is ``shape``.
        """
        check_is_fitted(self)
        shape = self._check_shape()
        X = check_spectrograms(self, X, reset=False)
        out = np.empty((X.shape[0], *shape), np.float32)

        def resize(batch):
            return torch.nn.functional.interpolate(
                batch[:, None], size=shape, mode="bilinear", align_corners=False
            )[:, 0]

        return map_batches(resize, X, out, batch_size=64, device=torch.device("cpu"))

    _parameter_checks = {"shape": lambda name, shape: _check_shape(shape)}

    def _check_shape(self):
        """Validate the parameters; the output shape as two ints."""
        validate_parameters(self)
        return _check_shape(self.shape)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _check_shape(shape):
    """Resize's ``shape``: two positive sizes."""
    sizes = check_sizes("shape", shape)
    if len(sizes) != 2:
        raise ParameterError(f"shape must be (n_bins, n_frames); got {shape!r}.")
    return sizes


class SpectrogramScaler(ArrayOutputMixin, TransformerMixin, BaseEstimator):
    """Standardise spectrograms with the training set's mean and standard deviation.

    ``StandardScaler`` refuses 3-D input; this learns one mean and one
    standard deviation over every value of the training spectrograms
    (``per_bin=False``, as the U-Net encoder report normalised its tiles), or
    one per frequency bin over all clips and frames (``per_bin=True``), and
    applies them to any clips, of any number of frames.

    Parameters
    ----------
    per_bin : bool, default=False
        Learn a mean and a standard deviation per frequency bin instead of
        one for all values.

    Attributes
    ----------
    mean_ : ndarray of float64, shape (1, 1) or (n_bins, 1)
    scale_ : ndarray of float64, shape (1, 1) or (n_bins, 1)
        The standard deviation (1 where it is 0, so that constant bins stay
        finite).
    n_features_in_ : int
        ``n_bins`` seen in ``fit``.

    See Also
    --------
    Resize, sklearn.preprocessing.StandardScaler

    Examples
    --------
    >>> import numpy as np
    >>> from skfma.features import SpectrogramScaler
    >>> X = np.random.default_rng(0).normal(-40, 12, (4, 96, 300)).astype(np.float32)
    >>> Z = SpectrogramScaler().fit_transform(X)
    >>> bool(abs(Z.mean()) < 1e-6), round(float(Z.std()), 3)
    (True, 1.0)
    """

    def __init__(self, *, per_bin=False):
        self.per_bin = per_bin

    _parameter_checks = {"per_bin": check_bool}

    @names_its_errors
    def fit(self, X, y=None):
        """Learn the mean and standard deviation (in float64, chunk by chunk).

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins, n_frames)
        y : None
            Ignored.

        Returns
        -------
        self : SpectrogramScaler
        """
        validate_parameters(self)
        X = check_spectrograms(self, X, reset=True)
        axes = (0, 2) if self.per_bin else (0, 1, 2)
        count = X.size / (X.shape[1] if self.per_bin else 1)
        # Two passes in float64, a chunk of clips at a time: no float64 copy of X (a memory map
        # of the whole FMA's log-mels is read twice, never held).
        chunks = _chunks(X)
        mean = sum(X[c].sum(axis=axes, dtype=np.float64, keepdims=True)[0] for c in chunks) / count
        squares = sum(
            np.square(X[c] - mean).sum(axis=axes, dtype=np.float64, keepdims=True)[0]
            for c in chunks
        )
        std = np.sqrt(squares / count)
        self.mean_ = mean
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    @names_its_errors
    def transform(self, X):
        """``(X - mean_) / scale_``, computed in float64 a chunk of clips at a time.

        In float64, so that a standard deviation below float32's range
        (subnormal or smaller values) scales as it should instead of dividing
        by zero.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins, n_frames)

        Returns
        -------
        standardised : ndarray of float32, shape (n_clips, n_bins, n_frames)

        Raises
        ------
        ValueError
            If a standardised value exceeds float32's range (a value more
            than about 3e38 standard deviations from the training mean).
        """
        check_is_fitted(self)
        X = check_spectrograms(self, X, reset=False)
        standardised = np.empty(X.shape, dtype=np.float32)
        try:
            # In float64, chunk by chunk; only the cast to float32 can overflow, and raises.
            with np.errstate(over="raise"):
                for chunk in _chunks(X):
                    standardised[chunk] = (X[chunk] - self.mean_) / self.scale_
        except FloatingPointError:
            raise ValueError(
                "X has values beyond float32's range once standardised (more than about 3e38 "
                "standard deviations from the training mean): fit on spectrograms like these."
            ) from None
        return standardised

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _chunks(X):
    """Slices of clips of ``X`` (n_clips, n_bins, n_frames) of about CHUNK_BYTES in float64."""
    step = max(1, CHUNK_BYTES // (8 * X.shape[1] * X.shape[2]))
    return [slice(start, start + step) for start in range(0, len(X), step)]
