"""skfma.base: the waveform transformers' shared checks, and the parameters' table of checks."""

import functools

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from skfma import MFCC, FMAFeatures, MelSpectrogram, MusicnnFeatures, Spectrogram
from skfma.base import MAX_AMPLITUDE, declared_checks, validate_parameters
from skfma.exceptions import ParameterError
from skfma.utils import check_choice, check_int

TRANSFORMERS = [
    Spectrogram(n_fft=256, hop_length=128),
    MelSpectrogram(sr=16000, n_fft=256, hop_length=128, n_mels=16),
    MFCC(sr=16000, n_fft=256, hop_length=128, n_mels=16, n_mfcc=8),
    FMAFeatures(sr=16000),
    MusicnnFeatures(sr=16000, layer="taggram"),
]
IDS = [type(transformer).__name__ for transformer in TRANSFORMERS]


def waveforms(amplitude, n_samples=48000):
    rng = np.random.default_rng(0)
    return (rng.uniform(-1, 1, (1, n_samples)) * amplitude).astype(np.float32)


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=IDS)
@pytest.mark.parametrize("amplitude", [1e-40, 1e-20, 1.0, 32768.0, MAX_AMPLITUDE])
def test_audio_of_any_accepted_amplitude_gives_finite_features(transformer, amplitude):
    assert np.isfinite(transformer.fit_transform(waveforms(amplitude))).all()


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=IDS)
@pytest.mark.parametrize("amplitude", [2 * MAX_AMPLITUDE, 1e20, 3e38])
def test_amplitudes_no_audio_reaches_are_refused(transformer, amplitude):
    with pytest.raises(ValueError, match="X holds waveform amplitudes up to"):
        transformer.fit_transform(waveforms(amplitude))
    fitted = transformer.fit(waveforms(1.0))
    with pytest.raises(ValueError, match="scale the waveforms"):
        fitted.transform(waveforms(amplitude))


class _Base(BaseEstimator):
    _parameter_checks = {"a": functools.partial(check_int, minimum=0)}

    def __init__(self, a=0, b="x", opt__lr=0.1):
        self.a, self.b, self.opt__lr = a, b, opt__lr


class _Child(_Base):
    _parameter_checks = {"b": functools.partial(check_choice, choices=("x", "y"))}


def test_a_subclass_adds_to_and_replaces_its_bases_checks():
    table = declared_checks(_Child)
    assert set(table) == {"a", "b"}
    assert declared_checks(_Base) == {"a": _Base._parameter_checks["a"]}


def test_validate_parameters_names_the_first_refused_parameter():
    validate_parameters(_Child(a=1, b="y"))
    with pytest.raises(ParameterError, match="^a must be an int >= 0; got -1"):
        validate_parameters(_Child(a=-1))
    with pytest.raises(ParameterError, match="^b must be one of 'x', 'y'; got 'z'"):
        validate_parameters(_Child(b="z"))
    # Only the parameters named; one without a check (a user's own) is left alone.
    validate_parameters(_Child(a=-1), names=("b",))
    validate_parameters(_Base(b="anything"))


def test_a_prefix_entry_checks_every_parameter_it_begins():
    seen = []

    class Prefixed(_Base):
        _parameter_checks = {"opt__*": lambda name, value: seen.append((name, value))}

    validate_parameters(Prefixed(opt__lr=0.5))
    assert seen == [("opt__lr", 0.5)]


def _array_output_pipelines(tmp_path):
    """Pipelines of each transformer without column names, then one that names them."""
    import soundfile as sf

    from skfma import AudioLoader, TemporalStatistics
    from skfma import make_audio_features as features
    from skfma.features import Resize, SpectrogramScaler

    sr = 8000
    clips = np.random.default_rng(0).uniform(-0.5, 0.5, (3, sr)).astype(np.float32)
    paths = [str(tmp_path / f"{i}.wav") for i in range(3)]
    for path, clip in zip(paths, clips, strict=True):
        sf.write(path, clip, sr)
    mel = MelSpectrogram(sr=sr, n_fft=256, n_mels=16)
    pool = TemporalStatistics(statistics=("mean",))
    return [
        ([Spectrogram(n_fft=256), pool], clips),
        ([mel, pool], clips),
        ([MFCC(sr=sr, n_fft=256, n_mels=16, n_mfcc=8), pool], clips),
        ([mel, SpectrogramScaler(), Resize(shape=(8, 8)), pool], clips),
        ([AudioLoader(sr=sr, duration=1.0), mel, pool], paths),
        ([features(AudioLoader(sr=sr, duration=1.0), mel), pool], paths),
    ]


def test_a_pipeline_of_steps_without_column_names_gives_pandas_output(tmp_path):
    """Pipeline.set_output failed on any pipeline holding a spectrogram step."""
    from sklearn.pipeline import make_pipeline

    for steps, X in _array_output_pipelines(tmp_path):
        pipeline = make_pipeline(*steps).set_output(transform="pandas")
        out = pipeline.fit_transform(X)
        assert list(out.columns) == list(pipeline[-1].get_feature_names_out()), steps
        spectrograms = make_pipeline(*steps[:-1]).set_output(transform="pandas").fit_transform(X)
        assert isinstance(spectrograms, np.ndarray)  # no names: the array, as the global config
    with pytest.raises(ParameterError, match="transform must be one of None, 'default'"):
        MelSpectrogram().set_output(transform="pandaz")
