"""load_fma on the real metadata excerpt and on FMA-like data with the known bad clips."""

import os
import shutil
import warnings

import numpy as np
import pytest
import soundfile as sf
from sklearn.utils.multiclass import type_of_target

from skfma import load_audio
from skfma.datasets import (
    NO_AUDIO_CLIPS,
    SHORT_CLIPS,
    fma_audio_path,
    load_fma,
    load_fma_metadata,
)
from skfma.exceptions import MetadataError, ParameterError


@pytest.fixture(scope="module")
def fma_root(fixtures_dir):
    return fixtures_dir / "fma"


def test_real_small(fma_root):
    fma = load_fma(fma_root)
    assert len(fma.filenames) == len(fma.target) == len(fma.track_ids) == 58
    assert fma.filenames[0] == os.path.join(fma_root, "fma_small", "000", "000002.mp3")
    assert fma.track_ids[0] == 2 and fma.target[0] == "Hip-Hop" and fma.artist_ids[0] == 1
    for path, track_id in zip(fma.filenames, fma.track_ids, strict=True):
        assert path.endswith(f"{track_id // 1000:03d}{os.sep}{track_id:06d}.mp3")
    assert fma.track_ids.dtype == np.int64 and fma.artist_ids.dtype == np.int64
    assert list(fma.tracks.index) == list(fma.track_ids)
    assert (fma.tracks["set", "subset"] == "small").all()
    np.testing.assert_array_equal(fma.artist_ids, fma.tracks["artist", "id"])
    np.testing.assert_array_equal(fma.split, fma.tracks["set", "split"].astype(str))
    assert list(fma.target_names) == sorted(set(fma.target))
    assert len(fma.genres) == 163
    assert fma.excluded == {} and fma.dropped_target_names == []


def test_real_splits_and_subsets(fma_root, tmp_path):
    tracks = load_fma_metadata(fma_root).tracks
    small = tracks[tracks["set", "subset"] == "small"]
    training = load_fma(fma_root, split="training")
    assert len(training.filenames) == (small["set", "split"] == "training").sum()
    assert set(training.split) == {"training"}
    held_out = load_fma(fma_root, split=["validation", "test"])
    assert len(training.filenames) + len(held_out.filenames) == 58
    assert not set(training.artist_ids) & set(held_out.artist_ids)  # FMA splits by artist
    medium = load_fma(fma_root, subset="medium", audio_dir=tmp_path)
    assert len(medium.filenames) == 58 + 136
    assert medium.filenames[1] == os.path.join(tmp_path, "000", "000003.mp3")


def test_real_large_without_genre_top(fma_root, tmp_path):
    large = load_fma(fma_root, subset="large", audio_dir=tmp_path)
    assert len(large.filenames) == 682 - 51
    assert len(large.excluded) == 51 and set(large.excluded.values()) == {"no genre_top"}
    assert all(isinstance(label, str) for label in large.target)
    full = load_fma(fma_root, subset="full", audio_dir=tmp_path)
    np.testing.assert_array_equal(full.track_ids, large.track_ids)


@pytest.mark.parametrize("target", ["genres", "genres_all"])
def test_real_multilabel(fma_root, tmp_path, target):
    fma = load_fma(fma_root, subset="large", target=target, audio_dir=tmp_path)
    assert fma.target.dtype == np.uint8 and fma.target.shape == (681, len(fma.target_names))
    assert type_of_target(fma.target) == "multilabel-indicator"
    assert fma.target.sum(axis=0).min() > 0  # only genres that occur
    titles = fma.genres["title"]
    for row, ids in zip(fma.target, fma.tracks["track", target], strict=True):
        assert set(fma.target_names[row == 1]) == {titles[i] for i in ids}
    (track_id, reason), *others = fma.excluded.items()  # one real track lists no genre
    assert not others and reason == f"no genre listed in ('track', {target!r})"
    assert track_id not in fma.track_ids
    used = sorted({genre_id for ids in fma.tracks["track", target] for genre_id in ids})
    assert list(fma.target_names) == list(titles[used])  # in genre_id order


def test_real_first_genre(fma_root, tmp_path):
    fma = load_fma(fma_root, subset="large", target="first_genre", audio_dir=tmp_path)
    titles = fma.genres["title"]
    expected = [titles[ids[0]] for ids in fma.tracks["track", "genres"]]
    assert list(fma.target) == expected and len(expected) == 681


def test_real_top_genres_single_label(fma_root, tmp_path):
    everything = load_fma(fma_root, subset="large", audio_dir=tmp_path)
    labels, counts = np.unique(everything.target, return_counts=True)
    order = sorted(zip(-counts, labels, strict=True))
    top = sorted(label for _, label in order[:3])
    fma = load_fma(fma_root, subset="large", n_top_genres=3, audio_dir=tmp_path)
    assert list(fma.target_names) == top and set(fma.target) == set(top)
    assert fma.dropped_target_names == [label for _, label in order[3:]]
    n_dropped = len(everything.target) - len(fma.target)
    assert n_dropped > 0 and len(fma.excluded) == 51 + n_dropped
    assert "not among the 3 most frequent" in fma.excluded[int(everything.track_ids[0])]
    test = load_fma(fma_root, subset="large", split="test", n_top_genres=3, audio_dir=tmp_path)
    assert list(test.target_names) == top  # ranked on the whole subset, not per split


def test_real_top_genres_multilabel(fma_root, tmp_path):
    everything = load_fma(fma_root, subset="large", target="genres_all", audio_dir=tmp_path)
    fma = load_fma(
        fma_root, subset="large", target="genres_all", n_top_genres=4, audio_dir=tmp_path
    )
    counts = dict(zip(everything.target_names, everything.target.sum(axis=0), strict=True))
    assert len(fma.target_names) == 4
    assert min(counts[name] for name in fma.target_names) >= max(
        counts[name] for name in fma.dropped_target_names
    )
    assert fma.target.sum(axis=1).min() == 1
    assert len(fma.target) + len(fma.excluded) == 682
    assert set(fma.excluded.values()) == {
        "none of its genres is among the 4 most frequent",
        "no genre listed in ('track', 'genres_all')",
    }


def test_real_check_files(fma_root, fma_mp3):
    with pytest.warns(UserWarning, match=r"57 of 58 fma_small audio files .*\(000005\.mp3"):
        fma = load_fma(fma_root, check_files=True)
    assert list(fma.filenames) == [str(fma_mp3)] and list(fma.target) == ["Hip-Hop"]
    assert len(fma.excluded) == 57
    assert fma.excluded[5].startswith("audio file file not found: ")


def _with_track_ids(source, destination, new_ids):
    """Copy an FMA-like dataset, renaming its first tracks to ``new_ids`` (metadata and audio)."""
    shutil.copytree(source, destination)
    path = destination / "fma_metadata" / "tracks.csv"
    lines = path.read_text().splitlines(keepends=True)
    tracks = load_fma_metadata(source).tracks
    for row, new_id in enumerate(new_ids):
        old_id, rest = lines[3 + row].split(",", 1)
        lines[3 + row] = f"{new_id},{rest}"
        old = destination / "fma_small" / f"{int(old_id):06d}"[:3] / f"{int(old_id):06d}.mp3"
        new = destination / "fma_small" / f"{new_id:06d}"[:3] / f"{new_id:06d}.mp3"
        new.parent.mkdir(exist_ok=True)
        old.rename(new)
    path.write_text("".join(lines))
    return tracks.index[: len(new_ids)]


def test_known_bad_clips(fma_like, tmp_path):
    bad = [*NO_AUDIO_CLIPS, *SHORT_CLIPS]
    _with_track_ids(fma_like, tmp_path / "data", bad)
    fma = load_fma(tmp_path / "data")
    assert len(fma.filenames) == 24 - 6 and not set(bad) & set(fma.track_ids)
    assert sorted(fma.excluded) == sorted(bad)
    assert "no audio" in fma.excluded[99134]
    assert "shorter than 30 s" in fma.excluded[98565]
    kept = load_fma(tmp_path / "data", keep_short_clips=True)
    assert sorted(kept.excluded) == sorted(NO_AUDIO_CLIPS)
    assert set(SHORT_CLIPS) <= set(kept.track_ids)
    assert all(os.path.exists(path) for path in kept.filenames)
    full = load_fma(tmp_path / "data", subset="full", audio_dir=tmp_path / "data" / "fma_small")
    assert full.excluded == {} and len(full.filenames) == 24


def test_excluded_only_lists_the_selected_split(fma_like, tmp_path):
    _with_track_ids(fma_like, tmp_path / "data", [*NO_AUDIO_CLIPS, *SHORT_CLIPS])
    everything = load_fma(tmp_path / "data")
    for split in ("training", "validation", "test"):
        fma = load_fma(tmp_path / "data", split=split)
        tracks = load_fma_metadata(tmp_path / "data").tracks
        in_split = set(tracks.index[tracks["set", "split"] == split])
        assert set(fma.excluded) == set(everything.excluded) & in_split


def test_check_files_reports_undecodable(fma_like, tmp_path):
    shutil.copytree(fma_like, tmp_path / "data")
    fma = load_fma(tmp_path / "data")
    with open(fma.filenames[3], "wb") as file:
        file.write(b"this is not audio" * 100)
    os.remove(fma.filenames[5])
    with pytest.warns(UserWarning, match="2 of 24"):
        checked = load_fma(tmp_path / "data", check_files=True)
    assert sorted(checked.excluded) == sorted(fma.track_ids[[3, 5]])
    assert "not a decodable audio file" in checked.excluded[int(fma.track_ids[3])]
    assert "file not found" in checked.excluded[int(fma.track_ids[5])]
    assert len(checked.filenames) == len(checked.target) == len(checked.tracks) == 22


def test_min_duration_excludes_and_reports_short_clips(fma_like, tmp_path):
    """Report 001 dropped the clips shorter than 29.7 s; the synthetic clips last 0.5 s."""
    shutil.copytree(fma_like, tmp_path / "data")
    fma = load_fma(tmp_path / "data")
    y, sr = load_audio(fma.filenames[2], sr=None)
    sf.write(fma.filenames[2], y[: sr // 4], sr)  # a 0.25 s clip
    with pytest.warns(UserWarning, match="1 of 24"):
        long_enough = load_fma(tmp_path / "data", min_duration=0.4)
    assert list(long_enough.excluded) == [int(fma.track_ids[2])]
    assert "shorter than min_duration=0.4" in long_enough.excluded[int(fma.track_ids[2])]
    assert len(long_enough.filenames) == len(long_enough.target) == 23
    with pytest.raises(ParameterError, match="^load_fma: min_duration"):
        load_fma(tmp_path / "data", min_duration=-1.0)


def test_overrides_and_errors(fma_like, tmp_path):
    fma = load_fma(None, metadata_dir=fma_like / "fma_metadata", audio_dir=fma_like / "fma_small")
    assert len(fma.filenames) == 24
    with pytest.raises(FileNotFoundError, match=r"fma_medium.*fetch_fma\('medium'\)"):
        load_fma(fma_like, subset="medium")
    with pytest.raises(FileNotFoundError, match="no FMA metadata"):
        load_fma(tmp_path)
    with pytest.raises(ParameterError, match="subset must be one of"):
        load_fma(fma_like, subset="tiny")
    with pytest.raises(ParameterError, match="target must be one of"):
        load_fma(fma_like, target="mood")
    with pytest.raises(ParameterError, match="split must be one of"):
        load_fma(fma_like, split="train")
    with pytest.raises(ParameterError, match="at least one split"):
        load_fma(fma_like, split=[])
    for n_top in (0, True, 2.0):
        with pytest.raises(ParameterError, match="n_top_genres"):
            load_fma(fma_like, n_top_genres=n_top)
    with pytest.raises(ParameterError, match="root may only be None"):
        load_fma(None, audio_dir=tmp_path)


def test_real_genre_combination(fma_root, tmp_path):
    """Report 000: each combination of listed genres is its own class."""
    fma = load_fma(fma_root, subset="large", target="genre_combination", audio_dir=tmp_path)
    titles = fma.genres["title"]
    expected = [" + ".join(titles[sorted(ids)]) for ids in fma.tracks["track", "genres"]]
    assert list(fma.target) == expected and len(expected) == 681
    assert any(" + " in label for label in expected)  # some tracks list several genres
    assert list(fma.target_names) == sorted(set(expected))
    top = load_fma(
        fma_root, subset="large", target="genre_combination", n_top_genres=4, audio_dir=tmp_path
    )
    labels, counts = np.unique(expected, return_counts=True)
    ranked = [label for _, label in sorted(zip(-counts, labels, strict=True))]
    assert sorted(set(top.target)) == sorted(ranked[:4]) == list(top.target_names)


def _write_features_csv(directory, rows):
    """A features.csv in the released layout with two feature columns: track id -> 2 values."""
    lines = [
        "feature,mfcc,zcr",
        "statistics,mean,std",
        "number,01,01",
        "track_id,,",
        *(f"{tid},{a},{b}" for tid, (a, b) in rows.items()),
    ]
    (directory / "features.csv").write_text("\n".join(lines) + "\n")


def test_features_csv_aligned_to_the_tracks_without_audio(fma_like, tmp_path):
    """Report 000 trains on the released features.csv: no audio folder needed."""
    shutil.copytree(fma_like / "fma_metadata", tmp_path / "fma_metadata")
    ids = load_fma(fma_like).track_ids
    rows = {int(tid): (float(tid), -float(tid)) for tid in ids[::-1]}  # in another order
    del rows[int(ids[3])]
    rows[int(ids[5])] = (1.5, "")  # a missing value
    rows[int(ids[6])] = ("inf", 2.0)  # an infinite one
    rows[999999] = (0.0, 0.0)  # a track of no subset: ignored
    _write_features_csv(tmp_path / "fma_metadata", rows)

    with pytest.warns(UserWarning, match="3 of 24 tracks have no complete row in features.csv"):
        fma = load_fma(tmp_path, features=True)
    assert fma.filenames is None and fma.audio_dir is None
    assert fma.excluded == {
        int(ids[3]): "has no row in features.csv",
        int(ids[5]): "has missing or infinite values in features.csv",
        int(ids[6]): "has missing or infinite values in features.csv",
    }
    assert len(fma.track_ids) == len(fma.target) == len(fma.features) == 21
    assert (fma.features.dtypes == np.float64).all()
    np.testing.assert_array_equal(fma.features.index, fma.track_ids)
    np.testing.assert_array_equal(fma.features[("mfcc", "mean", "01")], fma.track_ids)
    assert fma.features.columns.names == ["feature", "statistics", "number"]
    with pytest.raises(FileNotFoundError, match="unless check_files or min_duration"):
        load_fma(tmp_path, features=True, check_files=True)
    with pytest.raises(ParameterError, match="^load_fma: features must be True or False"):
        load_fma(tmp_path, features="yes")

    shutil.copytree(fma_like / "fma_small", tmp_path / "fma_small")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the incomplete rows, as above
        with_audio = load_fma(tmp_path, features=True, split="training")
    expected = [fma_audio_path(tmp_path / "fma_small", tid) for tid in with_audio.track_ids]
    assert list(with_audio.filenames) == expected
    np.testing.assert_array_equal(with_audio.features.index, with_audio.track_ids)


@pytest.mark.parametrize("value", ["x", "True"])
def test_features_csv_with_values_that_are_not_numbers_names_the_file_and_column(
    fma_like, tmp_path, value
):
    shutil.copytree(fma_like / "fma_metadata", tmp_path / "fma_metadata")
    ids = load_fma(fma_like).track_ids
    rows = {int(tid): (1.0, value if value == "True" else 2.0) for tid in ids}  # all booleans
    rows[int(ids[4])] = (1.0, value)
    _write_features_csv(tmp_path / "fma_metadata", rows)
    with pytest.raises(MetadataError, match=rf"features\.csv'.*'zcr'.*not numbers.*'?{value}'? "):
        load_fma(tmp_path, features=True)
