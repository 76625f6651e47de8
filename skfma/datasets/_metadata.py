"""Reading the FMA metadata tables (``tracks.csv``, ``genres.csv``, ``features.csv``, ...)."""

import ast
import os

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..exceptions import ParameterError
from ..utils import check_choice, names_its_errors

__all__ = ["load_fma_metadata", "find_metadata_dir"]

#: The tables that :func:`load_fma_metadata` knows, in the order used to infer a file's table.
TABLES = ("features", "echonest", "genres", "tracks")

#: The subsets, smallest first: each is contained in the next.
SUBSETS = ("small", "medium", "large")

#: ``tracks.csv`` columns stored as Python-literal lists.
LIST_COLUMNS = (
    ("track", "tags"),
    ("album", "tags"),
    ("artist", "tags"),
    ("track", "genres"),
    ("track", "genres_all"),
)

#: ``tracks.csv`` columns holding dates.
DATE_COLUMNS = (
    ("track", "date_created"),
    ("track", "date_recorded"),
    ("album", "date_created"),
    ("album", "date_released"),
    ("artist", "date_created"),
    ("artist", "active_year_begin"),
    ("artist", "active_year_end"),
)

#: ``tracks.csv`` columns with few distinct values, stored as categoricals.
CATEGORY_COLUMNS = (
    ("track", "genre_top"),
    ("track", "license"),
    ("album", "type"),
    ("album", "information"),
    ("artist", "bio"),
)


@names_its_errors
def load_fma_metadata(root_or_file, *, tables=("tracks", "genres"), kind=None):
    """Read FMA metadata tables as the FMA reference ``utils.load`` does.

    ``tracks.csv`` has two header rows (``('track', 'title')``, ...) and the
    index ``track_id``. Its list columns (``('track', 'genres')``,
    ``('track', 'genres_all')`` and the three ``tags``) are parsed from their
    Python-literal text, the seven date columns become datetimes,
    ``('set', 'subset')`` becomes an ordered categorical ``small < medium <
    large`` (so ``tracks['set', 'subset'] <= 'medium'`` selects the nested
    medium set), ``('set', 'split')`` keeps ``training`` / ``validation`` /
    ``test``, and ``genre_top``, ``license``, album ``type`` and
    ``information`` and artist ``bio`` become categoricals. ``genres.csv`` is
    indexed by ``genre_id`` (columns ``#tracks``, ``parent``, ``title``,
    ``top_level``; roots have ``parent == 0``). ``features.csv`` and
    ``echonest.csv`` have three header rows and the index ``track_id``.

    Parameters
    ----------
    root_or_file : str or os.PathLike
        A metadata file (``.../tracks.csv``; compressed ``.csv.gz`` and the
        like work too), or a folder: either the ``fma_metadata`` folder itself
        or a folder that contains it.
    tables : sequence of {"tracks", "genres", "features", "echonest"}, \
default=("tracks", "genres")
        The tables to read when ``root_or_file`` is a folder.
        ``features.csv`` (about 1 GB) and ``echonest.csv`` are slow to read, so
        they are only read on request.
    kind : {"tracks", "genres", "features", "echonest"} or None, default=None
        Which table a file holds. ``None`` infers it from the file name, which
        must contain one of these words. Only for a file.

    Returns
    -------
    metadata : pandas.DataFrame or sklearn.utils.Bunch
        For a file, its table. For a folder, a Bunch with one DataFrame per
        requested table (``metadata.tracks``, ``metadata.genres``, ...) and
        ``metadata.directory``, the ``fma_metadata`` folder read.

    Raises
    ------
    FileNotFoundError
        If the file, or a requested table of the folder, does not exist.
    ParameterError
        If ``kind`` or ``tables`` is invalid, or the table of a file cannot be
        inferred from its name.
    ValueError
        If a list or date column of ``tracks.csv`` cannot be parsed; the
        message names the file, the column and the track.

    See Also
    --------
    load_fma : the audio file paths and labels of a subset, ready for a pipeline.

    Examples
    --------
    >>> from skfma.datasets import load_fma_metadata
    >>> tracks = load_fma_metadata("fma_metadata/tracks.csv")  # doctest: +SKIP
    >>> small = tracks[tracks["set", "subset"] <= "small"]  # doctest: +SKIP
    >>> small["track", "genre_top"].value_counts().head(2)  # doctest: +SKIP
    """
    path = os.path.expanduser(os.fspath(root_or_file))
    if not os.path.isdir(path):
        if kind is None:
            kind = _infer_table(path)
        check_choice("kind", kind, TABLES)
        if not os.path.exists(path):
            raise FileNotFoundError(f"FMA metadata file not found: {path!r}")
        return _READERS[kind](path)
    if kind is not None:
        raise ParameterError(f"kind is only for a file; {path!r} is a folder (use tables=).")
    if isinstance(tables, str):
        tables = (tables,)
    for table in tables:
        check_choice("tables", table, TABLES)
    directory = find_metadata_dir(path)
    metadata = Bunch(directory=directory)
    for table in tables:
        file = os.path.join(directory, f"{table}.csv")
        if not os.path.exists(file):
            raise FileNotFoundError(f"FMA metadata table {table!r} not found: {file!r}")
        metadata[table] = _READERS[table](file)
    return metadata


def find_metadata_dir(path):
    """The folder holding ``tracks.csv``: ``path`` itself or ``path/fma_metadata``.

    Parameters
    ----------
    path : str or os.PathLike
        The ``fma_metadata`` folder or a folder containing it.

    Returns
    -------
    directory : str

    Raises
    ------
    FileNotFoundError
        If neither holds ``tracks.csv``; the message names both places.
    """
    path = os.fspath(path)
    for directory in (path, os.path.join(path, "fma_metadata")):
        if os.path.isfile(os.path.join(directory, "tracks.csv")):
            return directory
    expected = os.path.join(path, "fma_metadata", "tracks.csv")
    raise FileNotFoundError(
        f"no FMA metadata in {path!r}: expected {expected!r} or "
        f"{os.path.join(path, 'tracks.csv')!r} (fetch_fma('metadata') downloads it)."
    )


def _infer_table(path):
    """The table a file holds, from its exact name (``tracks.csv``, ``genres.csv.gz``, ...)."""
    stem = os.path.basename(path).split(".")[0]
    if stem in TABLES:
        return stem
    raise ParameterError(
        f"cannot tell which FMA table {path!r} holds from its name; pass kind= one of "
        f"{', '.join(map(repr, TABLES))}."
    )


def _read_tracks(path):
    """``tracks.csv``: two header rows, list, date, subset and categorical columns parsed."""
    tracks = pd.read_csv(path, index_col=0, header=[0, 1])
    for column in LIST_COLUMNS:
        parsed = np.empty(len(tracks), dtype=object)
        for row, (track_id, value) in enumerate(tracks[column].items()):
            parsed[row] = _parse_list(value, path, column, track_id)
        tracks[column] = parsed
    for column in DATE_COLUMNS:
        try:
            tracks[column] = pd.to_datetime(tracks[column], format="ISO8601")
        except (ValueError, TypeError) as error:
            raise ValueError(f"{path!r}: cannot parse dates of column {column}: {error}") from None
    subsets = pd.CategoricalDtype(categories=list(SUBSETS), ordered=True)
    tracks["set", "subset"] = tracks["set", "subset"].astype(subsets)
    for column in CATEGORY_COLUMNS:
        tracks[column] = tracks[column].astype("category")
    return tracks


def _parse_list(value, path, column, track_id):
    """A list column's cell: ``"[21, 76]"`` -> ``[21, 76]``; a missing cell -> ``[]``."""
    if not isinstance(value, str):
        if pd.isna(value):
            return []
        raise ValueError(f"{path!r}: column {column} of track {track_id} is not a list: {value!r}")
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = None
    if not isinstance(parsed, list):
        raise ValueError(f"{path!r}: column {column} of track {track_id} is not a list: {value!r}")
    return parsed


def _read_genres(path):
    return pd.read_csv(path, index_col=0)


def _read_three_headers(path):
    return pd.read_csv(path, index_col=0, header=[0, 1, 2])


_READERS = {
    "tracks": _read_tracks,
    "genres": _read_genres,
    "features": _read_three_headers,
    "echonest": _read_three_headers,
}
