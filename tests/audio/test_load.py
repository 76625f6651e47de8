"""load_audio: formats, rates, channels, windows, and every kind of bad input."""

import pickle

import librosa
import numpy as np
import pytest
import soundfile as sf

from skfma.audio import AudioLoader, load_audio
from skfma.exceptions import AudioDecodeError, ParameterError, SkfmaError


def dominant_frequency(y, sr):
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return np.argmax(spectrum) * sr / len(y)


@pytest.mark.parametrize("native_sr", [8000, 16000, 22050, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_rates_and_channels_become_mono_at_target_rate(tone_file, native_sr, channels):
    path = tone_file(sr=native_sr, seconds=1.0, channels=channels, freq=440.0)
    y, sr = load_audio(path, sr=22050)
    assert sr == 22050
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 22050) <= 1
    assert dominant_frequency(y, sr) == pytest.approx(440.0, abs=2.0)
    # Channel c holds the tone at gain (c + 1) / channels, so the mean gain is (channels + 1) / 2n.
    expected_peak = 0.5 * (channels + 1) / 2 / channels
    assert np.abs(y[1000:-1000]).max() == pytest.approx(expected_peak, rel=0.02)


def test_native_rate_and_channels_kept(tone_file):
    path = tone_file(sr=44100, seconds=0.5, channels=2)
    y, sr = load_audio(path, sr=None, mono=False)
    assert sr == 44100 and y.shape == (2, 22050) and y.dtype == np.float32
    resampled, _ = load_audio(path, sr=22050, mono=False)
    assert resampled.shape == (2, 11025)


@pytest.mark.parametrize(
    "extension, kwargs",
    [
        ("mp3", {}),
        ("ogg", {}),
        ("flac", {}),
        ("wav", {}),
        ("opus", {"format": "OGG", "subtype": "OPUS"}),
    ],
)
def test_formats(tmp_path, extension, kwargs):
    sr = 48000 if extension == "opus" else 22050
    t = np.arange(sr) / sr
    path = tmp_path / f"clip.{extension}"
    sf.write(path, (0.4 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), sr, **kwargs)
    y, out_sr = load_audio(path, sr=22050)
    assert out_sr == 22050 and y.dtype == np.float32
    assert dominant_frequency(y[2000:-2000], 22050) == pytest.approx(1000.0, abs=5.0)


def test_offset_and_duration_select_the_window(tone_file):
    path = tone_file(sr=8000, seconds=2.0)
    full, _ = load_audio(path, sr=None)
    part, _ = load_audio(path, sr=None, offset=0.5, duration=0.25)
    np.testing.assert_array_equal(part, full[4000:6000])
    past_end, _ = load_audio(path, sr=None, offset=5.0)
    assert past_end.shape == (0,)


def test_real_fma_mp3_frame_count(fma_mp3):
    y, sr = load_audio(fma_mp3, sr=None, mono=False)
    assert sr == 44100
    assert y.shape == (2, 1_321_967)


def test_real_fma_mp3_matches_librosa_load(fma_mp3):
    ours, _ = load_audio(fma_mp3, sr=22050, duration=10.0)
    reference, _ = librosa.load(fma_mp3, sr=22050, duration=10.0)
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)


def test_real_ogg_longer_than_30_s(fixtures_dir):
    path = sorted((fixtures_dir / "audio").glob("*.hq.ogg"))[0]
    y, sr = load_audio(path, sr=22050, offset=30.0, duration=30.0)
    assert y.shape == (661_500,)
    assert np.abs(y).max() > 0.01


def test_silence_is_returned_as_zeros(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(8000, dtype=np.float32), 8000)
    y, _ = load_audio(path, sr=16000)
    assert y.shape == (16000,) and not y.any()


def test_a_few_samples(tmp_path):
    path = tmp_path / "few.wav"
    sf.write(path, np.full(3, 0.1, dtype=np.float32), 8000)
    y, sr = load_audio(path, sr=22050)
    assert sr == 22050 and 1 <= len(y) <= 9 and np.isfinite(y).all()


def test_truncated_mp3_decodes_what_is_there(tmp_path, fma_mp3):
    data = fma_mp3.read_bytes()
    path = tmp_path / "truncated.mp3"
    path.write_bytes(data[: len(data) // 3])
    y, sr = load_audio(path, sr=None)
    assert sr == 44100
    assert 0.25 * 1_321_967 < len(y) < 0.4 * 1_321_967


def write_bytes(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make_path, reason",
    [
        (lambda tmp: tmp / "missing.mp3", "file not found"),
        (lambda tmp: tmp, "is a directory"),
        (lambda tmp: write_bytes(tmp, "empty.mp3", b""), "file is empty"),
        (lambda tmp: write_bytes(tmp, "text.mp3", b"not audio " * 300), "not a decodable"),
        (lambda tmp: write_bytes(tmp, "noise.wav", bytes(range(256)) * 20), "not a decodable"),
        (lambda tmp: write_bytes(tmp, "tiny.mp3", b"\xff\xfb\x90\x00" + bytes(200)), "decod"),
    ],
)
def test_bad_files_raise_decode_error_naming_the_file(tmp_path, make_path, reason):
    path = make_path(tmp_path)
    with pytest.raises(AudioDecodeError, match=reason) as info:
        load_audio(path)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, SkfmaError)
    restored = pickle.loads(pickle.dumps(info.value))
    assert (restored.path, restored.reason) == (info.value.path, info.value.reason)


def test_file_without_frames(tmp_path):
    path = tmp_path / "header_only.wav"
    sf.write(path, np.zeros((0, 1), dtype=np.float32), 8000)
    with pytest.raises(AudioDecodeError, match="no audio frames"):
        load_audio(path)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"sr": 0}, "sr"), ({"offset": -1.0}, "offset"), ({"duration": 0}, "duration")],
)
def test_bad_parameters(tone_file, kwargs, name):
    with pytest.raises(ParameterError, match=name) as info:
        load_audio(tone_file(), **kwargs)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
@pytest.mark.parametrize("name", ["offset", "duration", "sr"])
def test_non_finite_or_negative_numbers_are_refused(tone_file, name, value):
    with pytest.raises(ParameterError, match=rf"^load_audio: {name} must be a (finite )?number"):
        load_audio(tone_file(), **{name: value})


@pytest.mark.parametrize("path", [None, 3, ["a.wav", "b.wav"], np.zeros(100)])
def test_a_path_that_is_not_one_path_is_named(path):
    with pytest.raises(ParameterError, match="^load_audio: path must be one audio file's path"):
        load_audio(path)


def test_an_empty_path_is_named_rather_than_read_as_the_working_folder():
    with pytest.raises(
        ParameterError, match="^load_audio: path must name a folder or file; got ''"
    ):
        load_audio("")


def test_audio_paths_expand_the_home_folder(tone_file, monkeypatch):
    path = tone_file()
    monkeypatch.setenv("HOME", str(path.parent))
    home_relative = f"~/{path.name}"
    np.testing.assert_array_equal(load_audio(home_relative)[0], load_audio(path)[0])
    loader = AudioLoader(duration=0.5)
    np.testing.assert_array_equal(
        loader.fit_transform([home_relative]), loader.fit_transform([path])
    )
