"""Fixtures of the neural-classifier tests: small synthetic genre clips on disk."""

import pytest
from sklearn.model_selection import train_test_split

from skfma import AudioLoader, MelSpectrogram
from skfma.datasets import make_genre_clips

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
