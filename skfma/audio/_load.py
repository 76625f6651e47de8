"""Decoding, downmixing and resampling of audio files."""

import contextlib
import functools
import math
import os

import numpy as np
import soundfile as sf
import soxr

from ..exceptions import AudioDecodeError, ParameterError
from ..utils import (
    SAMPLE_RATES,
    check_array_like,
    check_bool,
    check_choice,
    check_int,
    check_positive,
    check_sample_rate,
    expand_path,
    is_finite_number,
    validate_arguments,
)

__all__ = ["fit_length", "load_audio", "load_window", "open_audio", "read_frames", "resample"]

#: Where ``load_window`` (and AudioLoader) keeps a clip's window: its start or its centre.
CROPS = ("start", "center")
#: How a clip shorter than the window is completed: zeros, or the clip repeated.
PAD_MODES = ("constant", "wrap")

#: soxr quality used for every resampling; librosa's default ``res_type="soxr_hq"``.
RESAMPLE_QUALITY = "HQ"
#: Native frames decoded past the window before resampling (soxr HQ settles well within).
RESAMPLE_MARGIN = 1024


def _check_one_path(name, value):
    """``value`` as a path with ``~`` expanded; a list gets a pointer to AudioLoader."""
    if not isinstance(value, str | os.PathLike):
        raise ParameterError(
            f"{name} must be one audio file's path (str or os.PathLike); got "
            f"{type(value).__name__}. AudioLoader decodes a list of files."
        )
    return expand_path(name, value)


def _check_offset(name, value):
    if not is_finite_number(value) or value < 0:
        raise ParameterError(f"{name} must be a finite number >= 0 seconds; got {value!r}.")
    return value


@validate_arguments(
    {
        "path": _check_one_path,
        "sr": functools.partial(check_sample_rate, allow_none=True),
        "mono": check_bool,
        "offset": _check_offset,
        "duration": functools.partial(check_positive, allow_none=True),
    }
)
def load_audio(path, *, sr=22050, mono=True, offset=0.0, duration=None):
    """Decode an audio file to float32 samples.

    The file is decoded with soundfile (libsndfile: MP3, Ogg Vorbis, Opus, FLAC,
    WAV, AIFF, ...), downmixed to mono by averaging its channels, and resampled
    with soxr at high quality. Only the requested part is decoded.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.
    sr : float or None, default=22050
        Target sampling rate in Hz; ``None`` keeps the file's own rate.
    mono : bool, default=True
        Average the channels into one. If False the channels are kept.
    offset : float, default=0.0
        Start reading this many seconds into the file.
    duration : float or None, default=None
        Read at most this many seconds; ``None`` reads to the end.

    Returns
    -------
    y : ndarray of float32, shape (n_samples,) or (n_channels, n_samples)
        The samples, in [-1, 1] for integer sources, all finite. Shape
        ``(n_samples,)`` when ``mono=True``, else ``(n_channels, n_samples)`` as
        in librosa. It is empty if ``offset`` lies past the end of the file (as
        its header gives it).
    sr : int or float
        The sampling rate of ``y`` in Hz: ``sr`` as given, or the file's own
        (an int).

    Raises
    ------
    AudioDecodeError
        If the file is missing, empty, not audio, or holds no audio (see
        Notes). The error names the file.
    ParameterError
        If ``sr``, ``offset`` or ``duration`` is invalid, or ``duration`` is
        shorter than one sample of the file.

    See Also
    --------
    AudioLoader : the same for many files at once, as a scikit-learn transformer.

    Notes
    -----
    A file holds no audio, and is a decode failure, when its header declares
    no frames; when decoding yields no frames where its header declares some
    (text or junk under an audio extension that the decoder accepts, or a
    truncated file whose requested part lies past the data that is there); or
    when a decoded sample is NaN or infinite. A short clip and real silence
    (zeros) are audio: they load. A truncated file gives the frames that are
    there from ``offset`` on.

    Examples
    --------
    >>> from skfma.audio import load_audio
    >>> y, sr = load_audio("track.mp3", sr=22050, duration=30.0)  # doctest: +SKIP
    >>> y.dtype, y.ndim  # doctest: +SKIP
    (dtype('float32'), 1)
    """
    with open_audio(path) as audio:
        native_sr = audio.samplerate
        start = round(offset * native_sr)
        n_frames = -1 if duration is None else round(duration * native_sr)
        if n_frames == 0:
            raise ParameterError(
                f"duration={duration!r} s is shorter than one sample of {path!r} "
                f"at its {native_sr} Hz."
            )
        y = read_frames(audio, path, start=start, n_frames=n_frames, mono=mono)
    if sr is None or sr == native_sr:
        return (y if mono else np.ascontiguousarray(y.T)), native_sr
    return _resample_file(y, native_sr, sr, path, mono=mono), sr


def _resample_file(y, native_sr, sr, path, *, mono=True):
    """:func:`resample` of a file's samples; what the file makes impossible is its failure.

    Raises
    ------
    AudioDecodeError
        Naming ``path``, if its rate is outside the range :func:`resample`
        takes, or if resampling gives NaN or infinite samples (samples near
        float32's limit, which no real audio holds).
    """
    low, high = SAMPLE_RATES
    if not low <= native_sr <= high:
        raise AudioDecodeError(
            path,
            f"its sample rate, {native_sr} Hz, is outside the {low} Hz to {high:,} Hz it can be "
            "resampled from",
        )
    out = resample(y, native_sr, sr, mono=mono)
    if not np.isfinite(out).all():
        raise AudioDecodeError(
            path,
            f"resampling it to {sr} Hz gives NaN or infinite samples (values near float32's "
            "limit: corrupt data)",
        )
    return out


@contextlib.contextmanager
@validate_arguments({"path": expand_path})
def open_audio(path):
    """Open an audio file with soundfile, turning every failure into AudioDecodeError.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.

    Yields
    ------
    audio : soundfile.SoundFile
        The open file, holding at least one frame; closed on exit.

    Raises
    ------
    AudioDecodeError
        If the file is missing, a directory, empty, not audio, or has no frames.
    """
    if not os.path.exists(path):
        raise AudioDecodeError(path, "file not found")
    if os.path.isdir(path):
        raise AudioDecodeError(path, "is a directory, not an audio file")
    if os.path.getsize(path) == 0:
        raise AudioDecodeError(path, "file is empty")
    try:
        # The name's bytes: a name that is not valid UTF-8 (legal on POSIX) opens too.
        audio = sf.SoundFile(os.fsencode(path) if os.name == "posix" else path)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        # libsndfile reports unknown data as "File does not exist": the file does exist here.
        detail = getattr(error, "error_string", str(error))
        if "does not exist" in detail:
            detail = "unrecognised format or corrupt data"
        raise AudioDecodeError(path, f"not a decodable audio file ({detail})") from error
    with audio:
        if audio.frames == 0:
            raise AudioDecodeError(path, "holds no audio frames")
        yield audio


def read_frames(audio, path, *, start, n_frames, mono):
    """Read ``n_frames`` frames from ``start`` of an open file, checking that they are audio.

    Parameters
    ----------
    audio : soundfile.SoundFile
        The open file.
    path : str
        Its path, for error messages.
    start : int
        First frame to read.
    n_frames : int
        How many frames to read, at least one; ``-1`` reads to the end.
    mono : bool
        Average the channels.

    Returns
    -------
    y : ndarray of float32, shape (n,) if mono else (n, n_channels)
        Finite samples; empty only if ``start`` lies past the declared end.

    Raises
    ------
    AudioDecodeError
        If decoding fails, yields no frames although the header declares
        frames from ``start`` on (junk the decoder accepted, or a truncated
        file), or yields a NaN or infinite sample.
    """
    if start >= audio.frames:
        data = np.zeros((0, audio.channels), dtype=np.float32)
        return downmix(data) if mono else data
    try:
        if start:
            audio.seek(start)
        data = audio.read(n_frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as error:
        raise AudioDecodeError(path, f"decoding failed ({error})") from error
    if data.shape[0] == 0:
        raise AudioDecodeError(
            path,
            f"decoded no audio frames from frame {start} on, although its header declares "
            f"{audio.frames} (not audio, corrupt or truncated)",
        )
    # A NaN or infinite sample in any channel reaches the mix (opposite infinities as NaN,
    # silently), and so does a mix of finite samples beyond float32's range: checking the
    # mix reads half the data of a stereo file; the samples are counted only for the message.
    with np.errstate(invalid="ignore", over="ignore"):
        y = downmix(data) if mono else data
    if not np.isfinite(y).all():
        n_bad, size = data.size - np.count_nonzero(np.isfinite(data)), data.size
        if n_bad == size:
            what = "every sample is NaN or infinite"
        elif n_bad:
            what = f"{n_bad} of {size} samples are NaN or infinite"
        else:
            what = "the mix of its channels overflows float32"
        raise AudioDecodeError(path, f"{what} (corrupt data)")
    return y


def downmix(data):
    """Average the channels of ``(n_frames, n_channels)`` float32 data into ``(n_frames,)``.

    Adds one channel at a time: much faster than ``data.mean(axis=1)``, which
    reduces over the short, strided axis.
    """
    n_channels = data.shape[1]
    if n_channels == 1:
        return data[:, 0].copy()
    y = data[:, 0] + data[:, 1]
    for channel in range(2, n_channels):
        y += data[:, channel]
    y *= np.float32(1.0 / n_channels)
    return y


@validate_arguments(
    {
        "y": check_array_like,
        "orig_sr": check_sample_rate,
        "target_sr": check_sample_rate,
        "mono": check_bool,
    }
)
def resample(y, orig_sr, target_sr, *, mono=True):
    """Resample with soxr (high quality), as ``librosa.resample(res_type="soxr_hq")``.

    Parameters
    ----------
    y : ndarray of float32, shape (n,) if mono else (n, n_channels)
    orig_sr, target_sr : float
        Sampling rates in Hz.
    mono : bool
        Whether ``y`` is one channel.

    Returns
    -------
    y : ndarray of float32, shape (m,) if mono else (n_channels, m)
        ``m = ceil(n * target_sr / orig_sr)``.
    """
    if y.shape[0] == 0:
        n_channels = () if mono else (y.shape[1],)
        return np.zeros((*n_channels, 0), dtype=np.float32)
    out = soxr.resample(y, orig_sr, target_sr, quality=RESAMPLE_QUALITY)
    return out if mono else np.ascontiguousarray(out.T)


@validate_arguments(
    {
        "path": expand_path,
        "sr": check_sample_rate,
        "n_samples": check_int,
        "crop": functools.partial(check_choice, choices=CROPS),
        "pad_mode": functools.partial(check_choice, choices=PAD_MODES),
    }
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

    Raises
    ------
    ParameterError
        If a setting is invalid, naming it (a file that cannot be decoded is
        returned, not raised).
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
            y = _resample_file(y, native_sr, sr, path)[round(lead * sr / native_sr) :]
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
