"""Reading the FMA metadata tables: the real excerpt and files in the real formats."""

import pandas as pd
import pytest

from skfma.datasets import load_fma_metadata
from skfma.exceptions import ParameterError


@pytest.fixture(scope="module")
def tracks(fixtures_dir):
    return load_fma_metadata(fixtures_dir / "fma" / "fma_metadata" / "tracks.csv")


def test_real_tracks_counts(tracks):
    assert tracks.shape == (682, 52)
    assert tracks.index.name == "track_id"
    assert (tracks.index.min(), tracks.index.max()) == (2, 932)
    assert tracks.columns.nlevels == 2
    subset = tracks["set", "subset"]
    assert (subset == "small").sum() == 58
    assert (subset <= "medium").sum() == 58 + 136  # ordered: medium contains small
    assert (subset == "large").sum() == 488
    assert tracks["set", "split"].value_counts().to_dict() == {
        "training": 563,
        "validation": 48,
        "test": 71,
    }
    assert tracks["track", "genre_top"].isna().sum() == 51


def test_real_tracks_types(tracks):
    for column in [("track", "genres"), ("track", "genres_all"), ("track", "tags")]:
        assert all(isinstance(value, list) for value in tracks[column])
    for column in [("album", "tags"), ("artist", "tags")]:
        assert all(isinstance(value, list) for value in tracks[column])
    assert tracks.loc[2, ("track", "genres")] == [21]
    assert tracks.loc[2, ("artist", "tags")] == ["awol"]
    assert tracks.loc[2, ("track", "title")] == "Food"
    assert set(tracks.loc[10, ("track", "genres_all")]) >= set(tracks.loc[10, ("track", "genres")])
    for column in [
        ("track", "date_created"),
        ("track", "date_recorded"),
        ("album", "date_created"),
        ("album", "date_released"),
        ("artist", "date_created"),
        ("artist", "active_year_begin"),
        ("artist", "active_year_end"),
    ]:
        assert pd.api.types.is_datetime64_any_dtype(tracks[column]), column
    assert tracks.loc[2, ("track", "date_created")] == pd.Timestamp("2008-11-26 01:48:12")
    assert tracks["artist", "active_year_end"].isna().sum() == 649
    subset = tracks["set", "subset"].dtype
    assert isinstance(subset, pd.CategoricalDtype) and subset.ordered
    assert list(subset.categories) == ["small", "medium", "large"]
    for column in [
        ("track", "genre_top"),
        ("track", "license"),
        ("album", "type"),
        ("album", "information"),
        ("artist", "bio"),
    ]:
        assert isinstance(tracks[column].dtype, pd.CategoricalDtype), column
    assert set(tracks["set", "split"]) == {"training", "validation", "test"}


def test_real_folder_and_genres(fixtures_dir):
    for root in (fixtures_dir / "fma", fixtures_dir / "fma" / "fma_metadata"):
        metadata = load_fma_metadata(root)
        assert metadata.directory == str(fixtures_dir / "fma" / "fma_metadata")
        assert set(metadata) == {"directory", "tracks", "genres"}
    genres = metadata.genres
    assert len(genres) == 163 and genres.index.name == "genre_id"
    assert list(genres.columns) == ["#tracks", "parent", "title", "top_level"]
    assert (genres["parent"] == 0).sum() == 16
    assert genres.loc[21, "title"] == "Hip-Hop"
    roots = genres[genres["parent"] == 0]
    assert (roots.index == roots["top_level"]).all()
    only_genres = load_fma_metadata(root, tables="genres")
    assert set(only_genres) == {"directory", "genres"}


def test_three_header_tables(tmp_path):
    """features.csv and echonest.csv: three header rows and a ``track_id`` row."""
    features = tmp_path / "features.csv"
    features.write_text(
        "feature,chroma_cens,chroma_cens,mfcc\n"
        "statistics,kurtosis,kurtosis,mean\n"
        "number,01,02,01\n"
        "track_id,,,\n"
        "2,7.18,5.23,-163.7\n"
        "3,1.88,0.76,-159.0\n"
    )
    table = load_fma_metadata(features)
    assert table.shape == (2, 3) and table.index.name == "track_id"
    assert table.columns.names == ["feature", "statistics", "number"]
    assert table.columns[1] == ("chroma_cens", "kurtosis", "02")  # numbers keep their zeros
    assert table.loc[3, ("mfcc", "mean", "01")] == -159.0
    echonest = tmp_path / "echonest.csv"
    echonest.write_text(
        ",echonest,echonest\n"
        ",audio_features,metadata\n"
        ",acousticness,artist_name\n"
        "track_id,,\n"
        "2,0.4166,AWOL\n"
    )
    table = load_fma_metadata(echonest)
    assert table.loc[2, ("echonest", "audio_features", "acousticness")] == 0.4166
    assert table.loc[2, ("echonest", "metadata", "artist_name")] == "AWOL"
    renamed = tmp_path / "mine.csv"
    renamed.write_bytes(features.read_bytes())
    assert load_fma_metadata(renamed, kind="features").equals(load_fma_metadata(features))


def test_fma_like_tracks_parse_like_the_real_ones(fma_like):
    tracks = load_fma_metadata(fma_like).tracks
    assert tracks.columns.nlevels == 2 and tracks.shape[1] == 52
    assert all(isinstance(value, list) and value for value in tracks["track", "genres_all"])
    assert pd.api.types.is_datetime64_any_dtype(tracks["track", "date_created"])
    assert tracks["set", "subset"].dtype.ordered


def test_bad_cells_name_file_column_and_track(fma_like, tmp_path):
    lines = (fma_like / "fma_metadata" / "tracks.csv").read_text().splitlines(keepends=True)
    track_id = lines[4].split(",")[0]
    bad = tmp_path / "tracks.csv"
    bad.write_text("".join(lines[:4] + [lines[4].replace(",[]", ",not a list", 1)]))
    with pytest.raises(
        ValueError, match=rf"tracks\.csv.*'tags'.*track {track_id} is not a list: 'not a list'"
    ):
        load_fma_metadata(bad)
    empty = tmp_path / "empty" / "tracks.csv"
    empty.parent.mkdir()
    empty.write_text("".join(lines[:4] + [lines[4].replace(",[]", ",", 1)]))
    assert load_fma_metadata(empty).iloc[0][("album", "tags")] == []  # a missing list is empty
    bad.write_text("".join(lines[:4] + [lines[4].replace("2017-", "the year 2017-", 1)]))
    with pytest.raises(
        ValueError, match=rf"tracks\.csv.*date_created'\): cannot parse dates: track {track_id}"
    ):
        load_fma_metadata(bad)


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.*tracks.csv"):
        load_fma_metadata(tmp_path / "nowhere" / "tracks.csv")
    with pytest.raises(FileNotFoundError, match="fma_metadata"):
        load_fma_metadata(tmp_path)
    for name in ("mine.csv", "raw_tracks.csv"):
        with pytest.raises(ParameterError, match="kind="):
            load_fma_metadata(tmp_path / name)
    with pytest.raises(ParameterError, match="kind must be one of"):
        load_fma_metadata(tmp_path / "tracks.csv", kind="albums")
    (tmp_path / "tracks.csv").write_text(",set\n,split\ntrack_id,\n")
    with pytest.raises(ParameterError, match="tables must be one of"):
        load_fma_metadata(tmp_path, tables=["tracks", "albums"])
    with pytest.raises(FileNotFoundError, match="'features' not found"):
        load_fma_metadata(tmp_path, tables=["features"])
    with pytest.raises(ParameterError, match="only for a file"):
        load_fma_metadata(tmp_path, kind="tracks")
    assert load_fma_metadata(tmp_path, tables=()).directory == str(tmp_path)


@pytest.mark.parametrize("name", ["nope", "fma_metadata"])
def test_a_missing_path_is_named_with_what_belongs_there(tmp_path, name):
    missing = tmp_path / name
    with pytest.raises(FileNotFoundError, match=r"^no such file or folder: .*") as info:
        load_fma_metadata(missing)
    message = str(info.value)
    assert repr(str(missing)) in message
    assert "fma_metadata folder (holding tracks.csv, genres.csv" in message
    assert "fetch_fma('metadata')" in message


@pytest.mark.parametrize(("name", "kind"), [("tracks.csv", None), ("mine", "genres")])
def test_a_missing_table_file_is_named_with_the_table_expected(tmp_path, name, kind):
    missing = tmp_path / name
    table = kind or "tracks"
    with pytest.raises(
        FileNotFoundError,
        match=rf"^FMA metadata file not found: .*{name}' \(expected the FMA's {table}\.csv",
    ):
        load_fma_metadata(missing, kind=kind)


def test_a_missing_table_of_a_folder_names_the_file_and_the_folder(tmp_path):
    (tmp_path / "tracks.csv").write_text("")
    with pytest.raises(
        FileNotFoundError, match=r"'genres' not found: expected .*genres\.csv"
    ) as info:
        load_fma_metadata(tmp_path, tables=("genres",))
    assert f"metadata folder {str(tmp_path)!r}" in str(info.value)
