"""The AudioLoader transformer: audio file paths to a fixed-size waveform matrix."""

from functools import partial

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..base import ON_ERROR, ArrayOutputMixin, paths_input_tags, validate_parameters, warn_failures
from ..exceptions import AudioDecodeError, ParameterError
from ..utils import (
    check_choice,
    check_int,
    check_n_jobs,
    check_paths,
    check_positive,
    check_sample_rate,
    names_its_errors,
    value_check,
)
from ..utils._validation import MAX_INT
from ._load import CROPS, PAD_MODES, load_window

__all__ = ["AudioLoader"]


class AudioLoader(ArrayOutputMixin, TransformerMixin, BaseEstimator):
    """Decode audio files into a matrix of fixed-length mono waveforms.

    Every file is decoded (soundfile), downmixed to mono, resampled to ``sr``
    (soxr, high quality) and cut or padded to exactly ``duration`` seconds, so
    that the output has one row per input path, in the input order.

    Only the needed window is decoded: with ``crop="start"`` decoding stops after
    ``duration`` seconds.

    Parameters
    ----------
    sr : float, default=22050
        Sampling rate of the output in Hz.
    duration : float, default=30.0
        Length of every output row in seconds; rows have
        ``round(sr * duration)`` samples, at least one and at most
        ``2**31 - 1`` (8 GiB of float32 per clip, and the most samples
        that torch's and NumPy's 32-bit indices address): about 27 hours at
        22,050 Hz, 13.5 hours at 44,100 Hz.
    crop : {"start", "center"}, default="start"
        Which window of a longer clip to keep: its first ``duration`` seconds, or
        the ``duration`` seconds in its middle.
    pad_mode : {"constant", "wrap"}, default="constant"
        How to fill a shorter clip: with zeros after its end, or by looping it.
    on_error : {"raise", "warn"}, default="raise"
        What to do with a file that cannot be decoded or holds no audio (see
        :func:`~skfma.audio.load_audio`; a truncated file whose data end before
        the window counts too, a short or silent clip does not). ``"raise"`` raises
        :class:`~skfma.exceptions.AudioDecodeError` naming the file. ``"warn"``
        fills its row with zeros, lists it in ``failures_`` and emits one
        warning naming every failed file. Rows are never dropped.
    n_jobs : int or None, default=None
        Number of joblib workers decoding files in parallel; ``-1`` uses every
        core. Runs under any joblib backend (``joblib.parallel_config``).
    verbose : int, default=0
        joblib's progress messages.

    Attributes
    ----------
    failures_ : list of tuple (int, str, str)
        Set by ``transform``: ``(row, path, reason)`` for every file that could
        not be decoded with ``on_error="warn"`` (empty if all decoded); absent
        after a call that raised.

    See Also
    --------
    load_audio : decode one file.

    Notes
    -----
    The transformer is stateless: ``fit`` only validates the parameters.

    Examples
    --------
    >>> from skfma import AudioLoader
    >>> loader = AudioLoader(sr=22050, duration=30.0, n_jobs=2)
    >>> X = loader.transform(["000002.mp3", "000005.mp3"])  # doctest: +SKIP
    >>> X.shape, X.dtype  # doctest: +SKIP
    ((2, 661500), dtype('float32'))
    """

    def __init__(
        self,
        *,
        sr=22050,
        duration=30.0,
        crop="start",
        pad_mode="constant",
        on_error="raise",
        n_jobs=None,
        verbose=0,
    ):
        self.sr = sr
        self.duration = duration
        self.crop = crop
        self.pad_mode = pad_mode
        self.on_error = on_error
        self.n_jobs = n_jobs
        self.verbose = verbose

    @names_its_errors
    def fit(self, X, y=None):
        """Validate the parameters and the paths; nothing is learnt.

        Parameters
        ----------
        X : array-like of str or os.PathLike, shape (n_clips,) or (n_clips, 1)
            Audio file paths.
        y : None
            Ignored.

        Returns
        -------
        self : AudioLoader
        """
        self._check_params()
        check_paths(X)
        return self

    @names_its_errors
    def transform(self, X):
        """Decode every file into one row.

        Parameters
        ----------
        X : array-like of str or os.PathLike, shape (n_clips,) or (n_clips, 1)
            Audio file paths.

        Returns
        -------
        waveforms : ndarray of float32, shape (n_clips, round(sr * duration))
            Mono waveforms at ``sr`` Hz, one row per path, in order.
        """
        check_is_fitted(self)
        self._check_params()
        paths = check_paths(X)
        vars(self).pop("failures_", None)  # a call that raises leaves no earlier call's list
        n_samples = self.n_samples_out
        waveforms = np.zeros((len(paths), n_samples), dtype=np.float32)
        jobs = (
            delayed(load_window)(path, self.sr, n_samples, self.crop, self.pad_mode)
            for path in paths
        )
        results = Parallel(n_jobs=self.n_jobs, verbose=self.verbose, return_as="generator")(jobs)
        failures = []
        for row, result in enumerate(results):
            if isinstance(result, AudioDecodeError):
                if self.on_error == "raise":
                    raise result
                failures.append((row, result.path, result.reason))
            else:
                waveforms[row] = result
        self.failures_ = failures
        warn_failures(failures, len(paths))
        return waveforms

    @property
    def n_samples_out(self):
        """int : Number of samples in every output row, ``round(sr * duration)``."""
        return round(self.sr * self.duration)

    _parameter_checks = {
        "sr": check_sample_rate,
        "duration": check_positive,
        "crop": partial(check_choice, choices=CROPS),
        "pad_mode": partial(check_choice, choices=PAD_MODES),
        "on_error": partial(check_choice, choices=ON_ERROR),
        "n_jobs": value_check(check_n_jobs),
        "verbose": partial(check_int, minimum=0),
    }

    def _check_params(self):
        validate_parameters(self)
        if self.n_samples_out == 0:
            raise ParameterError(
                f"duration={self.duration!r} s is shorter than one sample at sr={self.sr!r} Hz: "
                "every row would be empty."
            )
        if self.n_samples_out > MAX_INT:
            raise ParameterError(
                f"duration={self.duration!r} s makes rows of {self.n_samples_out:,} samples at "
                f"sr={self.sr!r} Hz; a row holds at most 2**31 - 1 samples (8 GiB of float32 per "
                f"clip), {MAX_INT / self.sr:,.0f} s at this rate."
            )

    def __sklearn_tags__(self):
        return paths_input_tags(super().__sklearn_tags__())
