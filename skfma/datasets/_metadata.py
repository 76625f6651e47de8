"""Reading the FMA metadata tables (``tracks.csv``, ``genres.csv``, ``features.csv``, ...)."""

import ast
import functools
import lzma
import os
import zipfile
import zlib

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..exceptions import MetadataError, ParameterError
from ..utils import check_choice, expand_path, is_int, validate_arguments
from ..utils._warnings import warn_user

__all__ = ["load_fma_metadata", "find_metadata_dir"]

#: The tables that :func:`load_fma_metadata` knows, in the order used to infer a file's table.
TABLES = ("features", "echonest", "genres", "tracks")

#: The subsets, smallest first: each is contained in the next.
SUBSETS = ("small", "medium", "large")

#: The FMA splits (each artist is in one).
SPLITS = ("training", "validation", "test")

SUBSET_COLUMN = ("set", "subset")
SPLIT_COLUMN = ("set", "split")
ARTIST_COLUMN = ("artist", "id")

#: ``tracks.csv`` columns stored as Python-literal lists.
LIST_COLUMNS = (
    ("track", "tags"),
    ("album", "tags"),
    ("artist", "tags"),
    ("track", "genres"),
    ("track", "genres_all"),
)

#: The list columns holding genre ids.
GENRE_LIST_COLUMNS = (("track", "genres"), ("track", "genres_all"))

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

#: The ``tracks.csv`` columns that :func:`load_fma_metadata` and :func:`load_fma` need.
TRACKS_REQUIRED = (
    SUBSET_COLUMN,
    SPLIT_COLUMN,
    ARTIST_COLUMN,
    *LIST_COLUMNS,
    *DATE_COLUMNS,
    *CATEGORY_COLUMNS,
)

#: ``genres.csv``'s columns (its index is ``genre_id``).
GENRES_COLUMNS = ("#tracks", "parent", "title", "top_level")

#: The header of each layout: number of header rows, index name, description for errors.
TRACKS_HEADER = (
    2,
    "track_id",
    "two header rows (',album,album,...' and ',comments,date_created,...') then a "
    "'track_id,,,...' row",
)
GENRES_HEADER = (1, "genre_id", "one header row 'genre_id,#tracks,parent,title,top_level'")
THREE_HEADERS = (3, "track_id", "three header rows then a 'track_id,,,...' row")


def _check_tables(name, value):
    """The table names, a str as a one-item tuple."""
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, list | tuple | set | frozenset):
        raise ParameterError(
            f"{name} must be a list of table names from {', '.join(TABLES)}; got {value!r}."
        )
    for table in value:
        check_choice(name, table, TABLES)
    return tuple(value)


@validate_arguments(
    {
        "root_or_file": expand_path,
        "tables": _check_tables,
        "kind": functools.partial(check_choice, choices=(*TABLES, None)),
    }
)
def load_fma_metadata(root_or_file, *, tables=("tracks", "genres"), kind=None):
    """Read FMA metadata tables as the FMA reference ``utils.load`` does, checking them.

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

    Every table is checked as it is read: its header rows, unique positive
    integer ids, and for ``tracks.csv`` the columns it parses and those
    :func:`load_fma` needs (``('set', 'subset')``, ``('set', 'split')``,
    ``('artist', 'id')``), for ``genres.csv`` its four columns and a unique
    title for every genre. In ``tracks.csv``, a subset or split value that is missing or
    unknown (such as ``'tiny'``) becomes missing (NaN), with a warning naming
    the file, the column, the values and the tracks: such tracks are in no
    selection, and :func:`load_fma` lists them in its ``excluded``. A missing
    ``('artist', 'id')`` stays missing, with a warning (:func:`load_fma` makes
    each such track its own group); an artist id that is not a positive
    integer is an error.

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
        If ``root_or_file`` or a requested table of the folder does not exist;
        the message names it and what is expected there.
    ParameterError
        If ``kind`` or ``tables`` is invalid, or the table of a file cannot be
        inferred from its name.
    MetadataError
        If a file is empty, binary, truncated or not a CSV table, lacks a
        header row or a required column, has repeated or non-integer ids or
        repeated genre titles, or a cell that cannot be parsed (a list, a
        date, an artist id); the message names the file and, where there is
        one, the column and the track. It is also a :class:`ValueError`.

    Warns
    -----
    UserWarning
        For tracks whose subset or split is missing or unknown, or whose
        artist id is missing.

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
    path = root_or_file
    if not os.path.isdir(path):
        if kind is None and not os.path.exists(path) and "." not in os.path.basename(path):
            # No file extension: a folder as likely as a file.
            raise FileNotFoundError(
                f"no such file or folder: {path!r}. load_fma_metadata reads the fma_metadata "
                "folder (holding tracks.csv, genres.csv, features.csv and echonest.csv), a "
                "folder that contains it, or one of those files; fetch_fma('metadata') "
                "downloads them."
            )
        if kind is None:
            kind = _infer_table(path)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"FMA metadata file not found: {path!r} (expected the FMA's {kind}.csv table "
                "there; fetch_fma('metadata') downloads it)."
            )
        return _READERS[kind](path)
    if kind is not None:
        raise ParameterError(f"kind is only for a file; {path!r} is a folder (use tables=).")
    directory = find_metadata_dir(path)
    metadata = Bunch(directory=directory)
    for table in tables:
        metadata[table] = _READERS[table](table_file(directory, table))
    return metadata


def table_file(directory, table):
    """The file of ``table`` (``"tracks"``, ...) in the metadata folder ``directory``.

    Raises
    ------
    FileNotFoundError
        If it does not exist; the message names the table and the file.
    """
    file = os.path.join(directory, f"{table}.csv")
    if not os.path.exists(file):
        raise FileNotFoundError(
            f"FMA metadata table {table!r} not found: expected {file!r} in the metadata folder "
            f"{directory!r} (fetch_fma('metadata') downloads every table)."
        )
    return file


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


def _read_tracks(path, unusable=None):
    """``tracks.csv``: checked, then its list, date, subset and categorical columns parsed.

    Parameters
    ----------
    path : str
        The file.
    unusable : dict or None, default=None
        If given, receives track id -> reason for each track whose
        ``('set', 'subset')`` or ``('set', 'split')`` is missing or unknown.

    Returns
    -------
    tracks : pandas.DataFrame
    """
    tracks = _read_csv(path, header=[0, 1])
    _check_header(tracks, path, TRACKS_HEADER)
    _check_columns(tracks, path, TRACKS_REQUIRED)
    tracks.index = _int_ids(tracks.index, path)
    for column in LIST_COLUMNS:
        parsed = np.empty(len(tracks), dtype=object)
        for row, (track_id, value) in enumerate(tracks[column].items()):
            parsed[row] = _parse_list(value, path, column, track_id)
        tracks[column] = parsed
    for column in DATE_COLUMNS:
        tracks[column] = _parse_dates(tracks[column], path, column)
    unusable = {} if unusable is None else unusable
    for column, allowed in (SUBSET_COLUMN, SUBSETS), (SPLIT_COLUMN, SPLITS):
        _blank_unknown_values(tracks, path, column, allowed, unusable)
    _check_artist_ids(tracks, path)
    subsets = pd.CategoricalDtype(categories=list(SUBSETS), ordered=True)
    tracks[SUBSET_COLUMN] = tracks[SUBSET_COLUMN].astype(subsets)
    for column in CATEGORY_COLUMNS:
        tracks[column] = tracks[column].astype("category")
    return tracks


def _parse_dates(values, path, column):
    """A date column as datetimes; a cell that is not an ISO 8601 date is named in the error."""
    dates = pd.to_datetime(values, format="ISO8601", errors="coerce")
    bad = dates.isna() & values.notna()
    if bad.any():
        shown = [f"track {tid}: {value!r}" for tid, value in values[bad].items()]
        raise MetadataError(path, f"cannot parse dates: {_some(shown)}.", column)
    return dates


def _read_csv(path, header):
    """``pandas.read_csv`` with the track or genre ids as index; a malformed file names itself.

    Errors of the file system (no permission, ...) pass unchanged.
    """
    try:
        table = pd.read_csv(path, index_col=0, header=header)
    except pd.errors.EmptyDataError:
        reason = "the file is empty"
    except UnicodeDecodeError:
        reason = "not a text (UTF-8) CSV file: it holds binary data"
    except OSError as error:
        if error.errno is not None:
            raise
        reason = f"cannot decompress it ({error})"
    except (EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile) as error:
        reason = f"cannot decompress it, it may be truncated ({error})"
    except ValueError as error:  # pandas' ParserError among others
        reason = f"not a readable CSV table ({' '.join(str(error).split())})"
    else:
        _check_last_line_ends(path)
        return table
    raise MetadataError(path, reason)


def _check_last_line_ends(path):
    """Refuse a plain ``.csv`` file cut inside its last row, which pandas fills with NaN.

    The FMA's tables, and pandas' ``to_csv``, end every row with a line
    break; a copy or download cut short does not. Compressed files are
    checked by their decompression instead.
    """
    if not os.fspath(path).lower().endswith(".csv"):
        return
    with open(path, "rb") as file:
        file.seek(-1, os.SEEK_END)
        if file.read(1) != b"\n":
            raise MetadataError(
                path,
                "its last row has no line break: the file is truncated, cut inside that row; "
                "download or copy it again.",
            )


def _check_header(table, path, expected):
    """Refuse a table without the header rows ``expected`` describes (column levels, index name)."""
    n_levels, index_name, description = expected
    levels = [table.columns.get_level_values(level) for level in range(table.columns.nlevels)]
    blank = [
        str(name)
        for level in levels
        for name in level
        if not isinstance(name, str) or not name or name.startswith("Unnamed: ")
    ]
    if table.columns.nlevels != n_levels or table.index.name != index_name or blank:
        found = f" (blank or missing header cells: {_some(blank)})" if blank else ""
        raise MetadataError(
            path,
            f"its header rows are not those of an FMA table: expected {description}{found}.",
        )


def _check_columns(table, path, required):
    """Refuse a table that lacks one of the ``required`` columns; the message lists every one."""
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise MetadataError(
            path,
            f"required column{'s' if len(missing) > 1 else ''} missing: "
            f"{_some([repr(column) for column in missing], 10)}.",
        )


def _int_ids(index, path):
    """The ids (the index column) as int64, refused unless unique positive integers.

    An id written as a float (``2.0``) is the integer it equals.
    """
    name = index.name
    numbers = pd.to_numeric(pd.Series(index, dtype=object), errors="coerce")
    bad = numbers.isna() | (numbers % 1 != 0) | (numbers <= 0)
    if bad.any():
        raise MetadataError(
            path, f"ids must be positive integers; got {_some(list(index[bad.to_numpy()]))}.", name
        )
    ids = pd.Index(numbers.to_numpy(dtype=np.int64), name=name)
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        raise MetadataError(path, f"ids must be unique; repeated: {_some(list(duplicated))}.", name)
    return ids


def _blank_unknown_values(tracks, path, column, allowed, unusable):
    """Make values of ``column`` outside ``allowed`` missing; record and warn about their tracks."""
    values = tracks[column].astype(object)
    bad = ~values.isin(allowed).to_numpy()
    if not bad.any():
        return
    choices = ", ".join(map(repr, allowed))
    for track_id, value in values[bad].items():
        what = "is missing" if pd.isna(value) else f"is {value!r}, not one of {choices}"
        unusable.setdefault(int(track_id), f"its {column} in {path!r} {what}")
    found = sorted({"(missing)" if pd.isna(value) else repr(value) for value in values[bad]})
    warn_user(
        f"{path!r}, column {column!r}: {bad.sum()} tracks have a value missing or not one of "
        f"{choices} ({_some(found)}; tracks {_some(list(values.index[bad]))}). They are in no "
        "selection of load_fma, which lists them in its excluded.",
        UserWarning,
    )
    tracks[column] = values.where(~bad)


def _check_artist_ids(tracks, path):
    """Refuse artist ids that are not positive integers; warn about missing ones.

    A missing artist id stays missing (NaN) in the table; :func:`load_fma`
    makes each such track its own group.
    """
    raw = tracks[ARTIST_COLUMN]
    ids = pd.to_numeric(raw, errors="coerce")
    bad = (ids.isna() & raw.notna()) | (ids.notna() & ((ids % 1 != 0) | (ids <= 0)))
    if bad.any():
        shown = [f"track {tid}: {value!r}" for tid, value in raw[bad].items()]
        raise MetadataError(
            path, f"artist ids must be positive integers; got {_some(shown)}.", ARTIST_COLUMN
        )
    missing = ids.isna()
    if missing.any():
        warn_user(
            f"{path!r}, column {ARTIST_COLUMN!r}: {missing.sum()} tracks have no artist id "
            f"(tracks {_some(list(ids.index[missing]))}). load_fma makes each its own group "
            "(artist_ids = -track_id).",
            UserWarning,
        )
    tracks[ARTIST_COLUMN] = ids if missing.any() else ids.astype(np.int64)


def _some(values, limit=5):
    """The first ``limit`` values, comma-separated, with ``...`` when there are more."""
    shown = ", ".join(map(str, values[:limit]))
    return f"{shown}, ... ({len(values)} in all)" if len(values) > limit else shown


def _parse_list(value, path, column, track_id):
    """A list column's cell: ``"[21, 76]"`` -> ``[21, 76]``; a missing cell -> ``[]``.

    The genre columns must list integers (genre ids).
    """
    if not isinstance(value, str):
        if pd.isna(value):
            return []
        parsed = None
    else:
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            parsed = None
    if not isinstance(parsed, list):
        raise MetadataError(path, f"track {track_id} is not a list: {value!r}", column)
    if column in GENRE_LIST_COLUMNS and not all(is_int(genre_id) for genre_id in parsed):
        raise MetadataError(path, f"track {track_id} is not a list of genre ids: {value!r}", column)
    return parsed


def _read_genres(path):
    """``genres.csv``: checked header, columns, unique ``genre_id`` and titles."""
    genres = _read_csv(path, header=0)
    _check_header(genres, path, GENRES_HEADER)
    _check_columns(genres, path, GENRES_COLUMNS)
    genres.index = _int_ids(genres.index, path)
    titles = genres["title"]
    untitled = ~titles.map(lambda title: isinstance(title, str) and title != "").to_numpy()
    if untitled.any():
        raise MetadataError(
            path, f"genres without a title: {_some(list(genres.index[untitled]))}.", "title"
        )
    repeated = titles[titles.duplicated()].unique()
    if len(repeated):
        # Classes are named by title: two genres of one title would merge, or repeat a name.
        raise MetadataError(
            path, f"titles must be unique; repeated: {_some(list(repeated))}.", "title"
        )
    return genres


def _read_three_headers(path):
    """``features.csv`` or ``echonest.csv``: three header rows, then a ``track_id`` row."""
    table = _read_csv(path, header=[0, 1, 2])
    _check_header(table, path, THREE_HEADERS)
    table.index = _int_ids(table.index, path)
    return table


_READERS = {
    "tracks": _read_tracks,
    "genres": _read_genres,
    "features": _read_three_headers,
    "echonest": _read_three_headers,
}
