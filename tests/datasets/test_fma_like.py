"""make_fma_like: a synthetic dataset that load_fma reads like the real FMA."""

import numpy as np
import pandas as pd

from skfma.audio import load_audio
from skfma.datasets import load_fma, load_fma_metadata, make_fma_like
from skfma.datasets._archive import verify_checksums


def test_load_fma_reads_it(fma_like):
    fma = load_fma(fma_like, check_files=True)
    assert len(fma.filenames) == 24 and fma.excluded == {}
    assert list(fma.target_names) == ["Classical", "Electronic", "Hip-Hop"]
    assert (pd.Series(fma.target).value_counts() == 8).all()
    assert list(fma.track_ids) == sorted(fma.track_ids) and len(set(fma.track_ids)) == 24
    y, sr = load_audio(fma.filenames[0], sr=None)
    assert sr == 22050 and abs(len(y) - 11025) < 2000  # MP3 adds encoder padding
    assert verify_checksums(str(fma_like / "fma_small")) == 24


def test_splits_group_artists(fma_like):
    fma = load_fma(fma_like)
    per_artist = pd.Series(fma.split).groupby(fma.artist_ids).nunique()
    assert (per_artist == 1).all()
    genres_per_artist = pd.Series(fma.target).groupby(fma.artist_ids).nunique()
    assert (genres_per_artist == 1).all()
    assert (pd.Series(fma.artist_ids).value_counts() == 2).all()  # tracks_per_artist=2
    # 4 artists per genre: one in validation, one in test, two in training.
    table = pd.crosstab(fma.target, fma.split)
    assert (table["training"] == 4).all() and (table["validation"] == 2).all()
    assert (table["test"] == 2).all()
    test = load_fma(fma_like, split="test")
    assert set(test.split) == {"test"} and len(test.filenames) == 6


def test_metadata_like_the_real_one(fma_like, fixtures_dir):
    ours = load_fma_metadata(fma_like)
    real = load_fma_metadata(fixtures_dir / "fma")
    assert list(ours.tracks.columns) == list(real.tracks.columns)
    assert list(ours.genres.columns) == list(real.genres.columns)
    for column in ours.tracks.columns:
        assert ours.tracks[column].dtype.kind == real.tracks[column].dtype.kind or (
            ours.tracks[column].isna().all()  # empty here: pandas reads float
        ), column
    for genre_id, row in ours.genres.iterrows():  # real ids, titles and parents
        assert real.genres.loc[genre_id, ["parent", "title", "top_level"]].equals(
            row[["parent", "title", "top_level"]]
        )
    multilabel = load_fma(fma_like, target="genres_all")
    assert multilabel.target.sum(axis=1).max() == 2  # sub-genre and its parent
    titles = set(multilabel.target_names)
    assert {"Classical", "Electronic", "Hip-Hop"} < titles


def test_deterministic(tmp_path):
    first = make_fma_like(tmp_path / "a", n_clips=6, n_genres=2, duration=0.2, random_state=3)
    make_fma_like(tmp_path / "b", n_clips=6, n_genres=2, duration=0.2, random_state=3)
    assert first == str(tmp_path / "a")
    for name in ("fma_metadata/tracks.csv", "fma_metadata/genres.csv", "fma_small/checksums"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    other = make_fma_like(tmp_path / "c", n_clips=6, n_genres=2, duration=0.2, random_state=4)
    assert not np.array_equal(load_fma(other).track_ids, load_fma(first).track_ids)
