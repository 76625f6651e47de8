"""AudioFeatures: the same output as the Pipeline of its steps, clip by clip, with its API."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skfma import (
    MFCC,
    AudioFeatures,
    AudioLoader,
    FMAFeatures,
    MelSpectrogram,
    MusicnnFeatures,
    Spectrogram,
    TemporalStatistics,
    make_audio_features,
)
from skfma.exceptions import AudioDecodeError, ParameterError
from skfma.pipeline._audio_features import guided_batch_sizes

SR = 8000  # as the clip_files fixture
DURATION = 1.0


def chains():
    """Step chains named in the issue: spectral + pooling, the FMA features, MFCC."""
    loader = AudioLoader(sr=SR, duration=DURATION)
    return {
        "spectrogram-stats": [loader, Spectrogram(n_fft=256, hop_length=128), TemporalStatistics()],
        "mel-stats": [loader, MelSpectrogram(sr=SR, n_fft=256, n_mels=16), TemporalStatistics()],
        "mfcc": [loader, MFCC(sr=SR, n_fft=256, n_mels=16, n_mfcc=8)],
        "fma": [loader, FMAFeatures(sr=SR, features=("zcr", "rmse", "mfcc"))],
    }


@pytest.mark.parametrize("chain", sorted(chains()))
@pytest.mark.parametrize(("n_jobs", "batch_size"), [(None, 5), (2, 1), (2, None)])
def test_equals_the_pipeline_of_its_steps(clip_files, chain, n_jobs, batch_size):
    paths, _ = clip_files
    steps = chains()[chain]
    expected = make_pipeline(*[clone(step) for step in steps]).fit_transform(paths)
    features = make_audio_features(*steps, n_jobs=n_jobs, batch_size=batch_size)
    out = features.fit_transform(paths)
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)
    # Input order is kept: reversed paths give reversed rows.
    np.testing.assert_array_equal(features.transform(paths[::-1]), expected[::-1])


@pytest.mark.parametrize("n_workers", [1, 2, 3, 8])
@pytest.mark.parametrize("n_clips", [0, 1, 2, 7, 40, 1000, 8000])
def test_batches_shrink_to_single_clips_as_the_work_runs_out(n_clips, n_workers):
    sizes = guided_batch_sizes(n_clips, n_workers, largest=16)
    assert sum(sizes) == n_clips
    assert all(1 <= size <= 16 for size in sizes)
    assert sizes == sorted(sizes, reverse=True)
    # The last batch of each worker holds one clip, so that all finish within a clip's time.
    assert sizes[-min(n_workers, n_clips) :] == [1] * min(n_workers, n_clips)
    # ... while most clips come in the largest batches, which amortise a task's overhead.
    if n_clips >= 1000:
        assert sum(size for size in sizes if size == 16) > 0.7 * n_clips


def test_pretrained_cnn_features_run_in_the_workers(clip_files):
    pytest.importorskip("torchvision")
    from skfma import PretrainedCNNFeatures

    paths, _ = clip_files
    steps = [
        AudioLoader(sr=SR, duration=DURATION),
        MelSpectrogram(sr=SR, n_fft=256, n_mels=16),
        PretrainedCNNFeatures(backbone="resnet18", weights=None, random_state=0),
    ]
    expected = make_pipeline(*[clone(step) for step in steps]).fit_transform(paths[:4])
    out = make_audio_features(*steps, n_jobs=2, batch_size=2).fit_transform(paths[:4])
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-6 * np.abs(expected).max())


def test_musicnn_features_run_in_the_workers(clip_files):
    paths, _ = clip_files
    steps = [
        AudioLoader(sr=16000, duration=DURATION),
        MusicnnFeatures(model="MTT_vgg", layer="pool5"),
    ]
    expected = make_pipeline(*[clone(step) for step in steps]).fit_transform(paths[:4])
    out = make_audio_features(*steps, n_jobs=2, batch_size=2).fit_transform(paths[:4])
    # Batches of windows differ between the two runs: float32 round-off (see test_musicnn).
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_paths_may_be_a_list_a_series_or_a_column(clip_files, mel_steps):
    paths, _ = clip_files
    features = AudioFeatures(mel_steps())
    expected = features.fit_transform(list(paths))
    np.testing.assert_array_equal(features.transform(pd.Series(paths)), expected)
    np.testing.assert_array_equal(features.transform(np.asarray(paths)[:, None]), expected)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([("scale", StandardScaler())], "first step must be an AudioLoader"),
        ([("load", AudioLoader()), ("scale", StandardScaler())], "'scale' \\(StandardScaler\\)"),
        ([("load", AudioLoader()), ("again", AudioLoader())], "'again'"),
        ([("load", AudioLoader()), ("load", MelSpectrogram())], "unique"),
        ([], "non-empty"),
        ([AudioLoader()], "pairs"),
    ],
)
def test_refuses_what_it_cannot_run_naming_the_step(clip_files, steps, message):
    paths, _ = clip_files
    with pytest.raises((ParameterError, ValueError), match=message):
        AudioFeatures(steps).fit(paths)


def test_refuses_a_step_at_another_sample_rate_than_the_loader(clip_files):
    """22,050 Hz audio read as 16 kHz would be 1.38 times too high and fast, silently."""
    paths, _ = clip_files
    with pytest.raises(
        ParameterError,
        match="'mel' \\(MelSpectrogram\\) has sr=22050, but the "
        "AudioLoader 'load' decodes at sr=8000",
    ):
        AudioFeatures([("load", AudioLoader(sr=SR)), ("mel", MelSpectrogram(sr=22050))]).fit(paths)
    same = AudioFeatures([("load", AudioLoader(sr=SR)), ("mel", MelSpectrogram(sr=float(SR)))])
    assert same.fit_transform(paths).shape[0] == len(paths)


def test_refuses_stateful_steps_with_a_clear_reason(clip_files):
    paths, _ = clip_files
    with pytest.raises(ParameterError, match="learns from the data in fit.*after AudioFeatures"):
        AudioFeatures([("load", AudioLoader()), ("scale", StandardScaler())]).fit(paths)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"on_error": "skip"}, "on_error"),
        ({"memory": 3}, "memory"),
    ],
)
def test_invalid_parameters_name_the_estimator(clip_files, mel_steps, params, name):
    paths, _ = clip_files
    with pytest.raises(ParameterError, match=rf"^AudioFeatures: .*{name}"):
        AudioFeatures(mel_steps(), **params).fit_transform(paths)


def test_params_of_steps_are_tunable_like_a_pipeline(mel_steps):
    features = AudioFeatures(mel_steps(), n_jobs=2)
    params = features.get_params()
    assert params["mel__n_mels"] == 16 and params["n_jobs"] == 2 and "steps" in params
    features.set_params(mel__n_mels=8, stats=TemporalStatistics(statistics=("mean",)))
    assert features.named_steps.mel.n_mels == 8
    assert features.named_steps["stats"].statistics == ("mean",)
    cloned = clone(features)
    assert cloned.named_steps.mel is not features.named_steps.mel
    assert cloned.get_params()["mel__n_mels"] == 8


def test_grid_search_tunes_feature_and_classifier_parameters(clip_files, mel_steps):
    paths, genres = clip_files
    pipe = Pipeline(
        [("features", AudioFeatures(mel_steps())), ("scale", StandardScaler()), ("svc", SVC())]
    )
    grid = {"features__mel__n_mels": [8, 16], "svc__C": [0.1, 10.0]}
    search = GridSearchCV(pipe, grid, cv=3).fit(paths, genres)
    assert set(search.best_params_) == set(grid)
    assert search.predict(paths[:3]).shape == (3,)
    restored = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(restored.predict(paths), search.predict(paths))


def test_feature_names_and_pandas_output(clip_files, mel_steps):
    paths, _ = clip_files
    features = AudioFeatures(mel_steps()).set_output(transform="pandas")
    frame = features.fit_transform(paths)
    assert isinstance(frame, pd.DataFrame) and frame.shape == (len(paths), 7 * 16)
    assert list(frame.columns[:2]) == ["mean_0", "mean_1"]
    assert list(features.get_feature_names_out()) == list(frame.columns)
    with pytest.raises(AttributeError, match="no attribute 'get_feature_names_out'") as error:
        AudioFeatures(mel_steps(pool=False)).fit(paths).get_feature_names_out()
    assert "the last step 'mel' (MelSpectrogram) has no get_feature_names_out" in str(
        error.value.__cause__
    )


def test_global_pandas_output_is_honoured(clip_files, mel_steps):
    """With sklearn's global transform_output="pandas", the steps still pass arrays inside."""
    paths, _ = clip_files
    expected = AudioFeatures(mel_steps()).fit_transform(paths)
    with sklearn.config_context(transform_output="pandas"):
        frame = AudioFeatures(mel_steps(), n_jobs=2, batch_size=3).fit_transform(paths)
    assert isinstance(frame, pd.DataFrame)
    np.testing.assert_array_equal(frame.to_numpy(), expected)


def test_global_pandas_output_leaves_a_spectrogram_an_array(clip_files, mel_steps):
    """A 3-D output has no column names: under pandas output it stays an array, as its steps'."""
    paths, _ = clip_files
    expected = AudioFeatures(mel_steps(pool=False)).fit_transform(paths)
    assert expected.ndim == 3
    with sklearn.config_context(transform_output="pandas"):
        features = AudioFeatures(mel_steps(pool=False))
        np.testing.assert_array_equal(features.fit_transform(paths), expected)
        np.testing.assert_array_equal(features.transform(paths), expected)
    # Accepted (a Pipeline holding it can set_output), and still the array.
    np.testing.assert_array_equal(
        features.set_output(transform="pandas").transform(paths), expected
    )


def test_random_network_is_drawn_once_for_every_worker(clip_files):
    pytest.importorskip("torchvision")
    from skfma import PretrainedCNNFeatures

    paths, _ = clip_files
    steps = [
        AudioLoader(sr=SR, duration=DURATION),
        MelSpectrogram(sr=SR, n_fft=256, n_mels=16),
        PretrainedCNNFeatures(backbone="resnet18", weights=None),  # random_state=None
    ]
    out = make_audio_features(*steps, n_jobs=2, batch_size=1).fit_transform([paths[0]] * 4)
    np.testing.assert_allclose(out, out[:1].repeat(4, axis=0), rtol=0, atol=1e-5)


def test_a_random_network_without_a_seed_is_not_cached(clip_files, tmp_path):
    """Cached rows of one draw used to sit beside new rows of another (5.2 apart)."""
    pytest.importorskip("torchvision")
    from skfma import PretrainedCNNFeatures

    paths, _ = clip_files

    def features(**cnn):
        return make_audio_features(
            AudioLoader(sr=SR, duration=DURATION),
            MelSpectrogram(sr=SR, n_fft=256, n_mels=16),
            PretrainedCNNFeatures(backbone="resnet18", weights=None, **cnn),
            memory=tmp_path,
        )

    with pytest.raises(ParameterError, match=r"memory cannot cache step 'pretrainedcnnfeatures'"):
        features().fit_transform(paths[:1])
    seeded = features(random_state=0)
    first = seeded.fit_transform(paths[:1])
    np.testing.assert_array_equal(seeded.fit_transform(paths[:2])[:1], first)


def test_failed_files_give_zero_rows_listed_once(clip_files, mel_steps, tmp_path):
    paths, _ = clip_files
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio")
    mixed = [paths[0], str(broken), paths[1], str(tmp_path / "missing.wav")]
    features = AudioFeatures(mel_steps(), on_error="warn", batch_size=3)
    with pytest.warns(UserWarning, match="2 of 4 audio files") as record:
        out = features.fit_transform(mixed)
    assert len([w for w in record if "could not be decoded" in str(w.message)]) == 1
    assert [(row, path) for row, path, _ in features.failures_] == [
        (1, str(broken)),
        (3, str(tmp_path / "missing.wav")),
    ]
    assert not out[[1, 3]].any()
    expected = AudioFeatures(mel_steps()).fit_transform(paths[:2])
    np.testing.assert_array_equal(out[[0, 2]], expected)
    with pytest.raises(AudioDecodeError):  # a later call that raises: no stale list
        features.set_params(on_error="raise").transform(mixed)
    assert not hasattr(features, "failures_")


def test_on_error_raise_names_the_file(clip_files, mel_steps, tmp_path):
    paths, _ = clip_files
    missing = str(tmp_path / "missing.wav")
    with pytest.raises(AudioDecodeError, match="missing.wav") as error:
        AudioFeatures(mel_steps()).fit_transform([paths[0], missing])
    assert error.value.path == missing


def test_progress_bar_only_when_asked(clip_files, mel_steps, capsys):
    paths, _ = clip_files
    AudioFeatures(mel_steps()).fit_transform(paths)
    assert capsys.readouterr().err == ""
    AudioFeatures(mel_steps(), verbose=1).fit_transform(paths)
    err = capsys.readouterr().err
    assert "AudioFeatures" in err and f"{len(paths)}/{len(paths)}" in err and "clip" in err


def test_transform_needs_no_fit(clip_files, mel_steps):
    paths, _ = clip_files
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = AudioFeatures(mel_steps()).transform(paths)
    np.testing.assert_array_equal(out, AudioFeatures(mel_steps()).fit_transform(paths))


def test_the_last_step_runs_on_silence_once_per_setting(clip_files, mel_steps, monkeypatch):
    """Sizing the output runs the steps on a clip of silence: transform after fit reuses it."""
    silent_calls = []
    original = TemporalStatistics.transform

    def counting(self, X):
        silent_calls.append(np.ptp(X) == 0)  # silence: a constant log-mel
        return original(self, X)

    monkeypatch.setattr(TemporalStatistics, "transform", counting)
    paths, _ = clip_files
    features = AudioFeatures(mel_steps()).fit(paths)
    assert sum(silent_calls) == 1  # fit: the silent clip
    first = features.transform(paths)  # clip by clip, in this process (n_jobs=None)
    assert sum(silent_calls) == 1 and len(silent_calls) == 1 + len(paths)
    features.set_params(mel__n_mels=8)  # another setting: sized again
    second = features.transform(paths)
    assert sum(silent_calls) == 2 and first.shape[1] == 2 * second.shape[1]


def test_pandas_output_runs_the_steps_on_silence_once_per_setting(
    clip_files, mel_steps, monkeypatch
):
    silent_calls = []
    original = MelSpectrogram.transform

    def counting(self, X):
        silent_calls.append(np.ptp(X) == 0)
        return original(self, X)

    monkeypatch.setattr(MelSpectrogram, "transform", counting)
    paths, _ = clip_files
    features = AudioFeatures(mel_steps()).set_output(transform="pandas").fit(paths)
    features.transform(paths)  # its own probe, and one for the column names
    before = sum(silent_calls)
    features.transform(paths)
    assert sum(silent_calls) == before + 1  # transform's probe only: the names are known
    features.set_params(mel__n_mels=8)
    assert features.transform(paths).shape[1] == 7 * 8


def test_feature_names_follow_set_params_as_transform_does(clip_files, mel_steps):
    paths, _ = clip_files
    features = AudioFeatures(mel_steps()).set_output(transform="pandas").fit(paths)
    assert len(features.get_feature_names_out()) == 7 * 16
    features.set_params(mel__n_mels=8)
    assert features.transform(paths).shape == (len(paths), 7 * 8)  # pandas: names and columns
    features.set_params(stats=TemporalStatistics(statistics=("mean",)))
    assert list(features.get_feature_names_out()) == [f"mean_{i}" for i in range(8)]


def test_an_unpickled_fit_runs_its_steps_once_in_the_parent_before_the_workers(
    clip_files, mel_steps, monkeypatch
):
    """The probe's memory stays in its process: librosa's numba functions (FMAFeatures) then
    compile in the parent, not in every worker at once (a crash on a fresh install)."""
    paths, _ = clip_files
    features = AudioFeatures(mel_steps(), n_jobs=2).fit(paths[:2])
    assert hasattr(features, "_probed")
    restored = pickle.loads(pickle.dumps(features))
    assert not hasattr(restored, "_probed")
    last = type(restored.steps[-1][1])
    calls, transform = [], last.transform

    def counted(self, X):
        calls.append(len(X))
        return transform(self, X)

    monkeypatch.setattr(last, "transform", counted)
    out = restored.transform(paths[:4])  # the clips in loky's workers, unpatched
    assert calls == [1]  # one clip of silence, here
    np.testing.assert_array_equal(out, AudioFeatures(mel_steps()).fit_transform(paths[:4]))
