"""Files that are not the audio they claim: every entry point reports them, naming the file.

A file holds no audio when decoding gives no frames where its header declares some
(junk the decoder accepted, a truncated file whose requested part lies past its data)
or gives a NaN or infinite sample. load_audio and AudioLoader (on_error="raise") raise
AudioDecodeError; AudioLoader(on_error="warn") gives a zero row listed in failures_.
Short clips and real silence are audio and load.
"""

import os
import warnings

import numpy as np
import pytest
import soundfile as sf

from skfma import AudioLoader, load_audio
from skfma.exceptions import AudioDecodeError, ParameterError


def float_wav(tmp_path, name, samples, sr=8000):
    path = tmp_path / name
    sf.write(path, np.asarray(samples, dtype=np.float32), sr, subtype="FLOAT")
    return path


@pytest.fixture
def truncated_mp3(tmp_path):
    """A 4 s MP3 at 8 kHz cut to its first quarter: its header still declares 32000 frames."""
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no MP3 support")
    t = np.arange(32000) / 8000
    whole = tmp_path / "whole.mp3"
    sf.write(whole, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 8000, format="MP3")
    data = whole.read_bytes()
    path = tmp_path / "truncated.mp3"
    path.write_bytes(data[: len(data) // 4])
    with sf.SoundFile(path) as audio:
        assert audio.frames == 32000  # the header's length, not the data's
    return path


NON_FINITE = {
    "nan": np.full(800, np.nan),
    "inf": np.full(800, np.inf),
    "-inf": np.full(800, -np.inf),
    "some-nan": np.r_[np.zeros(400), np.full(400, np.nan)],
    "one-inf": np.r_[np.full(799, 0.1), np.inf],
}


@pytest.mark.parametrize("kind", NON_FINITE)
def test_non_finite_samples_are_a_decode_failure(tmp_path, kind):
    path = float_wav(tmp_path, f"{kind}.wav", NON_FINITE[kind])
    for call in (
        lambda: load_audio(path, sr=None),
        lambda: load_audio(path, sr=16000),
        lambda: load_audio(path, sr=None, mono=False),
        lambda: AudioLoader(sr=8000, duration=0.1).transform([path]),
        lambda: AudioLoader(sr=22050, duration=0.1, crop="center").transform([path]),
    ):
        with pytest.raises(AudioDecodeError, match="NaN or infinite") as info:
            call()
        assert info.value.path == str(path)


@pytest.mark.parametrize(
    ("left", "right", "n_bad"),
    [
        (np.nan, 0.1, 1),  # in one channel only
        (np.inf, -np.inf, 2),  # opposite infinities: their mean is NaN
        (np.inf, np.inf, 2),
    ],
)
def test_a_non_finite_sample_in_any_channel_is_a_decode_failure(tmp_path, left, right, n_bad):
    stereo = np.full((800, 2), 0.1)
    stereo[500] = left, right
    path = float_wav(tmp_path, "stereo.wav", stereo)
    for mono in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the error alone, no RuntimeWarning from the mix
            with pytest.raises(AudioDecodeError, match=f"{n_bad} of 1600 samples are NaN"):
                load_audio(path, sr=None, mono=mono)


def test_channels_whose_mix_overflows_are_a_decode_failure(tmp_path):
    stereo = np.full((800, 2), 0.1)
    stereo[500] = 3e38  # finite, but their sum is not
    path = float_wav(tmp_path, "loud.wav", stereo)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AudioDecodeError, match="mix of its channels overflows"):
            load_audio(path, sr=None)
    assert np.isfinite(load_audio(path, sr=None, mono=False)[0]).all()


def test_samples_that_resample_to_non_finite_values_are_a_decode_failure(tmp_path):
    """Finite samples near float32's limit resampled to inf and NaN, returned silently."""
    path = float_wav(tmp_path, "loud.wav", np.resize([3e38, -3e38], 1600))
    assert np.isfinite(load_audio(path, sr=None)[0]).all()
    with pytest.raises(AudioDecodeError, match="resampling it to 4000 Hz gives NaN or infinite"):
        load_audio(path, sr=4000)
    loader = AudioLoader(sr=4000, duration=0.1, on_error="warn")
    with pytest.warns(UserWarning, match=r"1 of 1 .*loud\.wav"):
        assert not loader.transform([path]).any()


@pytest.mark.parametrize("rate", [50, 2_000_000])
def test_a_file_rate_that_cannot_be_resampled_is_its_decode_failure(tmp_path, rate):
    """It was a ParameterError about resample's orig_sr, naming no file, failing every row."""
    good = float_wav(tmp_path, "good.wav", np.full(800, 0.25))
    odd = tmp_path / "odd.wav"
    sf.write(odd, np.full(max(1, rate // 10), 0.1, dtype=np.float32), rate, subtype="FLOAT")
    assert load_audio(odd, sr=None)[1] == rate
    with pytest.raises(AudioDecodeError, match=rf"its sample rate, {rate} Hz, is outside"):
        load_audio(odd, sr=8000)
    loader = AudioLoader(sr=8000, duration=0.1, on_error="warn")
    with pytest.warns(UserWarning, match=r"1 of 2 .*odd\.wav"):
        X = loader.transform([good, odd])
    np.testing.assert_allclose(X[0], 0.25)
    assert [row for row, _, _ in loader.failures_] == [1]


def test_a_file_name_that_is_not_utf8_opens(tmp_path):
    """A legal POSIX name with a non-UTF-8 byte raised UnicodeEncodeError from soundfile."""
    if os.name != "posix":
        pytest.skip("non-UTF-8 file names are a POSIX matter")
    path = os.path.join(os.fsdecode(bytes(tmp_path)), os.fsdecode(b"caf\xe9.wav"))
    sf.write(os.fsencode(path), np.full(800, 0.25, dtype=np.float32), 8000)
    np.testing.assert_allclose(load_audio(path, sr=8000)[0], 0.25)
    np.testing.assert_allclose(AudioLoader(sr=8000, duration=0.1).transform([path]), 0.25)


def test_non_finite_file_with_on_error_warn_is_a_listed_zero_row(tmp_path):
    good = float_wav(tmp_path, "good.wav", np.full(800, 0.25))
    bad = float_wav(tmp_path, "nan.wav", NON_FINITE["nan"])
    loader = AudioLoader(sr=8000, duration=0.1, on_error="warn")
    with pytest.warns(UserWarning, match=r"1 of 2 .*nan\.wav"):
        X = loader.transform([bad, good])
    assert np.isfinite(X).all() and not X[0].any()
    np.testing.assert_allclose(X[1], 0.25)
    assert [(row, path) for row, path, _ in loader.failures_] == [(0, str(bad))]
    assert "every sample is NaN or infinite" in loader.failures_[0][2]
    # A later call that raises leaves no list of this call's failures behind.
    with pytest.raises(AudioDecodeError):
        loader.set_params(on_error="raise").transform([bad])
    assert not hasattr(loader, "failures_")


@pytest.mark.parametrize("data", [b"not an mp3", b"not an mp3\n" * 1000, b"ID3\x03" + bytes(60)])
def test_junk_named_mp3_is_a_decode_failure_never_a_silent_row(tmp_path, data):
    # Depending on the libsndfile/mpg123 build, junk fails to open or opens and decodes to
    # zero frames: both are reported.
    path = tmp_path / "junk.mp3"
    path.write_bytes(data)
    with pytest.raises(AudioDecodeError) as info:
        load_audio(path)
    assert info.value.path == str(path)
    with pytest.raises(AudioDecodeError, match="junk.mp3"):
        AudioLoader(sr=8000, duration=0.1).transform([path])
    loader = AudioLoader(sr=8000, duration=0.1, on_error="warn")
    with pytest.warns(UserWarning, match="junk.mp3"):
        X = loader.transform([path])
    assert not X.any() and [row for row, _, _ in loader.failures_] == [0]


@pytest.mark.parametrize("sr", [8000, 16000, 11025])
def test_window_past_the_data_of_a_truncated_file_is_a_decode_failure(truncated_mp3, sr):
    loader = AudioLoader(sr=sr, duration=1.0, crop="center")
    with pytest.raises(AudioDecodeError, match="decoded no audio frames .* truncated") as info:
        loader.transform([truncated_mp3])
    assert info.value.path == str(truncated_mp3)
    loader.set_params(on_error="warn")
    with pytest.warns(UserWarning, match="truncated.mp3"):
        X = loader.transform([truncated_mp3])
    assert not X.any() and loader.failures_[0][:2] == (0, str(truncated_mp3))


def test_window_starting_just_past_the_data_is_a_failure_despite_the_resampling_lead(
    truncated_mp3,
):
    # Resampling 8 -> 16 kHz decodes 1024 frames before the window: some of them are there,
    # none of the window's.
    n_there = len(load_audio(truncated_mp3, sr=None)[0])
    window = 32000 - 2 * (n_there + 100)  # native frames; the window starts at n_there + 100
    loader = AudioLoader(sr=16000, duration=window / 8000, crop="center")
    with pytest.raises(AudioDecodeError, match=rf"from frame {n_there + 100} on.*truncated file"):
        loader.transform([truncated_mp3])


def test_offset_past_the_data_of_a_truncated_file_is_a_decode_failure(truncated_mp3):
    with pytest.raises(AudioDecodeError, match="from frame 16000 on, although its header"):
        load_audio(truncated_mp3, sr=None, offset=2.0)
    # Past the end the header declares, the request is for nothing: an empty result.
    assert load_audio(truncated_mp3, sr=None, offset=5.0)[0].shape == (0,)


def test_start_of_a_truncated_file_loads_what_is_there(truncated_mp3):
    y, _ = load_audio(truncated_mp3, sr=None)
    assert 1000 < len(y) < 16000 and np.abs(y).max() > 0.1
    X = AudioLoader(sr=8000, duration=4.0).transform([truncated_mp3])
    np.testing.assert_array_equal(X[0, : len(y)], y)
    assert not X[0, len(y) :].any()  # padded after the data that are there


def test_truncated_real_fma_mp3_center_crop(tmp_path, fma_mp3):
    data = fma_mp3.read_bytes()
    path = tmp_path / "000002.mp3"
    path.write_bytes(data[:20000])  # a few hundred ms of a 30 s clip
    with pytest.raises(AudioDecodeError, match="000002.mp3"):
        AudioLoader(sr=22050, duration=10.0, crop="center").transform([path])
    X = AudioLoader(sr=22050, duration=10.0).transform([path])
    assert np.abs(X[0, :2000]).max() > 0.01


@pytest.mark.parametrize("pad_mode", ["constant", "wrap"])
@pytest.mark.parametrize("crop", ["start", "center"])
def test_silence_and_short_clips_are_audio(tmp_path, crop, pad_mode):
    silent = float_wav(tmp_path, "silent.wav", np.zeros(8000))
    one_sample = float_wav(tmp_path, "one.wav", [0.5])
    loader = AudioLoader(sr=16000, duration=0.5, crop=crop, pad_mode=pad_mode)
    X = loader.transform([silent, one_sample])
    assert loader.failures_ == [] and np.isfinite(X).all()
    assert not X[0].any() and X[1].any()
    assert load_audio(one_sample, sr=None)[0].tolist() == [0.5]


@pytest.mark.parametrize("duration", [1e-5, 6e-5])
def test_duration_shorter_than_one_sample_is_refused(tmp_path, duration):
    path = float_wav(tmp_path, "a.wav", np.zeros(800))
    pattern = rf"^AudioLoader: duration={duration!r} s is shorter than one sample at sr=8000"
    with pytest.raises(ParameterError, match=pattern):
        AudioLoader(sr=8000, duration=duration).fit([path])
    with pytest.raises(ParameterError, match=pattern):
        AudioLoader(sr=8000, duration=duration).transform([path])
    with pytest.raises(ParameterError, match=r"^load_audio: duration=.* shorter than one sample"):
        load_audio(path, duration=duration)
    assert AudioLoader(sr=8000, duration=1e-4).fit_transform([path]).shape == (1, 1)
