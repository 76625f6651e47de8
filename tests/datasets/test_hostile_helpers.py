"""Helpers of the datasets refuse what a hostile pass found them taking silently."""

import numpy as np
import pytest

from skfma.datasets import fma_audio_path, get_data_home, load_fma, make_fma_like
from skfma.exceptions import MetadataError, ParameterError


@pytest.mark.parametrize("track_id", [-1, 46.7, None, np.array([46, 107]), "46"])
def test_a_track_id_is_one_non_negative_int(track_id):
    with pytest.raises(ParameterError, match="fma_audio_path: track_id must be an int >= 0"):
        fma_audio_path("fma_small", track_id)


def test_track_paths_take_numpy_ints_and_a_dotted_extension():
    assert fma_audio_path("d", np.int64(46), extension=".ogg").endswith("000/000046.ogg")


def test_fake_fma_needs_a_clip_per_genre_and_expands_home(tmp_path, monkeypatch):
    with pytest.raises(ParameterError, match="n_clips=2 cannot give each of the n_genres=3"):
        make_fma_like(tmp_path / "a", n_clips=2, n_genres=3, duration=0.2)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    root = make_fma_like("~/fake", n_clips=6, n_genres=3, duration=0.2)
    assert root == str(tmp_path / "fake") and not (tmp_path / "~").exists()


def test_tracks_csv_with_no_tracks_is_a_metadata_error(tmp_path):
    root = make_fma_like(tmp_path / "fma", n_clips=6, n_genres=3, duration=0.2)
    tracks = tmp_path / "fma" / "fma_metadata" / "tracks.csv"
    tracks.write_text("".join(tracks.read_text().splitlines(keepends=True)[:3]))
    with pytest.raises(MetadataError, match="lists no tracks"):
        load_fma(root)


def test_a_data_home_that_is_a_file_is_named(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ParameterError, match="is a file, not a folder"):
        get_data_home(tmp_path / "file")
