"""AudioLoader: shapes, windows, padding, failures, parallelism and the estimator API."""

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.base import clone

from skfma import AudioLoader, load_audio
from skfma.exceptions import AudioDecodeError, ParameterError


@pytest.fixture
def ramp_file(tmp_path):
    """A file whose sample i is i / n (so windows can be checked exactly), at 8 kHz."""

    def write(name, n_samples, sr=8000):
        path = tmp_path / name
        sf.write(path, (np.arange(n_samples) / n_samples).astype(np.float32), sr, subtype="FLOAT")
        return path

    return write


def test_shape_dtype_and_order(ramp_file):
    paths = [ramp_file("a.wav", 8000), ramp_file("b.wav", 4000), ramp_file("c.wav", 16000)]
    X = AudioLoader(sr=8000, duration=1.0).fit_transform(paths)
    assert X.shape == (3, 8000) and X.dtype == np.float32
    np.testing.assert_allclose(X[0], np.arange(8000) / 8000, atol=1e-7)
    np.testing.assert_allclose(X[1, :4000], np.arange(4000) / 4000, atol=1e-7)
    assert not X[1, 4000:].any()
    np.testing.assert_allclose(X[2], np.arange(8000) / 16000, atol=1e-7)


def test_center_crop_with_resampling(tone_file):
    path = tone_file(sr=44100, seconds=3.0, channels=1, freq=440.0)
    X = AudioLoader(sr=22050, duration=1.0, crop="center").transform([path])
    expected, _ = load_audio(path, sr=22050)
    np.testing.assert_allclose(X[0], expected[22050:44100], atol=1e-6)


def test_center_crop(ramp_file):
    X = AudioLoader(sr=8000, duration=1.0, crop="center").transform([ramp_file("c.wav", 24000)])
    np.testing.assert_allclose(X[0], np.arange(8000, 16000) / 24000, atol=1e-7)


def test_wrap_padding_loops_the_clip(ramp_file):
    X = AudioLoader(sr=8000, duration=1.0, pad_mode="wrap").transform([ramp_file("s.wav", 3000)])
    np.testing.assert_allclose(X[0], np.resize(np.arange(3000) / 3000, 8000), atol=1e-7)


def test_resampling_matches_load_audio(tone_file):
    path = tone_file(sr=44100, seconds=2.0, channels=2)
    X = AudioLoader(sr=22050, duration=1.5).transform([path])
    expected, _ = load_audio(path, sr=22050)
    np.testing.assert_allclose(X[0], expected[:33075], atol=1e-6)


@pytest.mark.parametrize(
    "as_input",
    [
        lambda paths: paths,
        lambda paths: [str(p) for p in paths],
        lambda paths: pd.Series([str(p) for p in paths]),
        lambda paths: pd.DataFrame({"path": [str(p) for p in paths]}),
        lambda paths: np.array([str(p) for p in paths])[:, None],
    ],
)
def test_accepted_path_containers(ramp_file, as_input):
    paths = [ramp_file("a.wav", 800), ramp_file("b.wav", 400)]
    X = AudioLoader(sr=8000, duration=0.1).transform(as_input(paths))
    assert X.shape == (2, 800)


@pytest.mark.parametrize(
    "X, error",
    [
        ("one.mp3", TypeError),
        ([1, 2], TypeError),
        ([], ValueError),
        (np.array([["a", "b"]]), ValueError),
    ],
)
def test_bad_path_input(X, error):
    with pytest.raises(error):
        AudioLoader().fit(X)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"sr": -1}, "sr"),
        ({"duration": 0}, "duration"),
        ({"crop": "end"}, "crop"),
        ({"pad_mode": "reflect"}, "pad_mode"),
        ({"on_error": "ignore"}, "on_error"),
    ],
)
def test_bad_parameters_are_named(ramp_file, params, name):
    with pytest.raises(ParameterError, match=name):
        AudioLoader(**params).fit([ramp_file("a.wav", 10)])


@pytest.fixture
def good_and_bad(ramp_file, tmp_path):
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(b"not audio " * 300)
    return [
        ramp_file("a.wav", 800),
        tmp_path / "missing.mp3",
        empty,
        ramp_file("b.wav", 800),
        garbage,
    ]


def test_on_error_raise_names_the_file(good_and_bad):
    with pytest.raises(AudioDecodeError, match="missing.mp3") as info:
        AudioLoader(sr=8000, duration=0.1).transform(good_and_bad)
    assert info.value.path == str(good_and_bad[1])


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_on_error_warn_keeps_every_row_and_lists_failures(good_and_bad, n_jobs):
    loader = AudioLoader(sr=8000, duration=0.1, on_error="warn", n_jobs=n_jobs)
    with pytest.warns(UserWarning, match="3 of 5 audio files") as record:
        X = loader.transform(good_and_bad)
    message = str(record[0].message)
    for bad in good_and_bad[1:3] + good_and_bad[4:]:
        assert str(bad) in message
    assert X.shape == (5, 800)
    assert not X[[1, 2, 4]].any()
    np.testing.assert_allclose(X[3], np.arange(800) / 800, atol=1e-7)
    assert [(row, Path(path).name) for row, path, _ in loader.failures_] == [
        (1, "missing.mp3"),
        (2, "empty.mp3"),
        (4, "garbage.mp3"),
    ]
    assert "file not found" in loader.failures_[0][2]


def test_parallel_equals_sequential(tone_file):
    paths = [tone_file(f"t{i}.wav", sr=16000, freq=200.0 * (i + 1)) for i in range(6)]
    sequential = AudioLoader(sr=22050, duration=0.5).transform(paths)
    parallel = AudioLoader(sr=22050, duration=0.5, n_jobs=2).transform(paths)
    np.testing.assert_array_equal(sequential, parallel)


def test_fit_transform_equals_transform_and_pickles(ramp_file):
    paths = [ramp_file("a.wav", 800)]
    loader = AudioLoader(sr=8000, duration=0.05)
    X = loader.fit_transform(paths)
    restored = pickle.loads(pickle.dumps(loader))
    np.testing.assert_array_equal(restored.transform(paths), X)
    assert clone(loader).get_params() == loader.get_params()


def test_real_fma_clip(fma_mp3):
    X = AudioLoader(sr=22050, duration=29.7, crop="center").transform([fma_mp3])
    assert X.shape == (1, 654_885)
    assert np.abs(X).max() > 0.1


@pytest.mark.parametrize(("sr", "duration"), [(22050, 1e12), (22050, 97_400.0), (44100, 86400.0)])
def test_durations_past_the_samples_a_row_holds_are_named(sr, duration):
    """A row holds at most 2**31 - 1 samples: 1e12 s would have tried to allocate petabytes."""
    with pytest.raises(
        ParameterError,
        match=rf"^AudioLoader: duration={duration!r} s makes rows of [\d,]+ samples at sr={sr} "
        r"Hz; a row holds at most 2\*\*31 - 1 samples",
    ):
        AudioLoader(sr=sr, duration=duration).fit(["a.wav"])
    assert AudioLoader(sr=sr, duration=(2**31 - 1) / sr).fit(["a.wav"]).n_samples_out == 2**31 - 1
