"""The FMA as a dataset: audio paths, labels, artist groups and splits of one subset."""

import functools
import os

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..audio import open_audio
from ..exceptions import AudioDecodeError, MetadataError, ParameterError
from ..utils import (
    check_bool,
    check_choice,
    check_int,
    check_positive,
    expand_path,
    validate_arguments,
)
from ..utils._warnings import warn_user
from ._metadata import (
    SPLIT_COLUMN,
    SPLITS,
    SUBSET_COLUMN,
    SUBSETS,
    _read_genres,
    _read_three_headers,
    _read_tracks,
    find_metadata_dir,
    table_file,
)

__all__ = ["load_fma", "fma_audio_path", "NO_AUDIO_CLIPS", "SHORT_CLIPS"]

#: Audio subsets: the three nested clip subsets and ``full`` (whole tracks of ``large``).
AUDIO_SUBSETS = (*SUBSETS, "full")

TARGETS = ("genre_top", "genres", "genres_all", "first_genre", "genre_combination")

#: Between the genre titles of a ``genre_combination`` label.
COMBINATION_SEPARATOR = " + "

#: Released clips (fma_small, hence also medium and large) that hold no audio at all
#: (https://github.com/mdeff/fma/issues/41, /issues/44).
NO_AUDIO_CLIPS = (99134, 108925, 133297)

#: Released fma_small clips far shorter than 30 s (https://github.com/mdeff/fma/issues/8).
SHORT_CLIPS = (98565, 98567, 98569)


def _check_extension(name, value):
    if not isinstance(value, str) or not value.lstrip("."):
        raise ParameterError(f"{name} must be a non-empty str such as 'mp3'; got {value!r}.")
    return value.lstrip(".")


@validate_arguments(
    {
        "directory": expand_path,
        "track_id": functools.partial(check_int, minimum=0),
        "extension": _check_extension,
    }
)
def fma_audio_path(directory, track_id, extension="mp3"):
    """The FMA location of a track: ``DIRECTORY/NNN/NNNNNN.ext`` (folder = first 3 digits).

    Raises
    ------
    ParameterError
        If ``track_id`` is not one non-negative integer (a float is not
        truncated), or ``extension`` is not a non-empty string.
    """
    tid = f"{track_id:06d}"
    return os.path.join(directory, tid[:3], f"{tid}.{extension}")


def _check_split(name, value):
    """The splits to keep, as a list; every split for ``None``."""
    if value is None:
        return list(SPLITS)
    if not isinstance(value, str | list | tuple | set | frozenset | np.ndarray):
        raise ParameterError(
            f"{name} must be None, a split's name or a list of them; got {value!r}."
        )
    splits = [value] if isinstance(value, str) else list(value)
    if not splits:
        raise ParameterError(f"{name} must name at least one split, or be None for all.")
    for split in splits:
        check_choice(name, split, SPLITS)
    return splits


@validate_arguments(
    {
        "root": functools.partial(expand_path, allow_none=True),
        "subset": functools.partial(check_choice, choices=AUDIO_SUBSETS),
        "split": _check_split,
        "target": functools.partial(check_choice, choices=TARGETS),
        "n_top_genres": functools.partial(check_int, allow_none=True),
        "keep_short_clips": check_bool,
        "check_files": check_bool,
        "min_duration": functools.partial(check_positive, allow_none=True),
        "features": check_bool,
        "metadata_dir": functools.partial(expand_path, allow_none=True),
        "audio_dir": functools.partial(expand_path, allow_none=True),
    }
)
def load_fma(
    root,
    *,
    subset="small",
    split=None,
    target="genre_top",
    n_top_genres=None,
    keep_short_clips=False,
    check_files=False,
    min_duration=None,
    features=False,
    metadata_dir=None,
    audio_dir=None,
):
    """Load the audio paths, labels, artists and splits of an FMA subset.

    The expected layout is the one :func:`fetch_fma` makes, and the released
    zips unpack to::

        root/fma_metadata/tracks.csv, genres.csv, ...
        root/fma_small/000/000002.mp3, ...   (fma_medium/, fma_large/, fma_full/)

    A track's audio lives in ``AUDIO_DIR/NNN/NNNNNN.mp3``, where ``NNNNNN`` is
    its zero-padded id and ``NNN`` the first three digits. Tracks come in the
    order of ``tracks.csv`` (increasing id).

    The metadata is read and checked as :func:`load_fma_metadata` does. Tracks
    are left out, and listed in ``excluded`` with the reason, when their
    ``('set', 'subset')`` or ``('set', 'split')`` in ``tracks.csv`` is missing
    or unknown (such a track could belong to any selection, so it is listed by
    every one its known values allow), when they have no label for ``target``,
    when their label is not among the
    ``n_top_genres`` most frequent, when they are known bad clips of the
    released data (``NO_AUDIO_CLIPS``: no audio; ``SHORT_CLIPS``: far shorter
    than 30 s, kept with ``keep_short_clips=True``; neither applies to the
    whole tracks of ``full``), or, with ``check_files=True``, when their file
    is missing or cannot be decoded.

    Parameters
    ----------
    root : str, os.PathLike or None
        The folder holding ``fma_metadata/`` and ``fma_{subset}/``. May be
        ``None`` when both ``metadata_dir`` and ``audio_dir`` are given.
    subset : {"small", "medium", "large", "full"}, default="small"
        The tracks: ``small`` (8,000 clips of 30 s, 8 balanced genres) is in
        ``medium`` (25,000), which is in ``large`` (106,574); ``full`` is the
        tracks of ``large`` as whole, untrimmed files.
    split : {"training", "validation", "test"}, sequence of them, or None, \
default=None
        Keep only the tracks of these FMA splits; ``None`` keeps all. The FMA
        splits keep each artist in one split.
    target : {"genre_top", "genres", "genres_all", "first_genre", \
"genre_combination"}, default="genre_top"
        ``genre_top``: the top-level genre (one label, such as ``"Hip-Hop"``;
        missing for many ``large`` tracks). ``first_genre``: the title of the
        first genre listed for the track. ``genre_combination``: the genres
        listed for the track as one label, each combination its own class
        (report 000), their titles in ``genre_id`` order joined by ``" + "``,
        e.g. ``"Pop + Electronic"``. ``genres`` (the genres listed for the
        track) and ``genres_all`` (those and all their ancestors): a
        multi-label 0/1 indicator matrix with one column per genre title in
        ``target_names``.
    n_top_genres : int or None, default=None
        Keep only the ``n_top_genres`` most frequent labels over the whole
        subset (all splits, so that every split gets the same labels; ties go
        to the alphabetically first). Single-label tracks with another label are
        excluded; multi-label tracks lose the other columns and are excluded if
        no label remains. The labels dropped are in ``dropped_target_names``.
    keep_short_clips : bool, default=False
        Keep the ``SHORT_CLIPS`` instead of excluding them.
    check_files : bool, default=False
        Open every selected file (a quick header probe, no full decode) and
        exclude those missing or undecodable, with a warning. Costs one
        header read per file.
    min_duration : float or None, default=None
        Also exclude, and list in ``excluded``, the clips shorter than this
        many seconds, from their headers (implies ``check_files``). The
        Milano-Bicocca report dropped the clips shorter than 29.7 s and cut
        the others to 29.7 s: ``min_duration=29.7`` here, and
        ``AudioLoader(duration=29.7)``.
    features : bool, default=False
        Also read the released ``features.csv`` (the 518 handcrafted
        features; about 1 GB, a minute to read) into ``features``, one row per
        selected track; tracks without a complete row there are excluded.
        The audio folder is then optional: without it, ``filenames`` and
        ``audio_dir`` are ``None`` (feature-only work, as report 000's).
    metadata_dir : str, os.PathLike or None, default=None
        The folder holding ``tracks.csv`` and ``genres.csv``; default
        ``root/fma_metadata``.
    audio_dir : str, os.PathLike or None, default=None
        The folder holding ``NNN/NNNNNN.mp3``; default ``root/fma_{subset}``.

    Returns
    -------
    data : sklearn.utils.Bunch
        filenames : ndarray of str, shape (n_clips,), or None
            The audio file paths, to feed :class:`~skfma.audio.AudioLoader`;
            ``None`` with ``features=True`` and no audio folder.
        target : ndarray of str, shape (n_clips,), or ndarray of uint8, \
shape (n_clips, n_labels)
            The labels, or the multi-label indicator matrix.
        target_names : ndarray of str, shape (n_labels,)
            The labels, sorted for single-label targets, and in ``genre_id``
            order (the indicator columns) for multi-label ones.
        track_ids : ndarray of int64, shape (n_clips,)
            Each clip's FMA track id.
        artist_ids : ndarray of int64, shape (n_clips,)
            Groups for :class:`~sklearn.model_selection.GroupKFold`. A track
            whose artist id is missing in ``tracks.csv`` is its own group,
            ``-track_id`` (artist ids are positive, so it meets no other
            track): pooling such tracks in one group would make one huge
            fake artist, and assigning them to none is impossible.
        split : ndarray of str, shape (n_clips,)
            Each track's FMA split.
        tracks : pandas.DataFrame, shape (n_clips, 52)
            The rows of ``tracks.csv`` of these tracks, as
            :func:`load_fma_metadata` reads them.
        genres : pandas.DataFrame
            ``genres.csv``, indexed by ``genre_id``.
        excluded : dict of int to str
            Track id -> why it was left out, for tracks of the subset and split.
        dropped_target_names : list of str
            The labels removed by ``n_top_genres``, most frequent first.
        audio_dir : str or None
            The audio folder (``None`` as for ``filenames``).
        features : pandas.DataFrame of float64, shape (n_clips, 518)
            With ``features=True`` only: the rows of ``features.csv``, in the
            order of ``track_ids``, with its three-level column index
            (feature, statistic, number).

    Raises
    ------
    FileNotFoundError
        If the metadata or the audio folder is missing; the message names it.
    ParameterError
        If a parameter is invalid.
    MetadataError
        If ``tracks.csv`` or ``genres.csv`` is malformed (see
        :func:`load_fma_metadata`), or a track lists a genre id that
        ``genres.csv`` lacks; the message names the file and the column.

    Warns
    -----
    UserWarning
        For tracks with a missing or unknown subset or split, or a missing
        artist id, and, with ``check_files=True``, for missing or undecodable
        files.

    See Also
    --------
    fetch_fma : download and unpack the FMA into the layout above.
    load_fma_metadata : the metadata tables alone.
    make_fma_like : a small synthetic dataset in this layout.

    Examples
    --------
    >>> from skfma.datasets import load_fma
    >>> fma = load_fma("~/skfma_data", subset="small", split="training")  # doctest: +SKIP
    >>> fma.filenames[0], fma.target[0]  # doctest: +SKIP
    ('/home/me/skfma_data/fma_small/000/000002.mp3', 'Hip-Hop')
    """
    if root is None and (metadata_dir is None or audio_dir is None):
        raise ParameterError("root may only be None when metadata_dir and audio_dir are given.")
    metadata_dir = find_metadata_dir(root if metadata_dir is None else metadata_dir)
    audio_dir = os.path.join(root, f"fma_{subset}") if audio_dir is None else audio_dir
    if not os.path.isdir(audio_dir):
        if not features or check_files or min_duration is not None:
            raise FileNotFoundError(
                f"FMA audio folder not found: {audio_dir!r} (fetch_fma({subset!r}) downloads it"
                + (
                    "; features=True works without it, unless check_files or min_duration "
                    "probe the audio)."
                    if features
                    else ")."
                )
            )
        audio_dir = None
    unusable = {}
    tracks_file = table_file(metadata_dir, "tracks")
    tracks = _read_tracks(tracks_file, unusable)
    if tracks.empty and not unusable:
        raise MetadataError(tracks_file, "it lists no tracks (only its header rows)")
    genres = _read_genres(table_file(metadata_dir, "genres"))

    level = "large" if subset == "full" else subset
    subsets = tracks[SUBSET_COLUMN]
    tracks = tracks[((subsets <= level) | subsets.isna()).to_numpy()]
    reasons = _known_bad_reasons(tracks.index, subset, keep_short_clips)
    reasons.update({tid: reason for tid, reason in unusable.items() if tid in tracks.index})
    labels, target_names = _labels(tracks, genres, target, reasons, tracks_file)
    labels, target_names, dropped = _keep_top(
        labels, target_names, tracks.index, n_top_genres, reasons
    )

    split_of = tracks[SPLIT_COLUMN]
    selected = (split_of.isin(split) | split_of.isna()).to_numpy()
    excluded = {int(tid): reasons[tid] for tid in tracks.index[selected] if tid in reasons}
    keep = selected & ~tracks.index.isin(list(reasons))
    tracks, labels = tracks[keep], labels[keep]
    extra = {}
    if features:
        features_file = table_file(metadata_dir, "features")
        table = _check_numbers(_read_three_headers(features_file), features_file)
        ok = _complete_feature_rows(table, tracks.index, excluded)
        tracks, labels = tracks[ok], labels[ok]
        extra["features"] = table.loc[tracks.index]
    filenames = None
    if audio_dir is not None:
        filenames = np.array(
            [fma_audio_path(audio_dir, track_id) for track_id in tracks.index], dtype=object
        )
    if check_files or min_duration is not None:
        ok = _probe_files(filenames, tracks.index, excluded, subset, min_duration)
        tracks, labels, filenames = tracks[ok], labels[ok], filenames[ok]
        extra = {name: frame[ok] for name, frame in extra.items()}
    return Bunch(
        filenames=filenames,
        target=labels,
        target_names=target_names,
        track_ids=tracks.index.to_numpy(dtype=np.int64),
        artist_ids=_artist_groups(tracks),
        split=tracks["set", "split"].to_numpy(dtype=object),
        tracks=tracks,
        genres=genres,
        excluded=dict(sorted(excluded.items())),
        dropped_target_names=dropped,
        audio_dir=audio_dir,
        **extra,
    )


def _check_numbers(table, path):
    """``table`` if every column holds numbers (or nothing), else a MetadataError naming one."""
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            continue
        numbers = pd.to_numeric(values.astype(object).where(values.notna()), errors="coerce")
        # True and False are read as booleans, which to_numeric would take as 1 and 0.
        is_bool = values.map(lambda value: isinstance(value, bool | np.bool_))
        bad = values[(numbers.isna() & values.notna()) | is_bool]
        if len(bad):
            raise MetadataError(
                path,
                f"holds values that are not numbers, e.g. '{bad.iloc[0]}' for track {bad.index[0]}",
                column,
            )
        table[column] = numbers
    return table


def _complete_feature_rows(table, track_ids, excluded):
    """Mask of the tracks with a complete, finite row in ``features.csv``.

    The others are listed in ``excluded``, with a warning.
    """
    present = track_ids.isin(table.index)
    complete = present.copy()
    rows = table.loc[track_ids[present]].to_numpy(dtype=np.float64)
    complete[present] = np.isfinite(rows).all(axis=1)
    for tid, has_row, full in zip(track_ids, present, complete, strict=True):
        if not full:
            excluded[int(tid)] = (
                "has missing or infinite values in features.csv"
                if has_row
                else "has no row in features.csv"
            )
    if not complete.all():
        warn_user(
            f"{int((~complete).sum())} of {len(track_ids)} tracks have no complete row in "
            "features.csv and were excluded; their reasons are in .excluded.",
            UserWarning,
        )
    return complete


def _artist_groups(tracks):
    """The artist id of each track, ``-track_id`` where it is missing (its own group)."""
    artists = tracks["artist", "id"].to_numpy(dtype=np.float64)
    own = -tracks.index.to_numpy(dtype=np.float64)
    return np.where(np.isnan(artists), own, artists).astype(np.int64)


def _known_bad_reasons(track_ids, subset, keep_short_clips):
    """Track id -> reason for the known bad clips among ``track_ids``."""
    if subset == "full":
        return {}
    reasons = {
        tid: "holds no audio (known issue of the released FMA clips)"
        for tid in NO_AUDIO_CLIPS
        if tid in track_ids
    }
    if not keep_short_clips:
        for tid in SHORT_CLIPS:
            if tid in track_ids:
                reasons[tid] = (
                    "far shorter than 30 s (known issue of the released FMA clips; "
                    "keep_short_clips=True keeps it)"
                )
    return reasons


def _labels(tracks, genres, target, reasons, tracks_file):
    """Labels of every track of ``tracks`` (same order) and their names.

    Tracks without a label get a reason in ``reasons`` (a dict, updated in place)
    unless they already have one. A genre id that ``genres`` lacks is a
    :class:`MetadataError` naming ``tracks_file`` and the column.

    Returns
    -------
    labels : ndarray of object, shape (n,), or ndarray of uint8, shape (n, n_labels)
    target_names : ndarray of object, shape (n_labels,)
    """
    if target == "genre_top":
        labels = tracks["track", "genre_top"].astype(object).to_numpy()
        for tid, label in zip(tracks.index, labels, strict=True):
            if not isinstance(label, str):
                reasons.setdefault(tid, "no genre_top")
        names = sorted({label for label in labels if isinstance(label, str)})
        return labels, np.array(names, dtype=object)
    titles = genres["title"]
    column = "genres" if target in ("first_genre", "genre_combination") else target
    lists = tracks["track", column].to_numpy()
    for tid, ids in zip(tracks.index, lists, strict=True):
        if not ids:
            reasons.setdefault(tid, f"no genre listed in ('track', {column!r})")
        unknown = [genre_id for genre_id in ids if genre_id not in titles.index]
        if unknown:
            raise MetadataError(
                tracks_file,
                f"track {tid} lists genre ids {unknown}, which genres.csv "
                f"({os.path.join(os.path.dirname(tracks_file), 'genres.csv')!r}) lacks.",
                ("track", column),
            )
    if target in ("first_genre", "genre_combination"):
        if target == "first_genre":
            labels = [titles[ids[0]] if ids else None for ids in lists]
        else:
            labels = [
                COMBINATION_SEPARATOR.join(titles[sorted(set(ids))]) if ids else None
                for ids in lists
            ]
        labels = np.array(labels, dtype=object)
        names = sorted({label for label in labels if label is not None})
        return labels, np.array(names, dtype=object)
    used = sorted({genre_id for ids in lists for genre_id in ids})
    position = {genre_id: index for index, genre_id in enumerate(used)}
    indicator = np.zeros((len(lists), len(used)), dtype=np.uint8)
    for row, ids in enumerate(lists):
        indicator[row, [position[genre_id] for genre_id in ids]] = 1
    return indicator, titles[used].to_numpy(dtype=object)


def _keep_top(labels, target_names, track_ids, n_top, reasons):
    """Keep the ``n_top`` most frequent labels among the tracks without a reason.

    Tracks left without a label get a reason in ``reasons`` (updated in place).

    Returns
    -------
    labels, target_names
        Restricted to the kept labels.
    dropped : list of str
        The other labels, most frequent first.
    """
    if n_top is None:
        return labels, target_names, []
    counted = ~track_ids.isin(list(reasons))
    if labels.ndim == 1:
        names, counts = np.unique(labels[counted].astype(str), return_counts=True)
    else:
        names, counts = target_names, labels[counted].sum(axis=0, dtype=np.int64)
    ranked = [str(name) for _, name in sorted(zip(-counts, names, strict=True))]
    kept, dropped = set(ranked[:n_top]), ranked[n_top:]
    if labels.ndim == 1:
        for tid, label, count in zip(track_ids, labels, counted, strict=True):
            if count and label not in kept:
                reasons[tid] = f"label {label!r} is not among the {n_top} most frequent"
        return labels, np.array(sorted(kept), dtype=object), dropped
    columns = np.array([name in kept for name in target_names])
    labels = labels[:, columns]
    for tid, row, count in zip(track_ids, labels, counted, strict=True):
        if count and not row.any():
            reasons[tid] = f"none of its genres is among the {n_top} most frequent"
    return labels, target_names[columns], dropped


def _probe_files(filenames, track_ids, excluded, subset, min_duration=None):
    """Open each file; record the failures (and the clips shorter than ``min_duration``
    seconds) in ``excluded`` and return the mask of good files."""
    ok = np.ones(len(filenames), dtype=bool)
    for row, (path, tid) in enumerate(zip(filenames, track_ids, strict=True)):
        try:
            with open_audio(path) as audio:
                seconds = audio.frames / audio.samplerate
        except AudioDecodeError as error:
            ok[row] = False
            excluded[int(tid)] = f"audio file {error.reason}: {path}"
            continue
        if min_duration is not None and seconds < min_duration:
            ok[row] = False
            excluded[int(tid)] = (
                f"clip of {seconds:.2f} s, shorter than min_duration={min_duration}"
            )
    if not ok.all():
        bad = [os.path.basename(path) for path in filenames[~ok]]
        shown = ", ".join(bad[:5]) + (", ..." if len(bad) > 5 else "")
        warn_user(
            f"{len(bad)} of {len(filenames)} fma_{subset} audio files are missing, undecodable "
            f"or too short and were excluded ({shown}); their reasons are in .excluded.",
            UserWarning,
        )
    return ok
