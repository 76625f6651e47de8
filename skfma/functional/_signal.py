"""Spectral front ends in torch: STFT, Slaney mel filterbank, decibels, DCT.

The functions reproduce librosa's conventions (periodic Hann window, centred
frames with zero padding, Slaney mel scale and area normalisation,
``power_to_db`` with ``top_db`` clipping per clip, orthonormal DCT-II) so that
results match ``librosa.feature`` within float32 round-off. They work on
batches and on any device.
"""

import functools
import math

import torch

from ..exceptions import ParameterError
from ..utils import (
    check_frequency,
    check_int,
    check_mel_range,
    check_positive,
    check_sample_rate,
    check_top_db,
    validate_arguments,
    value_check,
)
from ..utils._warnings import warn_user

__all__ = [
    "n_frames",
    "stft_power",
    "apply_filterbank",
    "mel_filterbank",
    "mel_power",
    "power_to_db",
    "dct_matrix",
]


def _check_tensor(name, value, *, ndim):
    """Raise a ParameterError unless ``value`` is a floating tensor of ``ndim`` dimensions."""
    ndims = ndim if isinstance(ndim, tuple) else (ndim,)
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        raise ParameterError(
            f"{name} must be a floating torch.Tensor (torch.from_numpy(...) converts an "
            f"array); got {type(value).__name__}"
            f"{' of ' + str(value.dtype) if isinstance(value, torch.Tensor) else ''}."
        )
    if value.dim() not in ndims:
        raise ParameterError(
            f"{name} must have {' or '.join(map(str, ndims))} dimensions; got shape "
            f"{tuple(value.shape)}."
        )


def _check_filterbank(name, value):
    """Raise a ParameterError unless ``value`` is a 2-D tensor (dense or sparse CSR)."""
    if not isinstance(value, torch.Tensor) or value.dim() != 2:
        raise ParameterError(
            f"{name} must be a 2-D torch.Tensor (n_filters, n_freqs); got {type(value).__name__}."
        )


def _check_float_dtype(name, value):
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise ParameterError(f"{name} must be a torch floating dtype; got {value!r}.")


_WAVEFORMS = functools.partial(_check_tensor, ndim=2)
_WINDOW = functools.partial(_check_tensor, ndim=1)


@validate_arguments(
    {
        "n_samples": functools.partial(check_int, minimum=0),
        "n_fft": check_int,
        "hop_length": check_int,
    }
)
def n_frames(n_samples, *, n_fft, hop_length):
    """Number of centred STFT frames of a signal, as ``librosa.stft(center=True)`` makes.

    The signal is padded with ``n_fft // 2`` samples on each side, so that
    frame ``t`` is centred on sample ``t * hop_length``:
    ``1 + (n_samples + 2 * (n_fft // 2) - n_fft) // hop_length``, which is
    ``1 + n_samples // hop_length`` for an even ``n_fft``.

    Parameters
    ----------
    n_samples : int
        Signal length in samples (0 or more).
    n_fft, hop_length : int
        Frame length and hop in samples.

    Returns
    -------
    n_frames : int

    Examples
    --------
    >>> from skfma.functional import n_frames
    >>> n_frames(22050, n_fft=2048, hop_length=512), n_frames(10, n_fft=7, hop_length=2)
    (44, 5)
    """
    return 1 + (n_samples + 2 * (n_fft // 2) - n_fft) // hop_length


@validate_arguments(
    {
        "waveforms": _WAVEFORMS,
        "n_fft": check_int,
        "hop_length": check_int,
        "window": _WINDOW,
        "power": check_positive,
    }
)
def stft_power(waveforms, *, n_fft, hop_length, window, power=2.0):
    """Magnitude spectrogram raised to ``power``, framed as in ``librosa.stft``.

    Frames are centred: the signal is padded with ``n_fft // 2`` zeros on each
    side (librosa's ``center=True, pad_mode="constant"``).

    Parameters
    ----------
    waveforms : Tensor, shape (n_clips, n_samples)
        Float waveforms.
    n_fft : int
        FFT size in samples.
    hop_length : int
        Hop between frames in samples.
    window : Tensor, shape (n_fft,)
        Analysis window (for librosa parity, ``torch.hann_window(n_fft)``).
    power : float, default=2.0
        Exponent of the magnitude: 1 gives magnitude, 2 power.

    Returns
    -------
    spectrogram : Tensor, shape (n_clips, 1 + n_fft // 2, n_frames)
        ``n_frames(n_samples, n_fft=n_fft, hop_length=hop_length)`` frames.
    """
    _check_window(window, n_fft)
    spectrum = torch.stft(
        waveforms,
        n_fft,
        hop_length,
        window=window,
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    squared = _squared_magnitude(spectrum)
    if power == 2.0:
        return squared
    if power == 1.0:
        return squared.sqrt_()
    return squared.pow_(power / 2.0)


@validate_arguments(
    {"spectrogram": functools.partial(_check_tensor, ndim=3), "filterbank": _check_filterbank}
)
def apply_filterbank(spectrogram, filterbank):
    """Project every clip's spectrogram onto a filterbank: ``filterbank @ spectrogram``.

    Parameters
    ----------
    spectrogram : Tensor, shape (n_clips, n_freqs, n_frames)
    filterbank : Tensor, shape (n_filters, n_freqs)
        Dense, or sparse CSR (much faster on a CPU for a mel filterbank, where
        each frequency falls in at most two filters).

    Returns
    -------
    filtered : Tensor, shape (n_clips, n_filters, n_frames)
    """
    _match_filterbank(filterbank, spectrogram.shape[-2], spectrogram.dtype)
    if filterbank.layout == torch.sparse_csr:
        return torch.stack([torch.sparse.mm(filterbank, clip) for clip in spectrogram])
    return torch.matmul(filterbank, spectrogram)


def _squared_magnitude(spectrum):
    """``|spectrum| ** 2`` of a complex tensor that is not needed afterwards.

    Squares the real and imaginary parts in place and adds them, so that the
    result is the only new tensor (``spectrum.abs() ** 2`` makes two, and a
    square root).

    Parameters
    ----------
    spectrum : Tensor of complex dtype, shape (...)
        Overwritten.

    Returns
    -------
    power : Tensor of the matching real dtype, shape (...)
    """
    parts = torch.view_as_real(spectrum).square_()
    return torch.add(parts[..., 0], parts[..., 1])


@validate_arguments(
    {
        "waveforms": _WAVEFORMS,
        "n_fft": check_int,
        "hop_length": check_int,
        "window": _WINDOW,
        "filterbank": _check_filterbank,
        "frames_per_chunk": check_int,
    }
)
def mel_power(waveforms, *, n_fft, hop_length, window, filterbank, frames_per_chunk=192):
    """Mel power spectrogram of centred frames, as ``librosa.feature.melspectrogram``.

    Computed ``frames_per_chunk`` frames at a time, so that each chunk's
    frames, spectrum and power stay in the CPU cache from the FFT to the
    filterbank. Only the first and last chunks are zero-padded (librosa's
    ``center=True, pad_mode="constant"``); the others are views of
    ``waveforms``. On a CPU this is faster than one ``torch.stft`` over the
    whole clip, whose spectrum leaves the cache before the filterbank reads it
    (``benchmarks/bench_batch_size.py`` times it).

    Parameters
    ----------
    waveforms : Tensor, shape (n_clips, n_samples)
    n_fft, hop_length : int
        FFT size and hop in samples.
    window : Tensor, shape (n_fft,)
    filterbank : Tensor, shape (n_mels, 1 + n_fft // 2)
        Dense or sparse CSR, see :func:`apply_filterbank`.
    frames_per_chunk : int, default=192

    Returns
    -------
    mel : Tensor, shape (n_clips, n_mels, n_frames(n_samples, ...))
    """
    _check_window(window, n_fft)
    _match_filterbank(filterbank, 1 + n_fft // 2, waveforms.dtype)
    n_clips, n_samples = waveforms.shape
    total = n_frames(n_samples, n_fft=n_fft, hop_length=hop_length)
    mel = waveforms.new_empty((n_clips, filterbank.shape[0], total))
    windowed = waveforms.new_empty((n_clips, min(frames_per_chunk, total), n_fft))
    for start in range(0, total, frames_per_chunk):
        stop = min(total, start + frames_per_chunk)
        # The samples of frames start..stop-1, as indices into the unpadded waveforms.
        first = start * hop_length - n_fft // 2
        last = (stop - 1) * hop_length + n_fft - n_fft // 2
        segment = waveforms[:, max(first, 0) : min(last, n_samples)]
        if first < 0 or last > n_samples:
            padding = (max(-first, 0), max(last - n_samples, 0))
            segment = torch.nn.functional.pad(segment, padding)
        frames = segment.unfold(-1, n_fft, hop_length)
        chunk = torch.mul(frames, window, out=windowed[:, : stop - start])
        power = _squared_magnitude(torch.fft.rfft(chunk))
        mel[:, :, start:stop] = apply_filterbank(power.transpose(-1, -2), filterbank)
    return mel


def _hz_to_mel(frequencies):
    """Slaney mel scale: linear below 1 kHz, logarithmic above (librosa, htk=False)."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    linear = frequencies / f_sp
    logarithmic = min_log_mel + torch.log(frequencies.clamp(min=min_log_hz) / min_log_hz) / logstep
    return torch.where(frequencies >= min_log_hz, logarithmic, linear)


def _mel_to_hz(mels):
    """Inverse of :func:`_hz_to_mel`."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    linear = f_sp * mels
    logarithmic = min_log_hz * torch.exp(logstep * (mels - min_log_mel))
    return torch.where(mels >= min_log_mel, logarithmic, linear)


@validate_arguments(
    {
        "sr": check_sample_rate,
        "n_fft": check_int,
        "n_mels": check_int,
        "fmin": check_frequency,
        "fmax": functools.partial(check_frequency, allow_none=True),
        "dtype": _check_float_dtype,
    }
)
def mel_filterbank(*, sr, n_fft, n_mels=128, fmin=0.0, fmax=None, dtype=torch.float32):
    """Slaney mel filterbank, as ``librosa.filters.mel(norm="slaney", htk=False)``.

    Triangular filters with centres equally spaced on the Slaney mel scale, each
    scaled to unit area (``2 / (upper - lower edge)``).

    Parameters
    ----------
    sr : float
        Sampling rate in Hz.
    n_fft : int
        FFT size in samples.
    n_mels : int, default=128
        Number of mel bands.
    fmin : float, default=0.0
        Lowest edge in Hz.
    fmax : float or None, default=None
        Highest edge in Hz; ``None`` means ``sr / 2``.
    dtype : torch.dtype, default=torch.float32

    Returns
    -------
    weights : Tensor, shape (n_mels, 1 + n_fft // 2)

    Warns
    -----
    UserWarning
        If some filters hold no FFT bin (too many bands for ``n_fft``), as
        librosa warns.
    """
    fmax = check_mel_range(sr, fmin, fmax)
    f64 = torch.float64
    fft_freqs = torch.arange(1 + n_fft // 2, dtype=f64) * (sr / n_fft)  # rfft bins, odd n_fft too
    mel_edges = torch.linspace(
        float(_hz_to_mel(torch.tensor(fmin, dtype=f64))),
        float(_hz_to_mel(torch.tensor(fmax, dtype=f64))),
        n_mels + 2,
        dtype=f64,
    )
    hz_edges = _mel_to_hz(mel_edges)
    widths = torch.diff(hz_edges)
    ramps = hz_edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = torch.clamp(torch.minimum(lower, upper), min=0.0)
    weights *= (2.0 / (hz_edges[2:] - hz_edges[:-2]))[:, None]
    empty = int((weights.amax(dim=1) == 0).sum())
    if empty:
        warn_user(
            f"mel_filterbank: {empty} of {n_mels} mel filters hold no FFT bin (n_mels={n_mels} "
            f"is too many for n_fft={n_fft}): their bands are all zeros."
        )
    return weights.to(dtype)


@validate_arguments(
    {
        "spectrogram": functools.partial(_check_tensor, ndim=(2, 3)),
        "power": check_positive,
        "top_db": value_check(check_top_db),
    }
)
def power_to_db(spectrogram, *, power=2.0, top_db=80.0):
    """Decibels of a (batch of) spectrogram(s), as ``librosa.power_to_db(ref=1.0)``.

    Parameters
    ----------
    spectrogram : Tensor, shape (n_clips, n_bins, n_frames)
        Magnitudes raised to ``power``.
    power : float, default=2.0
        The exponent the magnitudes were raised to: 2 for power (librosa's
        ``power_to_db``, floor 1e-10), 1 for magnitude (``amplitude_to_db``,
        floor 1e-5).
    top_db : float or None, default=80.0
        Clip each clip's values to at least its own maximum minus ``top_db``.

    Returns
    -------
    db : Tensor, shape (n_clips, n_bins, n_frames)
        Of the input's dtype; float16, whose range has no 1e-10 (its floor
        would be 0 and silence -inf dB), is computed in float32.
    """
    amin = 1e-5**power
    half = spectrogram.dtype == torch.float16
    floored = (spectrogram.float() if half else spectrogram).clamp(min=amin)
    db = torch.log10(floored).mul_(20.0 / power)
    if top_db is not None:
        peak = db.amax(dim=(-2, -1), keepdim=True)
        db = torch.maximum(db, peak - top_db)
    return db.half() if half else db


@validate_arguments({"n_out": check_int, "n_in": check_int, "dtype": _check_float_dtype})
def dct_matrix(n_out, n_in, *, dtype=torch.float32):
    """Orthonormal DCT-II basis, as ``scipy.fft.dct(type=2, norm="ortho")`` rows.

    Parameters
    ----------
    n_out : int
        Number of coefficients kept.
    n_in : int
        Length of the transformed axis.
    dtype : torch.dtype, default=torch.float32
        Of the basis (computed in float64, then cast).

    Returns
    -------
    basis : Tensor, shape (n_out, n_in)
        ``basis @ x`` gives the first ``n_out`` DCT coefficients of ``x``.
    """
    k = torch.arange(n_out, dtype=torch.float64)[:, None]
    n = torch.arange(n_in, dtype=torch.float64)[None, :]
    basis = torch.cos(math.pi / n_in * (n + 0.5) * k) * math.sqrt(2.0 / n_in)
    basis[0] /= math.sqrt(2.0)
    return basis.to(dtype)


def _check_window(window, n_fft):
    if window.shape[0] != n_fft:
        raise ParameterError(f"window must have n_fft={n_fft} samples; got {window.shape[0]}.")


def _match_filterbank(filterbank, n_freqs, dtype):
    """A filterbank of ``n_freqs`` frequency bins in the spectrogram's dtype."""
    if filterbank.shape[1] != n_freqs or filterbank.dtype != dtype:
        raise ParameterError(
            f"filterbank must have {n_freqs} frequency bins (columns) and the spectrogram's "
            f"dtype {dtype}; got shape {tuple(filterbank.shape)} and {filterbank.dtype}."
        )
