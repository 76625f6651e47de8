"""Spectrogram, MelSpectrogram and MFCC transformers (batched torch DSP)."""

import functools
import math
import warnings
from numbers import Integral

import librosa
import numpy as np
import torch

from .._batching import map_batches
from ..base import MAX_AMPLITUDE, ArrayOutputMixin, WaveformTransformer, validate_parameters
from ..exceptions import ParameterError
from ..functional import dct_matrix, mel_filterbank, mel_power, n_frames, power_to_db, stft_power
from ..utils import (
    check_bool,
    check_frequency,
    check_mel_range,
    check_positive,
    check_sample_rate,
    check_top_db,
    is_int,
    names_its_errors,
    value_check,
)
from ..utils._device import check_device

__all__ = ["Spectrogram", "MelSpectrogram", "MFCC"]


#: The largest finite float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)


class _SpectralTransformer(ArrayOutputMixin, WaveformTransformer):
    """Shared machinery: validation, batching over clips, device placement.

    Subclasses implement ``_n_bins()`` and ``_compute(batch, window)``, which
    maps a ``(batch, n_samples)`` float32 tensor to ``(batch, n_bins, n_frames)``.
    """

    @names_its_errors
    def transform(self, X):
        """Compute the spectral representation of every clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Mono waveforms at ``sr`` Hz (float32 or float64).

        Returns
        -------
        features : ndarray of float32, shape (n_clips, n_bins, n_frames)
            centred frames, ``skfma.functional.n_frames(n_samples, n_fft=n_fft,
            hop_length=hop_length)``: ``1 + n_samples // hop_length`` for an
            even ``n_fft``.
        """
        X = self._validate_waveforms(X)
        n_clips, n_samples = X.shape
        device = torch.device(self.device)
        window = torch.hann_window(self.n_fft, device=device)
        frames = n_frames(n_samples, n_fft=self.n_fft, hop_length=self.hop_length)
        out = np.empty((n_clips, self._n_bins(), frames), np.float32)
        batch_size = self.batch_size or (1 if device.type == "cpu" else 32)
        return map_batches(
            lambda batch: self._compute(batch, window), X, out, batch_size=batch_size, device=device
        )

    _parameter_checks = {
        "n_fft": functools.partial(check_positive, integer=True),
        "hop_length": functools.partial(check_positive, integer=True),
        "top_db": value_check(check_top_db),
        "batch_size": functools.partial(check_positive, integer=True, allow_none=True),
        "device": value_check(check_device),
    }

    def _check_params(self):
        validate_parameters(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class _MelMixin:
    """Validation and filterbank of the mel-based transformers."""

    _parameter_checks = {
        "sr": check_sample_rate,
        "n_mels": functools.partial(check_positive, integer=True),
        "fmin": check_frequency,
        "fmax": functools.partial(check_frequency, allow_none=True),
    }

    def _check_mel_params(self):
        """What relates the parameters: the mel range against the sample rate."""
        check_mel_range(self.sr, self.fmin, self.fmax)

    def _mel_power(self, batch, window):
        """Mel power spectrogram, as ``librosa.feature.melspectrogram(...)``."""
        sparse = batch.device.type == "cpu"
        filterbank = _filterbank(self.sr, self.n_fft, self.n_mels, self.fmin, self.fmax, sparse)
        return mel_power(
            batch,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            window=window,
            filterbank=filterbank.to(batch.device),
        )


@functools.lru_cache(maxsize=32)
def _dct_basis(n_mfcc, n_mels):
    """The orthonormal DCT-II basis of :class:`MFCC`, cached."""
    return dct_matrix(n_mfcc, n_mels)


@functools.lru_cache(maxsize=32)
def _filterbank(sr, n_fft, n_mels, fmin, fmax, sparse):
    """The Slaney mel filterbank, cached (dense, or sparse CSR for CPU matmuls)."""
    filterbank = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    if not sparse:
        return filterbank
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta", UserWarning)
        return filterbank.to_sparse_csr()


class Spectrogram(_SpectralTransformer):
    """Short-time Fourier transform magnitude (or power), optionally in decibels.

    Matches ``np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length)) ** power``
    (periodic Hann window, centred frames, zero padding), and with ``db=True``
    ``librosa.amplitude_to_db`` (``power=1``) or ``librosa.power_to_db``
    (``power=2``) with ``ref=1.0``, each clip clipped to ``top_db`` below its peak.

    Parameters
    ----------
    n_fft : int, default=2048
        FFT size (and window length) in samples.
    hop_length : int, default=512
        Hop between frames in samples.
    power : float, default=1.0
        Exponent of the magnitude: 1.0 magnitude, 2.0 power.
    db : bool, default=False
        Return decibels instead of linear values.
    top_db : float or None, default=80.0
        With ``db=True``, the dynamic range kept below each clip's peak.
    batch_size : int or None, default=None
        Clips computed together. ``None`` picks 1 on a CPU, where larger
        batches are memory-bound and slower per clip
        (``benchmarks/bench_batch_size.py``), and 32 on a GPU, where larger
        batches pay off.
    device : str or torch.device, default="cpu"
        Where to compute, e.g. ``"cuda"``. The output is always a NumPy array.

    See Also
    --------
    MelSpectrogram, MFCC, TemporalStatistics

    Examples
    --------
    >>> import numpy as np
    >>> from skfma import Spectrogram
    >>> X = np.random.default_rng(0).standard_normal((2, 22050)).astype(np.float32)
    >>> Spectrogram(n_fft=1024, hop_length=256).fit_transform(X).shape
    (2, 513, 87)
    """

    def __init__(
        self,
        *,
        n_fft=2048,
        hop_length=512,
        power=1.0,
        db=False,
        top_db=80.0,
        batch_size=None,
        device="cpu",
    ):
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.power = power
        self.db = db
        self.top_db = top_db
        self.batch_size = batch_size
        self.device = device

    _parameter_checks = {"power": check_positive, "db": check_bool}

    def _n_bins(self):
        return 1 + self.n_fft // 2

    def _compute(self, batch, window):
        spec = stft_power(
            batch, n_fft=self.n_fft, hop_length=self.hop_length, window=window, power=self.power
        )
        # A magnitude is at most n_fft times the largest amplitude accepted; only where that
        # bound to the power passes float32's range can a value overflow, and is looked for.
        if self.power * math.log(self.n_fft * MAX_AMPLITUDE) > math.log(FLOAT32_MAX):
            if not torch.isfinite(spec).all():
                raise ValueError(
                    f"{type(self).__name__}: X's STFT magnitudes to the power power="
                    f"{self.power!r} exceed float32's range (3.4e38): lower power (1 or 2, as "
                    "librosa) or scale the waveforms."
                )
        return power_to_db(spec, power=self.power, top_db=self.top_db) if self.db else spec


class MelSpectrogram(_MelMixin, _SpectralTransformer):
    """Mel-scaled power spectrogram, in decibels by default.

    Matches ``librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr,
    n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmin=fmin, fmax=fmax))``:
    the Slaney mel filterbank with area normalisation over the power STFT,
    ``ref=1.0``, ``amin=1e-10`` and each clip clipped to ``top_db`` below its
    own peak.

    Parameters
    ----------
    sr : float, default=22050
        Sampling rate of the input waveforms in Hz.
    n_fft : int, default=2048
        FFT size in samples.
    hop_length : int, default=512
        Hop between frames in samples.
    n_mels : int, default=128
        Number of mel bands.
    fmin : float, default=0.0
        Lowest frequency in Hz.
    fmax : float or None, default=None
        Highest frequency in Hz; ``None`` means ``sr / 2``.
    db : bool, default=True
        Log scale: return decibels; False returns linear power.
    top_db : float or None, default=80.0
        With ``db=True``, the dynamic range kept below each clip's peak.
    batch_size : int or None, default=None
        Clips computed together; ``None`` picks 1 on a CPU and 32 on a GPU
        (see :class:`Spectrogram`).
    device : str or torch.device, default="cpu"
        Where to compute, e.g. ``"cuda"``.

    See Also
    --------
    Spectrogram, MFCC, TemporalStatistics

    Examples
    --------
    >>> import numpy as np
    >>> from skfma import MelSpectrogram
    >>> X = np.random.default_rng(0).standard_normal((2, 22050)).astype(np.float32)
    >>> MelSpectrogram(n_mels=64).fit_transform(X).shape
    (2, 64, 44)
    """

    def __init__(
        self,
        *,
        sr=22050,
        n_fft=2048,
        hop_length=512,
        n_mels=128,
        fmin=0.0,
        fmax=None,
        db=True,
        top_db=80.0,
        batch_size=None,
        device="cpu",
    ):
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.db = db
        self.top_db = top_db
        self.batch_size = batch_size
        self.device = device

    _parameter_checks = {"db": check_bool}

    def _check_params(self):
        super()._check_params()
        self._check_mel_params()

    def _n_bins(self):
        return self.n_mels

    def _compute(self, batch, window):
        mel = self._mel_power(batch, window)
        return power_to_db(mel, top_db=self.top_db) if self.db else mel


class MFCC(_MelMixin, _SpectralTransformer):
    """Mel-frequency cepstral coefficients, optionally with their deltas.

    Matches ``librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, ...)``: the
    orthonormal DCT-II of the log-mel spectrogram (as :class:`MelSpectrogram`).
    With ``deltas=1`` or ``2`` the first (and second) order
    ``librosa.feature.delta`` of the coefficients are stacked below them.

    Parameters
    ----------
    sr : float, default=22050
        Sampling rate of the input waveforms in Hz.
    n_mfcc : int, default=20
        Number of coefficients.
    n_fft : int, default=2048
        FFT size in samples.
    hop_length : int, default=512
        Hop between frames in samples.
    n_mels : int, default=128
        Number of mel bands.
    fmin : float, default=0.0
        Lowest frequency in Hz.
    fmax : float or None, default=None
        Highest frequency in Hz; ``None`` means ``sr / 2``.
    deltas : {0, 1, 2}, default=0
        Number of delta orders appended.
    delta_width : int, default=9
        Odd window length of the deltas in frames; clips need at least this
        many frames when ``deltas > 0``.
    top_db : float or None, default=80.0
        Dynamic range of the log-mel spectrogram below each clip's peak.
    batch_size : int or None, default=None
        Clips computed together; ``None`` picks 1 on a CPU and 32 on a GPU
        (see :class:`Spectrogram`).
    device : str or torch.device, default="cpu"
        Where to compute, e.g. ``"cuda"``.

    See Also
    --------
    MelSpectrogram, TemporalStatistics

    Examples
    --------
    >>> import numpy as np
    >>> from skfma import MFCC
    >>> X = np.random.default_rng(0).standard_normal((2, 22050)).astype(np.float32)
    >>> MFCC(n_mfcc=13, deltas=2).fit_transform(X).shape
    (2, 39, 44)
    """

    def __init__(
        self,
        *,
        sr=22050,
        n_mfcc=20,
        n_fft=2048,
        hop_length=512,
        n_mels=128,
        fmin=0.0,
        fmax=None,
        deltas=0,
        delta_width=9,
        top_db=80.0,
        batch_size=None,
        device="cpu",
    ):
        self.sr = sr
        self.n_mfcc = n_mfcc
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.deltas = deltas
        self.delta_width = delta_width
        self.top_db = top_db
        self.batch_size = batch_size
        self.device = device

    _parameter_checks = {
        "n_mfcc": functools.partial(check_positive, integer=True),
        "deltas": lambda name, deltas: _check_deltas(deltas),
        "delta_width": lambda name, width: _check_delta_width(width),
    }

    def _check_params(self):
        super()._check_params()
        self._check_mel_params()
        if self.n_mfcc > self.n_mels:
            raise ParameterError(f"n_mfcc={self.n_mfcc} cannot exceed n_mels={self.n_mels}.")

    def _n_bins(self):
        return self.n_mfcc * (1 + self.deltas)

    def _compute(self, batch, window):
        log_mel = power_to_db(self._mel_power(batch, window), top_db=self.top_db)
        basis = _dct_basis(self.n_mfcc, self.n_mels).to(batch.device)
        mfcc = torch.matmul(basis, log_mel)
        if not self.deltas:
            return mfcc
        n_frames = mfcc.shape[-1]
        if n_frames < self.delta_width:
            raise ParameterError(
                f"deltas need clips of at least delta_width={self.delta_width} frames; got "
                f"{n_frames} frames. Use longer clips or a smaller delta_width."
            )
        coefficients = mfcc.cpu().numpy()
        orders = [coefficients] + [
            librosa.feature.delta(coefficients, width=self.delta_width, order=order, axis=-1)
            for order in range(1, self.deltas + 1)
        ]
        return torch.from_numpy(np.concatenate(orders, axis=-2))


def _check_deltas(deltas):
    if not is_int(deltas) or deltas not in (0, 1, 2):
        raise ParameterError(f"deltas must be 0, 1 or 2; got {deltas!r}.")


def _check_delta_width(width):
    if not isinstance(width, Integral) or width < 3 or width % 2 == 0:
        raise ParameterError(f"delta_width must be an odd integer >= 3; got {width!r}.")
