"""Decoding, downmixing and resampling of audio files."""

import contextlib
import os

import numpy as np
import soundfile as sf
import soxr

from ..exceptions import AudioDecodeError, ParameterError
from ..utils import check_positive, check_sample_rate, is_finite_number, names_its_errors

__all__ = ["load_audio"]

#: soxr quality used for every resampling; librosa's default ``res_type="soxr_hq"``.
RESAMPLE_QUALITY = "HQ"


@names_its_errors
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
    sr : float
        The sampling rate of ``y`` in Hz.

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
    if not isinstance(path, str | os.PathLike):
        raise ParameterError(
            f"path must be one audio file's path (str or os.PathLike); got {type(path).__name__}"
            ". AudioLoader decodes a list of files."
        )
    path = os.path.expanduser(os.fspath(path))
    check_sample_rate("sr", sr, allow_none=True)
    check_positive("duration", duration, allow_none=True)
    if not is_finite_number(offset) or offset < 0:
        raise ParameterError(f"offset must be a finite number >= 0 seconds; got {offset!r}.")
    with open_audio(path) as audio:
        native_sr = audio.samplerate
        start = round(offset * native_sr)
        n_frames = -1 if duration is None else round(duration * native_sr)
        if n_frames == 0:
            raise ParameterError(
                f"duration={duration!r} s is shorter than one sample of {os.fspath(path)!r} "
                f"at its {native_sr} Hz."
            )
        y = read_frames(audio, path, start=start, n_frames=n_frames, mono=mono)
    if sr is None or sr == native_sr:
        return (y if mono else np.ascontiguousarray(y.T)), native_sr
    return resample(y, native_sr, sr, mono=mono), sr


@contextlib.contextmanager
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
    path = os.fspath(path)
    if not os.path.exists(path):
        raise AudioDecodeError(path, "file not found")
    if os.path.isdir(path):
        raise AudioDecodeError(path, "is a directory, not an audio file")
    if os.path.getsize(path) == 0:
        raise AudioDecodeError(path, "file is empty")
    try:
        audio = sf.SoundFile(path)
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
