"""skfma's warnings name the user's line, through skfma's and scikit-learn's wrappers."""

import warnings

import pytest
from sklearn.pipeline import make_pipeline

from skfma import AudioFeatures, AudioLoader, MelSpectrogram, TemporalStatistics
from skfma.datasets import make_genre_clips
from skfma.utils._warnings import warn_user


@pytest.fixture(scope="module")
def paths_with_a_broken_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    paths, _ = make_genre_clips(
        3, n_genres=3, duration=0.5, sr=8000, directory=folder, audio_format="wav"
    )
    broken = folder / "broken.wav"
    broken.write_bytes(b"not audio")
    return [*paths, str(broken)]


def caught(function):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        function()
    messages = [w for w in record if "could not be decoded" in str(w.message)]
    assert len(messages) == 1, [str(w.message) for w in record]
    return messages[0]


def loader():
    return AudioLoader(sr=8000, duration=0.5, on_error="warn")


@pytest.mark.parametrize(
    "run",
    [
        lambda paths: loader().fit_transform(paths),
        lambda paths: make_pipeline(loader(), MelSpectrogram(sr=8000, n_mels=8)).fit_transform(
            paths
        ),
        lambda paths: AudioFeatures(
            [
                ("load", loader()),
                ("mel", MelSpectrogram(sr=8000, n_mels=8)),
                ("stats", TemporalStatistics()),
            ],
            on_error="warn",
        ).fit_transform(paths),
    ],
    ids=["loader", "pipeline", "audio_features"],
)
def test_the_decode_failure_warning_names_the_callers_line(paths_with_a_broken_file, run):
    warning = caught(lambda: run(paths_with_a_broken_file))
    assert warning.filename == __file__


def test_a_warning_from_outside_the_library_names_its_own_caller():
    def library_free_function():
        warn_user("from here")

    with pytest.warns(UserWarning, match="from here") as record:
        library_free_function()
    assert record[0].filename == __file__
    assert record[0].lineno == library_free_function.__code__.co_firstlineno + 1
