"""make_genre_clips: determinism, balance, files in the FMA layout."""

import csv

import numpy as np
import pytest

from skfma.audio import load_audio
from skfma.datasets import GENRE_STYLES, fma_audio_path, make_fma_like, make_genre_clips
from skfma.exceptions import ParameterError


def test_arrays_are_deterministic_and_balanced():
    X, y = make_genre_clips(12, n_genres=3, duration=0.5, sr=8000, random_state=3)
    again, y_again = make_genre_clips(12, n_genres=3, duration=0.5, sr=8000, random_state=3)
    other, _ = make_genre_clips(12, n_genres=3, duration=0.5, sr=8000, random_state=4)
    assert X.shape == (12, 4000) and X.dtype == np.float32
    np.testing.assert_array_equal(X, again)
    np.testing.assert_array_equal(y, y_again)
    assert not np.array_equal(X, other)
    assert sorted(set(y)) == sorted(list(GENRE_STYLES)[:3])
    assert all(np.sum(y == genre) == 4 for genre in set(y))
    assert np.abs(X).max() <= 1.0 and np.isfinite(X).all()


def test_genres_differ_in_tempo_and_pitch():
    X, y = make_genre_clips(8, n_genres=2, duration=2.0, sr=8000)
    centroid = {}
    for genre in set(y):
        spectrum = np.abs(np.fft.rfft(X[y == genre], axis=1)).mean(axis=0)
        centroid[genre] = (spectrum * np.arange(len(spectrum))).sum() / spectrum.sum()
    assert centroid["Classical"] != pytest.approx(centroid["Electronic"], rel=0.1)


@pytest.mark.parametrize("audio_format", ["mp3", "flac"])
def test_files_in_fma_layout_with_labels(tmp_path, audio_format):
    paths, y = make_genre_clips(
        4, n_genres=2, duration=0.5, directory=tmp_path, audio_format=audio_format
    )
    assert paths[0] == fma_audio_path(tmp_path, 1, audio_format)
    assert paths[0].endswith(f"000/000001.{audio_format}")
    X, _ = make_genre_clips(4, n_genres=2, duration=0.5)
    decoded, sr = load_audio(paths[1], sr=22050)
    assert sr == 22050 and abs(len(decoded) - X.shape[1]) <= 1
    with open(tmp_path / "labels.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["genre"] for row in rows] == list(y)
    assert rows[0]["path"] == f"000/000001.{audio_format}"


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_genres": 9}, "n_genres"),
        ({"duration": -1}, "duration"),
        ({"audio_format": "aac"}, "audio_format"),
        ({"duration": 1e-5, "sr": 8000}, "duration=1e-05 s is shorter than one sample"),
    ],
)
def test_bad_parameters(kwargs, name):
    with pytest.raises(ParameterError, match=name):
        make_genre_clips(4, **kwargs)


def test_a_rate_mp3_cannot_hold_is_refused_before_writing(tmp_path):
    """libsndfile's error came after the first files were written."""
    with pytest.raises(ParameterError, match=r"sr=10000 Hz cannot be written as MP3"):
        make_genre_clips(4, sr=10000, duration=0.1, directory=tmp_path)
    with pytest.raises(ParameterError, match=r"make_fma_like: sr=10000 Hz cannot be written"):
        make_fma_like(tmp_path, n_clips=4, n_genres=2, sr=10000, duration=0.1)
    assert not any(tmp_path.iterdir())
    X, _ = make_genre_clips(4, sr=10000, duration=0.1)  # arrays, or other formats: any rate
    assert X.shape == (4, 1000)
    make_genre_clips(2, sr=10000, duration=0.1, directory=tmp_path, audio_format="wav")
