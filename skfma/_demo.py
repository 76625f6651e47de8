"""The demo: genre classification of synthetic clips, from files to a confusion matrix."""

import json
import os
import tempfile
import time

from .exceptions import ParameterError
from .utils import (
    check_int,
    check_n_jobs,
    check_positive,
    expand_path,
    is_int,
    validate_arguments,
    value_check,
)

__all__ = ["run_demo"]

#: Sampling rate of the demo's clips and of its AudioLoader, in Hz.
SR = 22050

#: Samples of MelSpectrogram's default STFT window: a clip holds at least one.
N_FFT = 2048

#: Folds of the artist-grouped cross-validation.
N_FOLDS = 3

#: Clips a genre needs: make_fma_like gives two per artist and holds out one artist per
#: genre for validation and one for test when a genre has 3 to 14 artists, so 7 clips
#: (4 artists) leave 2 artists in training. A genre with 1 training artist lacks from the
#: training part of the fold that tests it (and StratifiedGroupKFold refuses 3 folds when
#: every genre has fewer than 3 training clips).
MIN_CLIPS_PER_GENRE = 7


def _check_n_genres(name, value):
    from .datasets import GENRE_STYLES

    if not is_int(value) or not 2 <= value <= len(GENRE_STYLES):
        raise ParameterError(f"{name} must be an int from 2 to {len(GENRE_STYLES)}; got {value!r}.")
    return value


def _check_duration(name, value):
    check_positive(name, value)
    if value < N_FFT / SR:
        raise ParameterError(
            f"{name} must be at least {N_FFT / SR:.4f} s (one {N_FFT}-sample STFT window at "
            f"{SR} Hz); got {value!r}."
        )
    return value


def _check_seed(name, value):
    if not is_int(value) or not 0 <= value < 2**32:
        raise ParameterError(f"{name} must be an int from 0 to 2**32 - 1; got {value!r}.")
    return value


def _check_callable(name, value):
    if not callable(value):
        raise ParameterError(f"{name} must be a callable such as print; got {value!r}.")
    return value


@validate_arguments(
    {
        "output_dir": expand_path,
        "n_clips": check_int,
        "n_genres": _check_n_genres,
        "duration": _check_duration,
        "n_jobs": value_check(check_n_jobs),
        "random_state": _check_seed,
        "print_fn": _check_callable,
    }
)
def run_demo(
    output_dir="skfma_demo",
    *,
    n_clips=160,
    n_genres=8,
    duration=5.0,
    n_jobs=-1,
    random_state=0,
    print_fn=print,
):
    """Classify synthetic genre clips end to end and report the result.

    Makes (or reuses) a synthetic dataset in the FMA layout with
    :func:`~skfma.datasets.make_fma_like` and reads it with
    :func:`~skfma.datasets.load_fma`, as one would the real FMA. Then runs
    ``AudioLoader -> MelSpectrogram -> TemporalStatistics -> StandardScaler ->
    SVC`` inside ``GridSearchCV`` (over ``C``, ``gamma`` and ``n_mels``) on the
    ``training`` split, cross-validating with folds grouped by artist (no
    artist on both sides of a fold), and evaluates the best pipeline on the
    held-out ``validation`` and ``test`` splits.

    Parameters
    ----------
    output_dir : str or os.PathLike, default="skfma_demo"
        Where the dataset (``fma_like/``) and the confusion matrix
        (``confusion_matrix.png``) go. An existing dataset of the same size and
        genres is reused.
    n_clips : int, default=160
        Number of clips, at least 7 per genre (``7 * n_genres``): with two
        clips per artist, a genre then has four artists, one for validation,
        one for test and two for training, so that the training part of each
        of the 3 cross-validation folds holds every genre.
    n_genres : int, default=8
        Number of synthetic genres, from 2 to 8.
    duration : float, default=5.0
        Clip length in seconds, at least one STFT window of the mel
        spectrogram (2048 samples at 22,050 Hz, about 0.093 s).
    n_jobs : int or None, default=-1
        Parallel workers of the grid search; -1 uses every core.
    random_state : int, default=0
        Seed of the clips and the split, from 0 to ``2**32 - 1``.
    print_fn : callable, default=print
        Where progress and results are written.

    Returns
    -------
    result : dict
        ``search`` (the fitted GridSearchCV), ``test_accuracy``,
        ``confusion_matrix`` (DataFrame) and ``figure_path`` (str or None).

    Raises
    ------
    ParameterError
        If a size is outside the ranges above, naming the parameter.
    """
    if n_clips < MIN_CLIPS_PER_GENRE * n_genres:
        raise ParameterError(
            f"n_clips must be at least {MIN_CLIPS_PER_GENRE} per genre "
            f"({MIN_CLIPS_PER_GENRE * n_genres} for n_genres={n_genres}), so that every genre "
            f"has a validation, a test and two training artists for the {N_FOLDS} "
            f"artist-grouped folds; got {n_clips!r}."
        )
    import pandas as pd
    from sklearn.metrics import accuracy_score, confusion_matrix
    from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from .audio import AudioLoader
    from .features import MelSpectrogram, TemporalStatistics

    started = time.perf_counter()
    os.makedirs(output_dir, exist_ok=True)
    fma = _make_or_reuse_dataset(
        os.path.join(output_dir, "fma_like"), n_clips, n_genres, duration, random_state, print_fn
    )
    train = fma.split == "training"
    train_paths, y_train, artists = fma.filenames[train], fma.target[train], fma.artist_ids[train]
    test_paths, y_test = fma.filenames[~train], fma.target[~train]
    # ``memory`` caches each fold's decoded training clips and spectrograms, so that the
    # grid points that only change the SVM do not decode and transform them again.
    cache = tempfile.TemporaryDirectory(prefix="skfma_demo_cache_")
    pipeline = make_pipeline(
        AudioLoader(sr=SR, duration=duration),
        MelSpectrogram(),
        TemporalStatistics(),
        StandardScaler(),
        SVC(),
        memory=cache.name,
    )
    grid = {
        "melspectrogram__n_mels": [32, 128],
        "svc__C": [1.0, 10.0, 100.0],
        "svc__gamma": ["scale", 1e-3],
    }
    folds = StratifiedGroupKFold(n_splits=N_FOLDS, shuffle=True, random_state=random_state)
    search = GridSearchCV(pipeline, grid, cv=folds, n_jobs=n_jobs, verbose=1)
    print_fn(
        f"Grid search on {len(train_paths)} training clips ({len(fma.target_names)} genres, "
        f"{len(set(artists))} artists; folds grouped by artist)..."
    )
    with cache:
        search.fit(train_paths, y_train, groups=artists)
        search.best_estimator_.set_params(memory=None)

    table = pd.DataFrame(search.cv_results_)
    columns = [f"param_{name}" for name in grid] + ["mean_test_score", "std_test_score"]
    table = table.sort_values("rank_test_score")[columns]
    table.columns = [name.removeprefix("param_").split("__")[-1] for name in columns]
    print_fn("\nCross-validation results (best first):")
    print_fn(table.to_string(index=False, float_format="{:.3f}".format))

    predictions = search.predict(test_paths)
    accuracy = accuracy_score(y_test, predictions)
    labels = search.classes_
    matrix = pd.DataFrame(
        confusion_matrix(y_test, predictions, labels=labels),
        index=pd.Index(labels, name="true"),
        columns=pd.Index(labels, name="predicted"),
    )
    print_fn(f"\nBest parameters: {search.best_params_}")
    print_fn(
        f"Test accuracy on {len(test_paths)} held-out clips (validation and test splits): "
        f"{accuracy:.3f}"
    )
    print_fn("Confusion matrix (rows: true genre, columns: predicted):")
    print_fn(matrix.to_string())
    figure_path = _save_confusion_matrix(matrix, os.path.join(output_dir, "confusion_matrix.png"))
    if figure_path:
        print_fn(f"Saved the confusion matrix to {figure_path}")
    else:
        print_fn("matplotlib is not installed: no PNG (pip install 'skfma[plot]').")
    print_fn(f"Done in {time.perf_counter() - started:.1f} s.")
    return {
        "search": search,
        "test_accuracy": accuracy,
        "confusion_matrix": matrix,
        "figure_path": figure_path,
    }


def _make_or_reuse_dataset(root, n_clips, n_genres, duration, random_state, print_fn):
    """Load the demo's FMA-like dataset, writing it first unless the same one is there.

    The generation parameters are stored beside the data (``demo_parameters.json``,
    written last) and a dataset is reused only when they all match.
    """
    from .datasets import load_fma, make_fma_like

    parameters = {
        "n_clips": n_clips,
        "n_genres": n_genres,
        "duration": duration,
        "random_state": random_state,
    }
    record = os.path.join(root, "demo_parameters.json")
    if os.path.exists(record):
        with open(record) as file:
            same = json.load(file) == parameters
        fma = load_fma(root) if same else None
        if fma is not None and all(os.path.exists(path) for path in fma.filenames):
            print_fn(f"Reusing {n_clips} clips in {root}")
            return fma
        os.remove(record)
    print_fn(
        f"Writing {n_clips} synthetic {duration:g} s MP3 clips in the FMA layout to {root} ..."
    )
    make_fma_like(
        root, n_clips=n_clips, n_genres=n_genres, duration=duration, random_state=random_state
    )
    with open(record, "w") as file:
        json.dump(parameters, file)
    return load_fma(root)


def _save_confusion_matrix(matrix, path):
    """Save the confusion matrix as a PNG; return the path, or None without matplotlib.

    Draws on a bare matplotlib Figure, leaving pyplot and the caller's backend alone.
    """
    try:
        from matplotlib.figure import Figure
        from sklearn.metrics import ConfusionMatrixDisplay
    except ImportError:
        return None
    figure = Figure(figsize=(8, 7))
    axes = figure.subplots()
    display = ConfusionMatrixDisplay(matrix.to_numpy(), display_labels=list(matrix.index))
    display.plot(ax=axes, xticks_rotation=45, colorbar=False)
    axes.set_title("skfma demo: genre confusion matrix (held-out clips)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path
