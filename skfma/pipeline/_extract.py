"""Feature stores: a whole FMA subset's features written to a folder, and read back."""

import json
import os
import shutil
import warnings

import numpy as np
import pandas as pd

from .. import __version__
from ..audio import AudioLoader
from ..datasets import load_fma
from ..exceptions import ParameterError
from ..features import MFCC, FMAFeatures, MelSpectrogram, TemporalStatistics
from ..utils import check_choice, names_its_errors
from ._audio_features import AudioFeatures

__all__ = ["FEATURE_SETS", "extract_fma", "load_extracted"]


def _loader():
    return ("load", AudioLoader(sr=22050, duration=30.0))


#: Named step recipes of :func:`extract_fma` (``skfma extract --features``), all on the
#: first 30 s of each clip at 22,050 Hz.
FEATURE_SETS = {
    # 128-band log-mel spectrograms, (n_clips, 128, 1292) float32: the nets' input.
    "logmel": lambda: [_loader(), ("mel", MelSpectrogram(n_mels=128))],
    # Their 7 temporal statistics, (n_clips, 896): for classic classifiers.
    "logmel-stats": lambda: [
        _loader(),
        ("mel", MelSpectrogram(n_mels=128)),
        ("stats", TemporalStatistics()),
    ],
    # 20 MFCCs with deltas, pooled, (n_clips, 420).
    "mfcc-stats": lambda: [
        _loader(),
        ("mfcc", MFCC(n_mfcc=20, deltas=2)),
        ("stats", TemporalStatistics()),
    ],
    # The FMA's 518 handcrafted features, as its released features.csv.
    "fma": lambda: [_loader(), ("fma", FMAFeatures())],
}

FEATURES_FILE = "features.npy"
INDEX_FILE = "index.csv"
EXCLUDED_FILE = "excluded.csv"
INFO_FILE = "info.json"


@names_its_errors
def extract_fma(
    root, out, *, subset="small", features="logmel", n_jobs=None, batch_size=None, verbose=0
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
    - ``info.json``: the subset, feature set, steps and skfma version.

    Parameters
    ----------
    root : str or os.PathLike
        The FMA folder (``root/fma_metadata``, ``root/fma_{subset}``).
    out : str or os.PathLike
        The output folder, created if needed.
    subset : {"small", "medium", "large", "full"}, default="small"
    features : str, default="logmel"
        A key of :data:`FEATURE_SETS`: ``"logmel"``, ``"logmel-stats"``,
        ``"mfcc-stats"`` or ``"fma"``.
    n_jobs : int or None, default=None
        Workers (joblib; a Dask cluster through ``joblib.parallel_config``).
    batch_size : int or None, default=None
        Clips per task (:class:`AudioFeatures`).
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
    check_choice("features", features, tuple(FEATURE_SETS))
    out = os.fspath(out)
    fma = load_fma(root, subset=subset)
    extractor = AudioFeatures(
        FEATURE_SETS[features](),
        n_jobs=n_jobs,
        batch_size=batch_size,
        memory=os.path.join(out, "cache"),
        on_error="warn",
        verbose=verbose,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"\d+ of \d+ audio files could not be decoded")
        X = extractor.fit_transform(fma.filenames)
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
    _publish_array(X, os.path.join(out, FEATURES_FILE))
    index.to_csv(os.path.join(out, INDEX_FILE), index=False)
    excluded = pd.DataFrame(list(fma.excluded.items()), columns=["track_id", "reason"])
    excluded.to_csv(os.path.join(out, EXCLUDED_FILE), index=False)
    info = {
        "subset": subset,
        "features": features,
        "steps": [repr(step) for _, step in extractor.steps],
        "shape": list(X.shape),
        "failures": len(failures),
        "skfma": __version__,
    }
    with open(os.path.join(out, INFO_FILE), "w") as file:
        json.dump(info, file, indent=2)
    return load_extracted(out)


def _publish_array(X, path):
    """Write ``X`` as ``path`` atomically: a hard link to a memory-mapped output, else a save."""
    temporary = f"{path}.tmp"
    if os.path.exists(temporary):
        os.remove(temporary)
    if isinstance(X, np.memmap):
        try:
            os.link(X.filename, temporary)
        except OSError:  # another filesystem, or no hard links
            shutil.copyfile(X.filename, temporary)
    else:
        with open(temporary, "wb") as file:
            np.save(file, X)
    os.replace(temporary, path)


@names_its_errors
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
    check_choice("mmap_mode", mmap_mode, ("r", "c", None))
    directory = os.fspath(directory)
    paths = [os.path.join(directory, name) for name in (FEATURES_FILE, INDEX_FILE)]
    missing = [path for path in paths if not os.path.isfile(path)]
    if missing:
        raise ParameterError(
            f"directory {directory!r} is not a feature store of skfma extract: "
            f"{', '.join(map(repr, missing))} not found."
        )
    X = np.load(paths[0], mmap_mode=mmap_mode, allow_pickle=False)
    index = pd.read_csv(paths[1])
    if len(index) != len(X):
        raise ParameterError(
            f"{paths[1]!r} lists {len(index)} tracks but {paths[0]!r} holds {len(X)} rows."
        )
    n_failed = int(index["failed"].sum())
    if n_failed:
        warnings.warn(
            f"{n_failed} of {len(index)} tracks in {directory!r} could not be decoded; their "
            f"rows are zeros (index.csv, column 'failed').",
            UserWarning,
            stacklevel=3,
        )
    return X, index["track_id"].to_numpy(dtype=np.int64)
