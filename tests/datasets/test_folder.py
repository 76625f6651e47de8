"""load_audio_folder: one sub-folder of audio files per label."""

import os

import numpy as np
import pytest

from skfma.audio import load_audio
from skfma.datasets import load_audio_folder
from skfma.exceptions import ParameterError


def test_genre_folders(tmp_path, tone_file):
    tone = tone_file(seconds=0.1).read_bytes()
    for relative in [
        "rock/b.wav",
        "rock/a.WAV",
        "rock/live/c.flac",
        "blues/blues.00000.au",
        "blues/notes.txt",
        "blues/.hidden.wav",
        ".cache/x.wav",
        "jazz/.git/y.wav",
        "readme.wav",
    ]:
        path = tmp_path / "genres" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tone)
    data = load_audio_folder(tmp_path / "genres")
    root = str(tmp_path / "genres")
    assert list(data.filenames) == [
        os.path.join(root, "blues", "blues.00000.au"),
        os.path.join(root, "rock", "a.WAV"),
        os.path.join(root, "rock", "b.wav"),
        os.path.join(root, "rock", "live", "c.flac"),
    ]
    assert list(data.target) == ["blues", "rock", "rock", "rock"]
    assert list(data.target_names) == ["blues", "rock"]  # jazz holds no audio
    assert data.filenames.dtype == object and data.target.dtype == object
    only_wav = load_audio_folder(tmp_path / "genres", extensions=[".wav"])
    assert list(only_wav.target) == ["rock", "rock"]


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name != "posix", reason="POSIX links")
def test_linked_sub_folders_are_followed_once(tmp_path, tone_file):
    """A linked sub-folder's files were left out silently (a linked label folder's were not)."""
    tone = tone_file(seconds=0.1).read_bytes()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "c.wav").write_bytes(tone)
    rock = tmp_path / "genres" / "rock"
    rock.mkdir(parents=True)
    (rock / "a.wav").write_bytes(tone)
    (rock / "more").symlink_to(elsewhere)
    (rock / "same").symlink_to(elsewhere)  # a second link to it: walked once
    (elsewhere / "loop").symlink_to(rock)  # back up: walked once
    data = load_audio_folder(tmp_path / "genres")
    assert [os.path.relpath(path, rock) for path in data.filenames] == [
        "a.wav",
        os.path.join("more", "c.wav"),
    ]


def test_files_load(tmp_path, tone_file):
    (tmp_path / "Hip-Hop").mkdir()
    os.replace(tone_file("t.wav", seconds=0.25), tmp_path / "Hip-Hop" / "t.wav")
    data = load_audio_folder(tmp_path)
    y, sr = load_audio(data.filenames[0], sr=None)
    assert sr == 22050 and y.shape == (5512,) and np.abs(y).max() > 0.4


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="audio folder not found.*nope"):
        load_audio_folder(tmp_path / "nope")
    (tmp_path / "rock").mkdir()
    (tmp_path / "rock" / "cover.jpg").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="no audio files in the sub-folders"):
        load_audio_folder(tmp_path)


@pytest.mark.parametrize("extensions", [[], [""], [".wav", ""], ".wav", [3]])
def test_extensions_must_be_non_empty_endings(tmp_path, extensions):
    """[] ended in a FileNotFoundError "with endings ."; [""] took every file."""
    with pytest.raises(ParameterError, match="^load_audio_folder: extensions must be a non-empty"):
        load_audio_folder(tmp_path, extensions=extensions)
