"""The demo: genre classification of synthetic clips, from files to a confusion matrix."""

import csv
import os
import time

import numpy as np

__all__ = ["run_demo"]


def run_demo(
    output_dir="skfma_demo",
    *,
    n_clips=160,
    n_genres=8,
    duration=5.0,
    n_jobs=None,
    random_state=0,
    print_fn=print,
):
    """Classify synthetic genre clips end to end and report the result.

    Makes (or reuses) a dataset of MP3 files in the FMA layout, then runs
    ``AudioLoader -> MelSpectrogram -> TemporalStatistics -> StandardScaler ->
    SVC`` inside ``GridSearchCV`` (over ``C``, ``gamma`` and ``n_mels``) on a
    stratified training split, and evaluates the best pipeline on the held-out
    clips.

    Parameters
    ----------
    output_dir : str or os.PathLike, default="skfma_demo"
        Where the clips (``clips/``) and the confusion matrix
        (``confusion_matrix.png``) go. Existing clips are reused.
    n_clips : int, default=160
        Number of clips.
    n_genres : int, default=8
        Number of synthetic genres.
    duration : float, default=5.0
        Clip length in seconds.
    n_jobs : int or None, default=None
        Parallel workers of the grid search.
    random_state : int, default=0
        Seed of the clips and the split.
    print_fn : callable, default=print
        Where progress and results are written.

    Returns
    -------
    result : dict
        ``search`` (the fitted GridSearchCV), ``test_accuracy``,
        ``confusion_matrix`` (DataFrame) and ``figure_path`` (str or None).
    """
    import pandas as pd
    from sklearn.metrics import accuracy_score, confusion_matrix
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from .audio import AudioLoader
    from .features import MelSpectrogram, TemporalStatistics

    started = time.perf_counter()
    os.makedirs(output_dir, exist_ok=True)
    clips_dir = os.path.join(output_dir, "clips")
    paths, genres = _make_or_reuse_clips(
        clips_dir, n_clips, n_genres, duration, random_state, print_fn
    )
    train_paths, test_paths, y_train, y_test = train_test_split(
        paths, genres, test_size=0.25, stratify=genres, random_state=random_state
    )
    pipeline = make_pipeline(
        AudioLoader(sr=22050, duration=duration),
        MelSpectrogram(),
        TemporalStatistics(),
        StandardScaler(),
        SVC(),
    )
    grid = {
        "melspectrogram__n_mels": [32, 128],
        "svc__C": [1.0, 10.0, 100.0],
        "svc__gamma": ["scale", 1e-3],
    }
    search = GridSearchCV(pipeline, grid, cv=3, n_jobs=n_jobs, verbose=1)
    print_fn(f"Grid search on {len(train_paths)} training clips ({len(set(genres))} genres)...")
    search.fit(train_paths, y_train)

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
    print_fn(f"Test accuracy on {len(test_paths)} held-out clips: {accuracy:.3f}")
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


def _make_or_reuse_clips(clips_dir, n_clips, n_genres, duration, random_state, print_fn):
    """Return (paths, genres) of the demo clips, writing them first if not there yet."""
    from .datasets import make_genre_clips

    labels_file = os.path.join(clips_dir, "labels.csv")
    if os.path.exists(labels_file):
        with open(labels_file, newline="") as file:
            rows = list(csv.DictReader(file))
        paths = np.array([os.path.join(clips_dir, row["path"]) for row in rows], dtype=object)
        if len(rows) == n_clips and all(os.path.exists(path) for path in paths):
            print_fn(f"Reusing {n_clips} clips in {clips_dir}")
            return paths, np.array([row["genre"] for row in rows], dtype=object)
    print_fn(f"Writing {n_clips} synthetic {duration:g} s MP3 clips to {clips_dir} ...")
    return make_genre_clips(
        n_clips,
        n_genres=n_genres,
        duration=duration,
        random_state=random_state,
        directory=clips_dir,
    )


def _save_confusion_matrix(matrix, path):
    """Save the confusion matrix as a PNG; return the path, or None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from sklearn.metrics import ConfusionMatrixDisplay
    except ImportError:
        return None
    figure, axes = plt.subplots(figsize=(8, 7))
    display = ConfusionMatrixDisplay(matrix.to_numpy(), display_labels=list(matrix.index))
    display.plot(ax=axes, xticks_rotation=45, colorbar=False)
    axes.set_title("skfma demo: genre confusion matrix (held-out clips)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
