"""Fixtures of the neural-classifier tests: small synthetic genre clips on disk, and tags."""

import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from skfma import AudioLoader, MelSpectrogram
from skfma.datasets import GENRE_STYLES, make_genre_clips

#: Clip length in seconds, and a light front end: 32 mel bands x 65 frames per clip.
DURATION = 1.5


@pytest.fixture(scope="session")
def genre_files(tmp_path_factory):
    """48 WAV clips of 4 genres in the FMA layout, split 32 / 16: (train, test) path/label pairs."""
    directory = tmp_path_factory.mktemp("clips")
    paths, genres = make_genre_clips(
        48, n_genres=4, duration=DURATION, directory=directory, audio_format="wav"
    )
    X_train, X_test, y_train, y_test = train_test_split(
        paths, genres, test_size=16, stratify=genres, random_state=0
    )
    return (X_train, y_train), (X_test, y_test)


@pytest.fixture(scope="session")
def front_end():
    """Make fresh AudioLoader and MelSpectrogram steps giving (n_clips, 32, 65) log-mels."""

    def make():
        return [
            AudioLoader(sr=11025, duration=DURATION),
            MelSpectrogram(sr=11025, n_fft=512, hop_length=256, n_mels=32),
        ]

    return make


@pytest.fixture(scope="session")
def mel_data(genre_files, front_end):
    """The clips as log-mel spectrograms: ((X_train, y_train), (X_test, y_test))."""
    (paths_train, y_train), (paths_test, y_test) = genre_files
    loader, mel = front_end()
    return (
        (mel.fit_transform(loader.fit_transform(paths_train)), y_train),
        (mel.transform(loader.transform(paths_test)), y_test),
    )


def genre_tags(genres):
    """Several 0/1 tags per clip: its genre, and attributes shared across genres.

    From the synthetic styles: ``drums`` (any percussion), ``noisy`` (background
    noise of at least 2%) and ``distorted``; e.g. Rock is ``Rock, drums, noisy,
    distorted`` and Classical is ``Classical`` only.
    """
    styles = [GENRE_STYLES[genre] for genre in genres]
    tags = {name: [int(genre == name) for genre in genres] for name in sorted(set(genres))}
    tags["drums"] = [int(bool(style.drums)) for style in styles]
    tags["noisy"] = [int(style.noise >= 0.02) for style in styles]
    tags["distorted"] = [int(style.distortion > 0) for style in styles]
    return pd.DataFrame(tags)


@pytest.fixture(scope="session")
def tag_data(mel_data):
    """The log-mel clips with tag matrices (DataFrames): ((X_train, Y_train), (X_test, Y_test))."""
    (X_train, y_train), (X_test, y_test) = mel_data
    return (X_train, genre_tags(y_train)), (X_test, genre_tags(y_test))


@pytest.fixture(scope="session")
def tags_of():
    """The function that turns genre names into a tag DataFrame (see ``genre_tags``)."""
    return genre_tags
