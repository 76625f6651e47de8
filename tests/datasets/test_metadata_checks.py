"""Malformed FMA metadata: every bad table gets a MetadataError naming its file and column."""

import csv
import gzip
import pickle
import re
import shutil
import warnings

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold

from skfma.datasets import load_fma, load_fma_metadata
from skfma.datasets._metadata import GENRES_COLUMNS, SPLITS, SUBSETS, TRACKS_REQUIRED
from skfma.exceptions import MetadataError


def _rows(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    return path


@pytest.fixture
def copy(fma_like, tmp_path):
    """A copy of the FMA-like dataset, and its tracks.csv and genres.csv as lists of rows."""
    root = tmp_path / "data"
    shutil.copytree(fma_like, root)
    metadata = root / "fma_metadata"
    return root, _rows(metadata / "tracks.csv"), _rows(metadata / "genres.csv")


def _tracks_column(rows, column):
    """The position of a (level 0, level 1) column in tracks.csv's rows."""
    return list(zip(rows[0], rows[1], strict=True)).index(column)


def _set_cell(rows, row, column, value):
    rows[row][_tracks_column(rows, column)] = value
    return rows


def _raises_naming(path, column, match=""):
    """pytest.raises for a MetadataError whose message names ``path`` and ``column``."""
    where = f"{str(path)!r}" + ("" if column is None else f", column {column!r}")
    return pytest.raises(MetadataError, match=f"^metadata file {re.escape(where)}: .*{match}")


def test_metadata_error_is_a_value_error_and_pickles():
    error = MetadataError("x/tracks.csv", "bad", ("set", "split"))
    assert isinstance(error, ValueError)
    again = pickle.loads(pickle.dumps(error))
    assert (again.path, again.reason, again.column, str(again)) == (
        error.path,
        error.reason,
        error.column,
        str(error),
    )


def test_real_tables_pass_the_checks_silently(fixtures_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metadata = load_fma_metadata(fixtures_dir / "fma")
    assert metadata.tracks.shape == (682, 52) and metadata.genres.shape == (163, 4)
    assert metadata.tracks["artist", "id"].dtype == np.int64


UNREADABLE = {
    "empty": (b"", "the file is empty"),
    "binary": (bytes(range(256)) * 8, "binary data|not a readable CSV table"),
    "unclosed quote": (b',set\n,split\ntrack_id,\n2,"training\n', "not a readable CSV table"),
    "header cut short": (b",set,set\n", "not a readable CSV table|header rows"),
}


@pytest.mark.parametrize("kind", ["tracks", "genres", "features", "echonest"])
@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_unreadable_files_name_themselves(tmp_path, kind, case):
    content, match = UNREADABLE[case]
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(content)
    with _raises_naming(path, None, f"({match})"):
        load_fma_metadata(path)


@pytest.mark.parametrize("kind", ["tracks", "genres"])
def test_truncated_compressed_file(copy, tmp_path, kind):
    root, *_ = copy
    packed = gzip.compress((root / "fma_metadata" / f"{kind}.csv").read_bytes())
    path = tmp_path / f"{kind}.csv.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with _raises_naming(path, None, "cannot decompress it, it may be truncated"):
        load_fma_metadata(path)


@pytest.mark.parametrize("kind", ["tracks", "genres"])
def test_a_plain_file_cut_inside_its_last_row(copy, tmp_path, kind):
    """pandas filled the cut row with NaN: a genre cut to 'Spo' became a class of its own."""
    root, *_ = copy
    content = (root / "fma_metadata" / f"{kind}.csv").read_bytes()
    assert content.endswith(b"\n")
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(content[:-4])
    with _raises_naming(path, None, "its last row has no line break: the file is truncated"):
        load_fma_metadata(path)
    path.write_bytes(content[: content.rindex(b"\n", 0, -1) + 1])  # cut between rows: whole rows
    whole = load_fma_metadata(root / "fma_metadata" / f"{kind}.csv")
    assert len(load_fma_metadata(path)) == len(whole) - 1


HEADER_DAMAGE = {
    "no first header row": lambda rows: rows[1:],
    "no second header row": lambda rows: rows[:1] + rows[2:],
    "no track_id row": lambda rows: rows[:2] + rows[3:],
    "a blank column name": lambda rows: [rows[0], ["", "", *rows[1][2:]], *rows[2:]],
    "a row with an extra field": lambda rows: [*rows[:3], [*rows[3], "extra"], *rows[4:]],
}


@pytest.mark.parametrize("damage", sorted(HEADER_DAMAGE))
def test_tracks_header_rows_are_checked(copy, tmp_path, damage):
    _, rows, _ = copy
    path = _write(tmp_path / "tracks.csv", HEADER_DAMAGE[damage](rows))
    with _raises_naming(path, None, "header rows are not those of an FMA table"):
        load_fma_metadata(path)


@pytest.mark.parametrize(
    "kind, text",
    [
        ("genres", "#tracks,parent,title,top_level\n1,0,Pop,1\n"),  # no genre_id header
        ("features", "feature,mfcc\nstatistics,mean\ntrack_id,\n2,0.5\n"),  # two header rows
        ("echonest", ",echonest\n,audio_features\n,tempo\n2,120.0\n"),  # no track_id row
    ],
)
def test_other_headers_are_checked(tmp_path, kind, text):
    path = tmp_path / f"{kind}.csv"
    path.write_text(text)
    with _raises_naming(path, None, "header rows are not those of an FMA table"):
        load_fma_metadata(path)


@pytest.mark.parametrize("column", TRACKS_REQUIRED, ids=str)
def test_every_required_tracks_column_is_checked(copy, tmp_path, column):
    _, rows, _ = copy
    position = _tracks_column(rows, column)
    path = _write(tmp_path / "tracks.csv", [row[:position] + row[position + 1 :] for row in rows])
    with _raises_naming(path, None, f"required column missing: {re.escape(str(column))}"):
        load_fma_metadata(path)
    with _raises_naming(path, None, "required column"):  # load_fma reads it the same way
        load_fma(None, metadata_dir=path.parent, audio_dir=tmp_path)


def test_every_missing_column_is_listed(copy, tmp_path):
    _, rows, _ = copy
    keep = [j for j, level in enumerate(rows[0]) if level != "set"]
    path = _write(tmp_path / "tracks.csv", [[row[j] for j in keep] for row in rows])
    with _raises_naming(path, None, r"columns missing: \('set', 'subset'\), \('set', 'split'\)\.$"):
        load_fma_metadata(path)


@pytest.mark.parametrize("column", GENRES_COLUMNS)
def test_every_genres_column_is_checked(copy, tmp_path, column):
    _, _, rows = copy
    position = rows[0].index(column)
    path = _write(tmp_path / "genres.csv", [row[:position] + row[position + 1 :] for row in rows])
    with _raises_naming(path, None, f"required column missing: {re.escape(repr(column))}"):
        load_fma_metadata(path)


BAD_IDS = {
    "not a number": ("abc", "positive integers"),
    "fractional": ("2.5", "positive integers"),
    "zero": ("0", "positive integers"),
    "negative": ("-4", "positive integers"),
    "missing": ("", "positive integers"),
    "repeated": (None, "unique; repeated"),
    "repeated as a float": ("{}.0", "unique; repeated"),
}


@pytest.mark.parametrize("case", sorted(BAD_IDS))
@pytest.mark.parametrize("kind", ["tracks", "genres"])
def test_ids_are_unique_positive_integers(copy, tmp_path, kind, case):
    _, tracks, genres = copy
    rows, first, name = (tracks, 3, "track_id") if kind == "tracks" else (genres, 1, "genre_id")
    value, match = BAD_IDS[case]
    rows[first + 1][0] = rows[first][0] if value is None else value.format(rows[first][0])
    path = _write(tmp_path / f"{kind}.csv", rows)
    with _raises_naming(path, name, match):
        load_fma_metadata(path)


@pytest.mark.parametrize("kind", ["tracks", "genres"])
def test_ids_written_as_floats_are_integers(copy, tmp_path, kind):
    """A '2.0' id gave a float index, refused later as a track id without naming the file."""
    _, tracks, genres = copy
    rows, first = (tracks, 3) if kind == "tracks" else (genres, 1)
    ids = [int(row[0]) for row in rows[first:]]
    rows[first][0] += ".0"
    table = load_fma_metadata(_write(tmp_path / f"{kind}.csv", rows))
    assert table.index.dtype == np.int64 and table.index.tolist() == ids


BAD_CELLS = {
    (("track", "genres"), "[21, 'Rock']"): "is not a list of genre ids",
    (("track", "genres_all"), "[True]"): "is not a list of genre ids",
    (("track", "genres"), "21"): "is not a list",
    (("artist", "tags"), "['unclosed'"): "is not a list",
    (("track", "date_created"), "yesterday"): "cannot parse dates",
    (("artist", "id"), "abc"): "artist ids must be positive integers; got track .*: 'abc'",
    (("artist", "id"), "1.5"): "artist ids must be positive integers",
    (("artist", "id"), "0"): "artist ids must be positive integers",
}


@pytest.mark.parametrize("column, value", sorted(BAD_CELLS), ids=str)
def test_bad_cells_name_the_column(copy, tmp_path, column, value):
    _, rows, _ = copy
    path = _write(tmp_path / "tracks.csv", _set_cell(rows, 5, column, value))
    with _raises_naming(path, column, BAD_CELLS[column, value]):
        load_fma_metadata(path)


def test_genre_title_missing(copy, tmp_path):
    _, _, rows = copy
    rows[2][rows[0].index("title")] = ""
    path = _write(tmp_path / "genres.csv", rows)
    with _raises_naming(path, "title", f"genres without a title: {rows[2][0]}"):
        load_fma_metadata(path)


def test_genre_titles_are_unique(copy, tmp_path):
    """Classes are named by title: two genres of one title made two columns of one name."""
    _, _, rows = copy
    title = rows[0].index("title")
    rows[2][title] = rows[1][title]
    path = _write(tmp_path / "genres.csv", rows)
    with _raises_naming(path, "title", f"titles must be unique; repeated: {rows[1][title]}"):
        load_fma_metadata(path)


def test_genre_id_unknown_to_genres_csv(copy):
    root, rows, _ = copy
    track_id = rows[3][0]
    path = _write(
        root / "fma_metadata" / "tracks.csv", _set_cell(rows, 3, ("track", "genres"), "[999]")
    )
    with _raises_naming(path, ("track", "genres"), f"track {track_id} lists genre ids \\[999\\]"):
        load_fma(root, target="genres")


@pytest.mark.parametrize(
    "column, allowed, values",
    [
        (("set", "subset"), SUBSETS, ["tiny", "", "Small"]),
        (("set", "split"), SPLITS, ["train", "", "TEST"]),
    ],
    ids=["subset", "split"],
)
def test_unknown_subset_or_split_is_excluded_and_reported(copy, column, allowed, values):
    root, rows, _ = copy
    path = root / "fma_metadata" / "tracks.csv"
    bad = {int(rows[3 + row][0]): value for row, value in enumerate(values)}
    for row, value in enumerate(values):
        _set_cell(rows, 3 + row, column, value)
    _write(path, rows)
    with pytest.warns(
        UserWarning, match=rf"{re.escape(str(path))}.*{re.escape(str(column))}: 3 tracks"
    ):
        tracks = load_fma_metadata(path)
    assert tracks.loc[list(bad), column].isna().all()
    assert set(tracks[column].dropna()) <= set(allowed)
    every = set()
    for split in (None, *SPLITS):
        with pytest.warns(UserWarning, match="lists them in its excluded"):
            fma = load_fma(root, split=split)
        assert not set(bad) & set(fma.track_ids)
        every |= set(fma.track_ids)
        for track_id, value in bad.items():
            # A track with an unknown split could be in any split; one with an unknown
            # subset is reported by the selections of its split.
            if split in (None, tracks.loc[track_id, ("set", "split")]) or column[1] == "split":
                what = "is missing" if value == "" else f"is {value!r}, not one of"
                assert fma.excluded[track_id].startswith(f"its {column} in {str(path)!r} {what}")
            else:
                assert track_id not in fma.excluded
    assert every | set(bad) == set(tracks.index)  # every track is selected or reported


def test_missing_artist_id_is_its_own_group(copy):
    root, rows, _ = copy
    path = root / "fma_metadata" / "tracks.csv"
    missing = [int(rows[row][0]) for row in (3, 4, 9)]
    for row in (3, 4, 9):
        _set_cell(rows, row, ("artist", "id"), "")
    _write(path, rows)
    with pytest.warns(UserWarning, match=r"'artist', 'id'\): 3 tracks have no artist id"):
        tracks = load_fma_metadata(path)
    assert tracks.loc[missing, ("artist", "id")].isna().all()
    with pytest.warns(UserWarning, match="its own group"):
        fma = load_fma(root)
    assert fma.artist_ids.dtype == np.int64 and len(fma.track_ids) == 24 and fma.excluded == {}
    groups = dict(zip(fma.track_ids, fma.artist_ids, strict=True))
    assert [groups[track_id] for track_id in missing] == [-track_id for track_id in missing]
    others = [group for track_id, group in groups.items() if track_id not in missing]
    assert min(others) > 0
    for train, test in GroupKFold(n_splits=3).split(fma.filenames, groups=fma.artist_ids):
        assert not set(fma.artist_ids[train]) & set(fma.artist_ids[test])
        assert len(test) <= 10  # no fake artist gathering the tracks without one
