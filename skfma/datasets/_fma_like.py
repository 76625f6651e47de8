"""A small synthetic dataset in the FMA layout, read by :func:`load_fma` like the real one."""

import csv
import functools
import os
from datetime import datetime, timedelta

import numpy as np
import soundfile as sf
from sklearn.utils import check_random_state

from ..exceptions import ParameterError
from ..utils import check_positive, expand_path, validate_arguments
from ._download import file_sha1
from ._fma import fma_audio_path
from ._synthetic import CLIP_CHECKS, check_writable_clips, make_genre_clips

__all__ = ["make_fma_like"]

#: The real FMA genre id of each synthetic genre, and one real sub-genre (id, title).
GENRE_IDS = {
    "Classical": (5, (442, "Chamber Music")),
    "Electronic": (15, (181, "Techno")),
    "Hip-Hop": (21, (539, "Rap")),
    "Rock": (12, (25, "Punk")),
    "Folk": (17, (103, "Singer-Songwriter")),
    "Pop": (10, (362, "Synth Pop")),
    "Experimental": (38, (32, "Noise")),
    "International": (2, (79, "Reggae - Dub")),
}

#: The columns of the real ``tracks.csv``, in its order (two header rows).
TRACKS_COLUMNS = {
    "album": (
        "comments date_created date_released engineer favorites id information listens "
        "producer tags title tracks type"
    ).split(),
    "artist": (
        "active_year_begin active_year_end associated_labels bio comments date_created "
        "favorites id latitude location longitude members name related_projects tags "
        "website wikipedia_page"
    ).split(),
    "set": ["split", "subset"],
    "track": (
        "bit_rate comments composer date_created date_recorded duration favorites genre_top "
        "genres genres_all information interest language_code license listens lyricist "
        "number publisher tags title"
    ).split(),
}


@validate_arguments(
    {
        "directory": expand_path,
        **CLIP_CHECKS,
        "tracks_per_artist": functools.partial(check_positive, integer=True),
    }
)
def make_fma_like(
    directory,
    *,
    n_clips=40,
    n_genres=4,
    tracks_per_artist=2,
    duration=5.0,
    sr=22050,
    random_state=0,
):
    """Write a small synthetic dataset in the FMA layout.

    The clips are those of :func:`make_genre_clips`; the files are laid out
    as the released FMA and :func:`fetch_fma` leave them::

        directory/fma_metadata/tracks.csv   all 52 columns, two header rows
        directory/fma_metadata/genres.csv   the genres used, with their real FMA ids
        directory/fma_small/NNN/NNNNNN.mp3  one MP3 per track
        directory/fma_small/checksums       "<sha1>  NNN/NNNNNN.mp3" lines

    so that ``load_fma(directory)`` reads it as it reads the real data. Track
    ids are sorted random ids below ``20 * n_clips``. Each artist has
    ``tracks_per_artist`` tracks of one genre on one album, and all of an
    artist's tracks are in one split: per genre, about 10% of the artists (at
    least one if the genre has three or more) go to ``validation``, as many to
    ``test`` and the rest to ``training``. Every track is in ``small``. Tracks
    with an odd id list a real FMA sub-genre of their genre (``genres ==
    [sub]``, ``genres_all == [top, sub]``), the others the top genre alone.
    Existing files are overwritten.

    Parameters
    ----------
    directory : str or os.PathLike
        Where to write (created if needed).
    n_clips : int, default=40
        Number of tracks, split as evenly as possible between genres.
    n_genres : int, default=4
        Number of genres, the first of ``GENRE_STYLES`` (at most 8).
    tracks_per_artist : int, default=2
        Tracks per artist (the last artist of a genre may have fewer).
    duration : float, default=5.0
        Length of each clip in seconds.
    sr : int, default=22050
        Sampling rate of the MP3 files in Hz.
    random_state : int, RandomState instance or None, default=0
        Seed of the clips, ids and splits.

    Returns
    -------
    root : str
        ``directory``, to pass to :func:`load_fma`.

    See Also
    --------
    load_fma : read it.
    make_genre_clips : the same clips as arrays or plain files.

    Examples
    --------
    >>> from skfma.datasets import load_fma, make_fma_like
    >>> root = make_fma_like("fma_like", n_clips=16, duration=1.0)  # doctest: +SKIP
    >>> fma = load_fma(root, split="training")  # doctest: +SKIP
    >>> fma.filenames[0], fma.target[0]  # doctest: +SKIP
    ('fma_like/fma_small/000/000016.mp3', 'Electronic')
    """
    if n_clips < n_genres:
        raise ParameterError(
            f"n_clips={n_clips} cannot give each of the n_genres={n_genres} genres a clip."
        )
    check_writable_clips("mp3", sr, duration)
    clips, genres = make_genre_clips(
        n_clips, n_genres=n_genres, duration=duration, sr=sr, random_state=random_state
    )
    rng = check_random_state(random_state)
    track_ids = np.sort(rng.choice(np.arange(1, 20 * n_clips), n_clips, replace=False))
    artists, splits = _artists_and_splits(genres, tracks_per_artist, rng)
    audio_dir = os.path.join(directory, "fma_small")
    paths = [fma_audio_path(audio_dir, track_id) for track_id in track_ids]
    for path, clip in zip(paths, clips, strict=True):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        sf.write(path, clip, sr)
    with open(os.path.join(audio_dir, "checksums"), "w", encoding="utf-8") as file:
        for path in paths:
            file.write(
                f"{file_sha1(path)}  {os.path.relpath(path, audio_dir).replace(os.sep, '/')}\n"
            )
    numbers = {}
    rows = {}
    for track_id, genre, artist, split, path in zip(
        track_ids, genres, artists, splits, paths, strict=True
    ):
        numbers[artist] = numbers.get(artist, 0) + 1
        rows[int(track_id)] = _track_row(
            track_id, genre, artist, numbers[artist], split, path, duration
        )
    for row in rows.values():
        row["album", "tracks"] = numbers[row["album", "id"]]
    metadata_dir = os.path.join(directory, "fma_metadata")
    os.makedirs(metadata_dir, exist_ok=True)
    _write_tracks(os.path.join(metadata_dir, "tracks.csv"), rows)
    _write_genres(os.path.join(metadata_dir, "genres.csv"), rows)
    return directory


def _artists_and_splits(genres, tracks_per_artist, rng):
    """Artist id and split of each track: artists of one genre, splits by artist."""
    artists = np.zeros(len(genres), dtype=np.int64)
    splits = np.empty(len(genres), dtype=object)
    next_artist = 1
    for genre in dict.fromkeys(genres):
        rows = np.flatnonzero(genres == genre)
        groups = [
            rows[start : start + tracks_per_artist]
            for start in range(0, len(rows), tracks_per_artist)
        ]
        n_held = max(1, round(0.1 * len(groups))) if len(groups) >= 3 else 0
        names = ["validation"] * n_held + ["test"] * n_held
        names += ["training"] * (len(groups) - len(names))
        for group, split in zip(groups, rng.permutation(names), strict=True):
            artists[group] = next_artist
            splits[group] = split
            next_artist += 1
    return artists, splits


def _track_row(track_id, genre, artist, number, split, path, duration):
    """The values of one ``tracks.csv`` row, keyed by (level 0, level 1) column."""
    top, (sub, _) = GENRE_IDS[genre]
    listed = [sub] if track_id % 2 else [top]
    when = (datetime(2017, 1, 1) + timedelta(hours=int(track_id))).strftime("%Y-%m-%d %H:%M:%S")
    row = {(level, name): "" for level, names in TRACKS_COLUMNS.items() for name in names}
    for level in ("album", "artist"):
        row[level, "comments"] = row[level, "favorites"] = 0
        row[level, "date_created"] = when
        row[level, "tags"] = "[]"
        row[level, "id"] = int(artist)
    row["album", "date_released"] = when
    row["album", "listens"] = 0
    row["album", "title"] = f"Synthetic {genre} album {artist}"
    row["album", "type"] = "Album"
    row["artist", "name"] = f"Synthetic artist {artist}"
    row["set", "split"] = split
    row["set", "subset"] = "small"
    track = {
        "bit_rate": round(8 * os.path.getsize(path) / duration),
        "comments": 0,
        "date_created": when,
        "duration": round(duration),
        "favorites": 0,
        "genre_top": genre,
        "genres": listed,  # csv writes lists as the FMA's "[12, 25]"
        "genres_all": sorted({top, *listed}),
        "interest": 0,
        "language_code": "en",
        "license": "Creative Commons Zero (made by skfma.datasets.make_fma_like)",
        "listens": 0,
        "number": number,
        "tags": "[]",
        "title": f"{genre} clip {track_id}",
    }
    row.update({("track", name): value for name, value in track.items()})
    return row


def _write_tracks(path, rows):
    """``tracks.csv`` as the FMA writes it: two header rows, then a ``track_id`` row."""
    columns = [(level, name) for level, names in TRACKS_COLUMNS.items() for name in names]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["", *(level for level, _ in columns)])
        writer.writerow(["", *(name for _, name in columns)])
        writer.writerow(["track_id", *([""] * len(columns))])
        for track_id, row in rows.items():
            writer.writerow([track_id, *(row[column] for column in columns)])


def _write_genres(path, rows):
    """``genres.csv`` with the genres used, their real FMA ids, parents and track counts."""
    counts = {}
    for row in rows.values():
        for genre_id in row["track", "genres_all"]:
            counts[genre_id] = counts.get(genre_id, 0) + 1
    table = {}
    for genre, (top, (sub, sub_title)) in GENRE_IDS.items():
        table[top] = (0, genre, top)
        table[sub] = (top, sub_title, top)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["genre_id", "#tracks", "parent", "title", "top_level"])
        for genre_id in sorted(counts):
            parent, title, top_level = table[genre_id]
            writer.writerow([genre_id, counts[genre_id], parent, title, top_level])
