"""The AudioLoader transformer: audio file paths to a fixed-size waveform matrix."""

import math

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..exceptions import AudioDecodeError, ParameterError
from ..utils import (
    check_choice,
    check_int,
    check_n_jobs,
    check_paths,
    check_positive,
    check_sample_rate,
    names_its_errors,
)
from ..utils._validation import MAX_INT
from ..utils._warnings import warn_user
from ._load import open_audio, read_frames, resample

__all__ = ["AudioLoader"]

CROPS = ("start", "center")
PAD_MODES = ("constant", "wrap")
ON_ERROR = ("raise", "warn")
#: Native frames decoded past the window before resampling (soxr HQ settles well within).
RESAMPLE_MARGIN = 1024


class AudioLoader(TransformerMixin, BaseEstimator):
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
        not be decoded with ``on_error="warn"`` (empty if all decoded).

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

    def _check_params(self):
        check_sample_rate("sr", self.sr)
        check_positive("duration", self.duration)
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
        check_choice("crop", self.crop, CROPS)
        check_choice("pad_mode", self.pad_mode, PAD_MODES)
        check_choice("on_error", self.on_error, ON_ERROR)
        check_n_jobs(self.n_jobs)
        check_int("verbose", self.verbose, minimum=0)

    def __sklearn_tags__(self):
        return paths_input_tags(super().__sklearn_tags__())


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


def load_window(path, sr, n_samples, crop, pad_mode):
    """Decode the ``n_samples``-long window of one file, or return its AudioDecodeError.

    Returning the error (instead of raising) lets the caller see every failure
    of a parallel run and decide between raising and warning. Frames around the
    window are decoded too where the clip has them, so that the resampler's
    start and end transients fall outside the window: a window is the same as
    the matching part of the whole resampled clip. A window without a single
    decoded frame (a truncated file whose data end before it) is a failure,
    never a row of padding.
    """
    try:
        with open_audio(path) as audio:
            native_sr = audio.samplerate
            native_window = n_samples * native_sr / sr
            start = max(0, (audio.frames - round(native_window)) // 2) if crop == "center" else 0
            lead = min(start, _resampling_lead(native_sr, sr))
            window = lead + int(np.ceil(native_window)) + RESAMPLE_MARGIN
            y = read_frames(audio, path, start=start - lead, n_frames=window, mono=True)
            declared = audio.frames
        if native_sr != sr:
            y = resample(y, native_sr, sr)[round(lead * sr / native_sr) :]
        if y.shape[0] == 0:
            raise AudioDecodeError(
                path,
                f"decoded no audio frames from frame {start} on, although its header declares "
                f"{declared} (truncated file)",
            )
    except AudioDecodeError as error:
        return error
    return fit_length(y, n_samples, pad_mode)


def _resampling_lead(native_sr, sr):
    """Native frames to decode before a window: about RESAMPLE_MARGIN, and a whole number
    of output samples long (so that cutting them off keeps the samples aligned); 0 if the
    rates share no such short period or need no resampling."""
    if native_sr == sr or sr != int(sr):
        return 0
    period = native_sr // math.gcd(native_sr, int(sr))
    return -(-RESAMPLE_MARGIN // period) * period if period <= RESAMPLE_MARGIN else 0


def fit_length(y, n_samples, pad_mode):
    """Cut ``y`` (at least one sample) to ``n_samples`` or pad it (zeros, or looping it)."""
    if y.shape[0] >= n_samples:
        return y[:n_samples]
    if pad_mode == "wrap":
        return np.resize(y, n_samples)
    return np.pad(y, (0, n_samples - y.shape[0]))
