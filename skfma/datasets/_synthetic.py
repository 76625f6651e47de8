"""Deterministic synthetic music clips in a few genres, as arrays or FMA-layout files."""

import csv
import functools
import os
from dataclasses import dataclass

import numpy as np
import soundfile as sf
from sklearn.utils import check_random_state

from ..exceptions import ParameterError
from ..utils import (
    check_choice,
    check_positive,
    check_sample_rate,
    expand_path,
    validate_arguments,
    value_check,
)
from ..utils._random import check_seed
from ._fma import fma_audio_path

__all__ = ["make_genre_clips", "GENRE_STYLES"]


@dataclass(frozen=True)
class GenreStyle:
    """How one synthetic genre sounds.

    Attributes
    ----------
    tempo : float
        Beats per minute; each clip varies it by up to 15%.
    pitch_range : tuple of int
        Lowest and highest MIDI note of the melody.
    n_harmonics : int
        Harmonics per note (timbre: 1 is a pure tone, many is a buzzy saw).
    harmonic_decay : float
        Amplitude ratio between successive harmonics.
    note_decay : float
        Time constant of each note's exponential decay in seconds.
    notes_per_beat : int
        Melody notes per beat.
    drums : str
        Percussion pattern: letters of ``k`` (kick), ``s`` (snare), ``h`` (hi-hat).
    noise : float
        Level of the background noise relative to the music.
    distortion : float
        Soft-clipping drive; 0 is clean.
    """

    tempo: float
    pitch_range: tuple
    n_harmonics: int
    harmonic_decay: float
    note_decay: float
    notes_per_beat: int
    drums: str
    noise: float
    distortion: float


#: The synthetic genres, named after FMA top-level genres, in the order used.
GENRE_STYLES = {
    "Classical": GenreStyle(70, (60, 84), 2, 0.3, 0.8, 1, "", 0.002, 0.0),
    "Electronic": GenreStyle(128, (36, 60), 12, 0.85, 0.15, 2, "kh", 0.01, 0.0),
    "Hip-Hop": GenreStyle(90, (30, 50), 3, 0.5, 0.3, 1, "ksh", 0.02, 0.0),
    "Rock": GenreStyle(120, (40, 64), 8, 0.7, 0.4, 2, "ks", 0.03, 4.0),
    "Folk": GenreStyle(100, (55, 79), 5, 0.5, 0.12, 2, "", 0.01, 0.0),
    "Pop": GenreStyle(110, (60, 76), 6, 0.6, 0.25, 1, "ksh", 0.01, 0.0),
    "Experimental": GenreStyle(60, (24, 96), 4, 0.9, 0.05, 4, "h", 0.2, 1.0),
    "International": GenreStyle(105, (50, 74), 7, 0.65, 0.2, 3, "k", 0.015, 0.5),
}

AUDIO_FORMATS = ("mp3", "ogg", "flac", "wav")


def check_n_genres(name, value):
    """Return ``value`` if it is a number of genres that ``GENRE_STYLES`` has, else raise."""
    if not (isinstance(value, int) and 1 <= value <= len(GENRE_STYLES)):
        raise ParameterError(f"{name} must be an int from 1 to {len(GENRE_STYLES)}; got {value!r}.")
    return value


#: The sampling rates an MP3 file can hold (MPEG-1, 2 and 2.5), in Hz.
MP3_SAMPLE_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


def check_writable_clips(audio_format, sr, duration):
    """Refuse, before anything is made, clips of no sample or a rate the format cannot hold."""
    if round(sr * duration) < 1:
        raise ParameterError(f"duration={duration!r} s is shorter than one sample at sr={sr} Hz.")
    if audio_format == "mp3" and sr not in MP3_SAMPLE_RATES:
        raise ParameterError(
            f"sr={sr} Hz cannot be written as MP3, whose rates are "
            f"{', '.join(map(str, MP3_SAMPLE_RATES))} Hz."
        )


#: The checks of the synthetic clips' settings, shared with ``make_fma_like``.
CLIP_CHECKS = {
    "n_clips": functools.partial(check_positive, integer=True),
    "n_genres": check_n_genres,
    "duration": check_positive,
    "sr": functools.partial(check_sample_rate, integer=True),
    "random_state": value_check(check_seed),
}


@validate_arguments(
    {
        **CLIP_CHECKS,
        "directory": functools.partial(expand_path, allow_none=True),
        "audio_format": functools.partial(check_choice, choices=AUDIO_FORMATS),
    }
)
def make_genre_clips(
    n_clips=40,
    *,
    n_genres=4,
    duration=5.0,
    sr=22050,
    random_state=0,
    directory=None,
    audio_format="mp3",
):
    """Make synthetic music clips in a few "genres", as arrays or as audio files.

    Genres differ in tempo, pitch range, timbre (harmonics and note decay),
    percussion, distortion and background noise; every clip draws its own
    tempo, transposition, melody, gain and noise, so that the task is easy to
    learn but not trivial. The same ``random_state`` gives the same clips.

    Parameters
    ----------
    n_clips : int, default=40
        Number of clips, split as evenly as possible between genres.
    n_genres : int, default=4
        Number of genres, the first of ``GENRE_STYLES`` (at most 8).
    duration : float, default=5.0
        Length of each clip in seconds.
    sr : int, default=22050
        Sampling rate in Hz.
    random_state : int, RandomState instance or None, default=0
        Seed of the clips and of their order.
    directory : str, os.PathLike or None, default=None
        If given, write the clips there in the FMA layout
        (``DIRECTORY/NNN/NNNNNN.mp3``, track ids 1, 2, ...) with a ``labels.csv``
        (``track_id,path,genre``), and return paths instead of waveforms.
    audio_format : {"mp3", "ogg", "flac", "wav"}, default="mp3"
        File format when writing.

    Returns
    -------
    X : ndarray of float32, shape (n_clips, round(sr * duration)), or ndarray of str, \
shape (n_clips,)
        Mono waveforms in [-1, 1], or the written file paths when ``directory``
        is given.
    y : ndarray of str, shape (n_clips,)
        Genre names, such as ``"Hip-Hop"``.

    Examples
    --------
    >>> from skfma.datasets import make_genre_clips
    >>> X, y = make_genre_clips(8, n_genres=2, duration=1.0)
    >>> X.shape, sorted(set(y))
    ((8, 22050), ['Classical', 'Electronic'])
    """
    check_writable_clips(None if directory is None else audio_format, sr, duration)
    rng = check_random_state(random_state)
    names = list(GENRE_STYLES)[:n_genres]
    y = np.array([names[i % n_genres] for i in range(n_clips)], dtype=object)
    y = y[rng.permutation(n_clips)]
    n_samples = round(sr * duration)
    X = np.stack([_synthesize(GENRE_STYLES[genre], n_samples, sr, rng) for genre in y])
    if directory is None:
        return X, y
    return _write_clips(X, y, sr, directory, audio_format), y


def _write_clips(X, y, sr, directory, audio_format):
    """Write clips in the FMA layout with a ``labels.csv``; return their paths."""
    paths = np.empty(len(X), dtype=object)
    for index, clip in enumerate(X):
        paths[index] = fma_audio_path(directory, index + 1, audio_format)
        os.makedirs(os.path.dirname(paths[index]), exist_ok=True)
        sf.write(paths[index], clip, sr)
    with open(os.path.join(os.fspath(directory), "labels.csv"), "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["track_id", "path", "genre"])
        for index, (path, genre) in enumerate(zip(paths, y, strict=True)):
            writer.writerow([index + 1, os.path.relpath(path, directory), genre])
    return paths


def _synthesize(style, n_samples, sr, rng):
    """One clip of ``style``: melody + percussion + noise, peak-normalised to a random gain."""
    t_note = np.arange(n_samples) / sr
    clip = np.zeros(n_samples)
    beat = 60.0 / (style.tempo * rng.uniform(0.85, 1.15))
    step = beat / style.notes_per_beat
    low, high = style.pitch_range
    transpose = rng.randint(-3, 4)
    onsets = np.arange(rng.uniform(0, step), n_samples / sr, step)
    harmonics = np.arange(1, style.n_harmonics + 1)
    amplitudes = min(0.95, style.harmonic_decay * rng.uniform(0.8, 1.15)) ** (harmonics - 1)
    note_decay = style.note_decay * rng.uniform(0.6, 1.6)
    for onset in onsets:
        start = int(onset * sr)
        length = min(n_samples - start, int(sr * min(4 * note_decay, 2 * step) + 1))
        t = t_note[:length]
        freq = 440.0 * 2 ** ((rng.randint(low, high + 1) + transpose - 69) / 12)
        partials = harmonics[harmonics * freq < sr / 2]
        tone = np.sin(2 * np.pi * freq * t[:, None] * partials) @ amplitudes[: len(partials)]
        clip[start : start + length] += tone * np.exp(-t / note_decay)
    clip /= max(np.abs(clip).max(), 1e-9)
    for beat_index, onset in enumerate(np.arange(0, n_samples / sr, beat)):
        _add_drums(clip, style.drums, beat_index, int(onset * sr), sr, rng)
    if style.distortion:
        clip = np.tanh(style.distortion * clip) / np.tanh(style.distortion)
    clip += rng.normal(0, style.noise * rng.uniform(0.5, 4.0), n_samples)
    clip *= rng.uniform(0.3, 0.9) / max(np.abs(clip).max(), 1e-9)
    return clip.astype(np.float32)


def _add_drums(clip, pattern, beat_index, start, sr, rng):
    """Add this beat's kick (every beat), snare (beats 2 and 4) and hi-hat (every beat)."""
    length = min(len(clip) - start, int(0.15 * sr))
    t = np.arange(length) / sr
    if "k" in pattern:
        sweep = 2 * np.pi * (50 * t + 40 * (1 - np.exp(-t / 0.03)) * 0.03)
        clip[start : start + length] += 0.8 * np.sin(sweep) * np.exp(-t / 0.08)
    if "s" in pattern and beat_index % 2 == 1:
        clip[start : start + length] += 0.5 * rng.normal(0, 1, length) * np.exp(-t / 0.04)
    if "h" in pattern:
        hiss = np.diff(rng.normal(0, 1, length + 1))
        clip[start : start + length] += 0.15 * hiss * np.exp(-t / 0.01)
