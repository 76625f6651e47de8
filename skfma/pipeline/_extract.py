"""Feature stores: a whole FMA subset's features written to a folder, and read back."""

import contextlib
import functools
import json
import os
import shutil
import time
import warnings

import numpy as np
import pandas as pd

from .. import __version__
from .. import features as transformers
from ..audio import AudioLoader
from ..base import declared_checks
from ..datasets import load_fma
from ..exceptions import ParameterError
from ..utils import (
    check_bool,
    check_choice,
    check_sample_rate,
    expand_path,
    files_digest,
    validate_arguments,
    write_atomically,
)
from ..utils._warnings import warn_user
from ._audio_features import AudioFeatures

__all__ = ["FEATURE_SETS", "extract_fma", "load_extracted"]


def _recipe(default_sr, *steps):
    """A feature set's recipe: ``recipe(sr=None)`` returns the loader at ``sr`` (``None``:
    ``default_sr``), then ``step(sr)`` for each of ``steps``, on the first 30 s of a clip."""

    def recipe(sr=None):
        sr = default_sr if sr is None else sr
        return [("load", AudioLoader(sr=sr, duration=30.0)), *(step(sr) for step in steps)]

    return recipe


def _logmel(sr):
    return ("mel", transformers.MelSpectrogram(sr=sr, n_mels=128))


def _stats(sr):
    return ("stats", transformers.TemporalStatistics())


def _mfcc(sr):
    return ("mfcc", transformers.MFCC(sr=sr, n_mfcc=20, deltas=2))


def _fma(sr):
    return ("fma", transformers.FMAFeatures(sr=sr))


def _musicnn(model):
    def step(sr):  # another rate than the models' 16 kHz is resampled to it
        from ..transfer import MusicnnFeatures  # torch, only when asked for

        return ("musicnn", MusicnnFeatures(model=model, sr=sr))

    return step


#: Named step recipes of :func:`extract_fma` (``skfma extract --features``), each a function
#: of the loading rate (``None``: the recipe's own) returning the steps, on the first 30 s
#: of each clip. The classes are looked up when a recipe is built, so that importing this
#: module (and the ``skfma`` command) does not import torch.
FEATURE_SETS = {
    # 128-band log-mel spectrograms at 22,050 Hz, (n_clips, 128, 1292) float32: the nets' input.
    "logmel": _recipe(22050, _logmel),
    # Their 7 temporal statistics, (n_clips, 896): for classic classifiers.
    "logmel-stats": _recipe(22050, _logmel, _stats),
    # 20 MFCCs with deltas at 22,050 Hz, pooled, (n_clips, 420).
    "mfcc-stats": _recipe(22050, _mfcc, _stats),
    # The FMA's 518 handcrafted features at 44,100 Hz: the FMA computed its features.csv at
    # each clip's native rate, 44.1 kHz for almost all.
    "fma": _recipe(44100, _fma),
    # musicnn embeddings (penultimate layer, mean over 3 s windows) at 16 kHz, (n_clips, 200).
    "musicnn-msd": _recipe(16000, _musicnn("MSD_musicnn")),
    "musicnn-mtt": _recipe(16000, _musicnn("MTT_musicnn")),
}

FEATURES_FILE = "features.npy"
INDEX_FILE = "index.csv"
EXCLUDED_FILE = "excluded.csv"
INFO_FILE = "info.json"
#: The columns of index.csv.
INDEX_COLUMNS = ("track_id", "filename", "split", "genre_top", "failed", "reason")
#: The files of a store, which an extraction into the same folder would replace.
STORE_FILES = (FEATURES_FILE, INDEX_FILE, EXCLUDED_FILE, INFO_FILE)


@validate_arguments(
    {
        "root": expand_path,
        "out": expand_path,
        "subset": load_fma._parameter_checks["subset"],
        "features": functools.partial(check_choice, choices=tuple(FEATURE_SETS)),
        "sr": functools.partial(check_sample_rate, allow_none=True),
        **{
            name: check
            for name, check in declared_checks(AudioFeatures).items()
            if name in ("n_jobs", "batch_size", "verbose")
        },
        "overwrite": check_bool,
    }
)
def extract_fma(
    root,
    out,
    *,
    subset="small",
    features="logmel",
    sr=None,
    n_jobs=None,
    batch_size=None,
    overwrite=False,
    verbose=0,
):
    """Compute one feature set for every track of an FMA subset and store it in a folder.

    The tracks are those :func:`~skfma.datasets.load_fma` selects (labelled
    ``genre_top`` tracks, known bad clips left out and listed in
    ``excluded.csv``). The steps run in :class:`AudioFeatures` with its cache
    in ``out/cache``: an interrupted extraction resumes where it stopped when
    run again. A file that cannot be decoded gets a row of zeros and is
    marked in the index; it is never dropped.

    Written to ``out``:

    - ``features.npy``: the array, one row per track (memory-mappable);
    - ``index.csv``: per row, ``track_id``, ``filename``, ``split``,
      ``genre_top``, ``failed`` and ``reason``;
    - ``excluded.csv``: the tracks left out, with the reason;
    - ``info.json``: the subset, the root, a digest of the audio files'
      paths within it and sizes (:func:`skfma.utils.files_digest`), the
      feature set, steps, shape, the wall-clock seconds of the extraction
      (of the run that finished it: a resumed run counts only what it
      computed) and the skfma version; written last, it marks the store
      complete.

    Each file is written under a temporary name and renamed into place, and
    the memory-mapped output's file in the cache becomes ``features.npy``
    (a hard link where the filesystem allows), so the cache does not keep a
    second copy.

    Parameters
    ----------
    root : str or os.PathLike
        The FMA folder (``root/fma_metadata``, ``root/fma_{subset}``).
    out : str or os.PathLike
        The output folder, created if needed (``~`` expanded). A folder
        that already holds any of the files below is refused, unless
        ``overwrite``; one with only ``cache`` (an interrupted extraction)
        resumes.
    subset : {"small", "medium", "large", "full"}, default="small"
    features : str, default="logmel"
        A key of :data:`FEATURE_SETS`: ``"logmel"``, ``"logmel-stats"``,
        ``"mfcc-stats"`` (at 22,050 Hz), ``"fma"`` (the FMA's 518 features,
        at 44,100 Hz as the released ``features.csv``), ``"musicnn-msd"`` or
        ``"musicnn-mtt"`` (:class:`~skfma.transfer.MusicnnFeatures`, 16 kHz).
    sr : float or None, default=None
        Decode the clips at this rate (Hz) and compute the features at it;
        ``None``: the feature set's own rate, above.
    n_jobs : int or None, default=None
        Workers (joblib; a Dask cluster through ``joblib.parallel_config``).
    batch_size : int or None, default=None
        Clips per task (:class:`AudioFeatures`).
    overwrite : bool, default=False
        Replace the files of a store (or a user's files of the same names)
        already in ``out``.
    verbose : int, default=0
        Above 0, show the progress bar even when stderr is not a terminal.

    Returns
    -------
    X : ndarray or numpy.memmap, shape (n_tracks, ...)
        The features, as :func:`load_extracted` reads them.
    track_ids : ndarray of int64, shape (n_tracks,)

    See Also
    --------
    load_extracted : read a store back.
    """
    present = [name for name in STORE_FILES if os.path.exists(os.path.join(out, name))]
    if present and not overwrite:
        raise ParameterError(
            f"out={out!r} already holds {', '.join(present)}: read a finished store with "
            "load_extracted, give another folder, or pass overwrite=True (skfma extract "
            "--overwrite) to replace them."
        )
    fma = load_fma(root, subset=subset)
    if not len(fma.track_ids):
        raise ParameterError(
            f"subset={subset!r}: the tracks.csv of {root!r} lists no track of it with a top "
            f"genre (left out: {len(fma.excluded)}); nothing to extract."
        )
    extractor = AudioFeatures(
        FEATURE_SETS[features](sr),
        n_jobs=n_jobs,
        batch_size=batch_size,
        memory=os.path.join(out, "cache"),
        on_error="warn",
        verbose=verbose,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"\d+ of \d+ audio files could not be decoded")
        start = time.perf_counter()
        X = extractor.fit_transform(fma.filenames)
        seconds = time.perf_counter() - start
    failures = {row: reason for row, _, reason in extractor.failures_}
    index = pd.DataFrame(
        {
            "track_id": fma.track_ids,
            "filename": fma.filenames,
            "split": fma.split,
            "genre_top": fma.target,
            "failed": [row in failures for row in range(len(X))],
            "reason": [failures.get(row, "") for row in range(len(X))],
        }
    )
    # Every file is written under a temporary name and renamed; info.json, last, marks the
    # store complete, and names the shape that load_extracted checks the array against.
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(out, INFO_FILE))
    write_atomically(os.path.join(out, FEATURES_FILE), lambda path: _write_array(X, path))
    write_atomically(os.path.join(out, INDEX_FILE), lambda path: index.to_csv(path, index=False))
    excluded = pd.DataFrame(list(fma.excluded.items()), columns=["track_id", "reason"])
    write_atomically(
        os.path.join(out, EXCLUDED_FILE), lambda path: excluded.to_csv(path, index=False)
    )
    info = {
        "subset": subset,
        "root": os.path.abspath(root),
        "sources": files_digest(fma.filenames, root),
        "features": features,
        "steps": [repr(step) for _, step in extractor.steps],
        "shape": list(X.shape),
        "failures": len(failures),
        "seconds": seconds,
        "skfma": __version__,
    }
    write_atomically(os.path.join(out, INFO_FILE), lambda path: _write_json(info, path))
    if isinstance(X, np.memmap):  # now linked as features.npy: the cache's copy can go
        os.remove(X.filename)
    return load_extracted(out)


def _write_array(X, path):
    """``X`` as ``path``: a hard link to a memory-mapped output's file, else a ``.npy`` save."""
    if isinstance(X, np.memmap):
        try:
            os.link(X.filename, path)
            return
        except OSError:  # another filesystem, or no hard links
            shutil.copyfile(X.filename, path)
            return
    with open(path, "wb") as file:
        np.save(file, X)


def _read_part(path, read):
    """``read(path)``, with what goes wrong (truncated, malformed, unreadable) naming the file."""
    try:
        return read(path)
    except (OSError, ValueError, EOFError, pd.errors.ParserError) as error:
        # pandas' EmptyDataError and json's JSONDecodeError are ValueErrors too.
        raise ParameterError(
            f"cannot read {path!r} of the feature store ({type(error).__name__}: {error}); "
            "run the extraction again."
        ) from error


def _read_json(path):
    with open(path) as file:
        return json.load(file)


def _write_json(data, path):
    with open(path, "w") as file:
        json.dump(data, file, indent=2)


@validate_arguments(
    {
        "directory": expand_path,
        "mmap_mode": functools.partial(check_choice, choices=("r", "c", None)),
    }
)
def load_extracted(directory, *, mmap_mode="r"):
    """Read a feature store written by :func:`extract_fma` (``skfma extract``).

    Rows of files that could not be decoded are zeros; a warning names how
    many and where they are listed (``index.csv``'s ``failed`` column).

    Parameters
    ----------
    directory : str or os.PathLike
        The store's folder.
    mmap_mode : {"r", "c", None}, default="r"
        Memory-map the array (read-only, or copy-on-write), or read it whole
        with None.

    Returns
    -------
    X : ndarray or numpy.memmap, shape (n_tracks, ...)
    track_ids : ndarray of int64, shape (n_tracks,)
        Join them with the metadata:
        ``load_fma_metadata(root)["tracks"].loc[track_ids]``.

    Examples
    --------
    >>> from skfma.pipeline import load_extracted
    >>> X, track_ids = load_extracted("fma_small_logmel")  # doctest: +SKIP
    """
    paths = [os.path.join(directory, name) for name in (FEATURES_FILE, INDEX_FILE, INFO_FILE)]
    missing = [path for path in paths if not os.path.isfile(path)]
    if missing:
        raise ParameterError(
            f"directory {directory!r} is not a feature store of skfma extract: "
            f"{', '.join(map(repr, missing))} not found."
        )
    X = _read_part(paths[0], lambda path: np.load(path, mmap_mode=mmap_mode, allow_pickle=False))
    index = _read_part(paths[1], pd.read_csv)
    missing = [column for column in INDEX_COLUMNS if column not in index.columns]
    if missing:
        raise ParameterError(f"{paths[1]!r} lacks the column(s) {', '.join(missing)}.")
    if index.empty:
        raise ParameterError(f"{paths[1]!r} lists no tracks.")
    if index["failed"].dtype != bool or not pd.api.types.is_integer_dtype(index["track_id"]):
        raise ParameterError(
            f"{paths[1]!r}: its 'failed' column must be True/False and 'track_id' integers; "
            f"got {index['failed'].dtype} and {index['track_id'].dtype}."
        )
    info = _read_part(paths[2], _read_json)
    shape = info.get("shape") if isinstance(info, dict) else None
    if not isinstance(shape, list) or not all(isinstance(size, int) for size in shape):
        raise ParameterError(f"{paths[2]!r} has no 'shape' (a list of ints); got {shape!r}.")
    shape = tuple(shape)
    if len(index) != len(X) or X.shape != shape:
        raise ParameterError(
            f"directory {directory!r} holds parts of different extractions: {paths[1]!r} lists "
            f"{len(index)} tracks, {paths[0]!r} holds shape {X.shape}, {paths[2]!r} says "
            f"{shape}; run the extraction again."
        )
    n_failed = int(index["failed"].sum())
    if n_failed:
        warn_user(
            f"{n_failed} of {len(index)} tracks in {directory!r} could not be decoded; their "
            f"rows are zeros (index.csv, column 'failed').",
            UserWarning,
        )
    return X, index["track_id"].to_numpy(dtype=np.int64)
