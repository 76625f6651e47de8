"""Run the benchmark: extract each feature set once, fit every pipeline, write the table."""

import contextlib
import functools
import json
import os
import time
import traceback

import numpy as np
import pandas as pd
from joblib import hash as stable_hash
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.utils import Bunch
from tqdm import tqdm

from .. import __version__
from .._memory import peak_resident_bytes, reset_peak_resident
from ..datasets import load_fma, make_fma_like
from ..evaluation import evaluate_classifier
from ..exceptions import ParameterError, SkfmaError
from ..pipeline import FEATURE_SETS, extract_fma, load_extracted
from ..utils import (
    check_bool,
    ensure_writable_folder,
    expand_path,
    files_digest,
    validate_arguments,
    value_check,
    write_atomically,
)
from ..utils._fingerprint import describe
from ._pipelines import resolve_pipelines
from ._table import write_figures, write_table

__all__ = ["run_benchmark"]

SPLITS = ("training", "validation", "test")
RESULTS_DIR = "results"
FEATURES_DIR = "features"
#: The smoke run's data: make_fma_like's clips, enough for every split of every genre.
SMOKE_DATA = {"n_clips": 48, "n_genres": 4, "duration": 3.0, "random_state": 0}


def _check_device(name, value):
    """Refuse a device torch cannot use; the value is kept as given (it is in the results' keys)."""
    from ..utils._device import check_device  # torch, only when a device is named

    check_device(value, allow_none=True)
    return value


@validate_arguments(
    {
        "root": functools.partial(expand_path, allow_none=True),
        "subset": extract_fma._parameter_checks["subset"],
        "pipelines": value_check(resolve_pipelines),
        "out": expand_path,
        "n_jobs": extract_fma._parameter_checks["n_jobs"],
        "device": _check_device,
        "smoke": check_bool,
        "verbose": extract_fma._parameter_checks["verbose"],
    }
)
def run_benchmark(
    root=None,
    *,
    subset="small",
    pipelines=None,
    out="skfma_benchmark",
    n_jobs=None,
    device=None,
    smoke=False,
    verbose=1,
):
    """Run named pipelines on the FMA's official split and write one results table.

    Every feature set that the chosen pipelines use is extracted once, with
    :func:`~skfma.pipeline.extract_fma`, into ``out/features/NAME`` (its
    per-clip cache makes an interrupted extraction resume), and shared by
    all of them. Each pipeline is fitted on the training split (its grid, if
    it has one, tuned on the validation split), scored once on the test
    split with :func:`~skfma.evaluation.evaluate_classifier`, and its result
    written to ``out/results/NAME.json`` as soon as it is done; the table
    is rewritten after each one. A run started again skips the pipelines
    whose result is there for the same pipeline and data, so an interrupted
    run resumes; a pipeline that raised is reported, the others still run,
    and it is retried by the next run.

    Tracks whose audio could not be decoded (a row of zeros in a feature
    store) are left out of every pipeline, so that all are compared on the
    same clips; their number is printed and in the table's ``n_test``.

    Parameters
    ----------
    root : str, os.PathLike or None, default=None
        The FMA folder (``root/fma_metadata``, ``root/fma_{subset}``), as
        :func:`~skfma.datasets.load_fma` reads it. ``None`` with ``smoke``.
    subset : {"small", "medium", "large", "full"}, default="small"
    pipelines : None, str, list of str or dict, default=None
        Names of built-in or registered pipelines (:func:`register_pipeline`,
        :func:`list_pipelines`), ``"default"`` (every one that is not
        opt-in, the default) or ``"all"``; or a dict of name ->
        :class:`BenchmarkPipeline` (or ``None`` for a known name).
    out : str or os.PathLike, default="skfma_benchmark"
        The output folder: ``results.csv``, ``results.md``, the figures
        ``accuracy_vs_cost.png`` and ``per_class_f1.png`` (with
        matplotlib), ``results/``, ``features/``. A later run with the same
        ``out`` reuses each feature set's store in ``features/`` if it was
        extracted from the same files (paths within ``root`` and sizes; the
        folder itself may have moved), and refuses the run otherwise, naming
        the store: another download, or a smoke run's folder given a real
        ``root``, never gets the old clips' features.
    n_jobs : int or None, default=None
        Workers of the extraction and of the grid searches (joblib).
    device : str or None, default=None
        Set on the nets (``"cuda"``); ``None`` leaves their own.
    smoke : bool, default=False
        Run on a tiny synthetic FMA (:func:`~skfma.datasets.make_fma_like`,
        written to ``out/smoke-data``), with each pipeline's
        ``smoke_params`` (one epoch for the nets): a check that everything
        runs end to end, in minutes. ``root`` must be None.
    verbose : int, default=1
        0: silent; 1: a line per pipeline with the time left, and the
        extraction's progress bar.

    Returns
    -------
    result : sklearn.utils.Bunch
        ``table`` (pandas.DataFrame indexed by pipeline, best accuracy first:
        the metrics, costs and published figures of ``results.csv``),
        ``per_class_f1`` (pipelines x genres), ``failed`` (name -> error
        message of the pipelines that raised) and ``skipped`` (name -> why:
        fewer training clips than the pipeline's ``min_training_clips``).

    See Also
    --------
    skfma.pipeline.extract_fma, skfma.evaluation.evaluate_classifier
    """
    chosen = pipelines
    ensure_writable_folder(os.path.join(out, RESULTS_DIR))
    if smoke:
        if root is not None:
            raise ParameterError("smoke=True makes its own data: root must be None.")
        if subset != "small":
            raise ParameterError(f"smoke=True makes a small subset; got subset={subset!r}.")
        root = _smoke_data(out)
    elif root is None:
        raise ParameterError("root is required (the FMA folder), unless smoke=True.")
    log = _Log(verbose)
    names = list(dict.fromkeys(name for spec in chosen.values() for name in spec.features))
    data = _load_data(root, out, subset, names, n_jobs, verbose, log)
    results = _previous_results(out)
    keys = {name: _key(spec, data, smoke, device) for name, spec in chosen.items()}
    todo = [name for name in chosen if results.get(name, {}).get("key") != keys[name]]
    log(
        f"{len(chosen)} pipelines: {len(chosen) - len(todo)} done in a previous run, "
        f"{len(todo)} to run."
    )
    failed, skipped, spent = {}, {}, []
    n_training = len(data.rows["training"])
    for number, name in enumerate(todo, start=1):
        least = chosen[name].min_training_clips
        if not smoke and n_training < least:
            skipped[name] = f"needs at least {least} training clips; the split has {n_training}"
            log(f"[{number}/{len(todo)}] {name} skipped: {skipped[name]}")
            continue
        start = time.perf_counter()
        try:
            result = _run_one(name, chosen[name], data, smoke, device, n_jobs)
        except (KeyboardInterrupt, MemoryError):
            raise
        except Exception as error:  # one pipeline's failure does not lose the others' runs
            failed[name] = f"{type(error).__name__}: {error}"
            log(f"[{number}/{len(todo)}] {name} FAILED: {failed[name]}")
            if verbose > 1:
                traceback.print_exception(error)
            continue
        result["key"] = keys[name]
        _write_json(result, os.path.join(out, RESULTS_DIR, f"{name}.json"))
        results[name] = result
        spent.append(time.perf_counter() - start)
        left = np.mean(spent) * (len(todo) - number)
        log(
            f"[{number}/{len(todo)}] {name}: test accuracy {result['accuracy']:.3f}, "
            f"{spent[-1]:.0f} s; about {tqdm.format_interval(left)} left"
        )
        write_table(_current(results, keys), data.description, out)
    table, per_class = write_table(_current(results, keys), data.description, out)
    figures = write_figures(table, per_class, out)
    log(f"results: {os.path.join(out, 'results.md')}" + "".join(f", {f}" for f in figures))
    others = sorted(set(results) - set(chosen))
    if others:
        log(
            f"not in this table, results of pipelines not chosen in this run (in "
            f"{os.path.join(out, RESULTS_DIR)}; name them to show them): {', '.join(others)}"
        )
    if skipped:
        log(f"{len(skipped)} pipeline(s) skipped: {skipped}")
    if failed:
        log(f"{len(failed)} pipeline(s) failed and will be retried by the next run: {failed}")
    return Bunch(table=table, per_class_f1=per_class, failed=failed, skipped=skipped)


class _Log:
    """Print progress lines on stdout when ``verbose``."""

    def __init__(self, verbose):
        self.verbose = verbose

    def __call__(self, message):
        if self.verbose:
            print(f"skfma benchmark: {message}", flush=True)


def _smoke_data(out):
    root = os.path.join(out, "smoke-data")
    if not os.path.isfile(os.path.join(root, "fma_metadata", "tracks.csv")):
        make_fma_like(root, **SMOKE_DATA)  # written once: its files' identities key the cache
    return root


def _load_data(root, out, subset, names, n_jobs, verbose, log):
    """Every feature set's store (extracted if needed), aligned on the same tracks.

    The stores hold the features; each track's split and genre are read from
    ``tracks.csv`` at every run, so that a corrected ``tracks.csv`` counts.
    """
    arrays, seconds, index = {}, {}, None
    fma = load_fma(root, subset=subset)
    for part in ("training", "test"):  # before hours of extraction
        if not np.any(fma.split == part):
            raise SkfmaError(
                f"the tracks.csv of {root!r} lists no track of the {subset} subset's {part} "
                "split with a top genre: nothing to train or test on."
            )
    sources = files_digest(fma.filenames, root)
    for name in names:
        folder = os.path.join(out, FEATURES_DIR, name)
        if not os.path.isfile(os.path.join(folder, "info.json")):
            # No info.json: never extracted, or stopped before its end (the cache keeps its clips).
            log(f"extracting the {name!r} features into {folder}")
            extract_fma(
                root,
                folder,
                subset=subset,
                features=name,
                n_jobs=n_jobs,
                verbose=verbose,
                overwrite=True,
            )
        X, info, store_index = _read_store(folder, name, root, subset, sources)
        if index is not None and not np.array_equal(
            store_index["track_id"].to_numpy(), index["track_id"].to_numpy()
        ):
            raise SkfmaError(
                f"the feature stores in {os.path.join(out, FEATURES_DIR)!r} hold different "
                f"tracks ({name!r} differs from {names[0]!r}): delete that folder to extract "
                "them again."
            )
        index = (
            store_index
            if index is None
            else index.assign(failed=index["failed"] | store_index["failed"])
        )
        arrays[name] = X
        seconds[name] = info.get("seconds", float("nan")) / max(len(store_index), 1)
    # The same audio files (``sources``) are the same tracks: their labels as tracks.csv has them.
    labels = pd.DataFrame({"split": fma.split, "genre_top": fma.target}, index=fma.track_ids)
    index = index.assign(**labels.loc[index["track_id"]].reset_index(drop=True))
    failed = index["failed"].to_numpy()
    split = index["split"].to_numpy()
    rows = {part: np.flatnonzero((split == part) & ~failed) for part in SPLITS}
    for part in ("training", "test"):
        if not len(rows[part]):
            raise SkfmaError(f"the {part} split of {root!r} ({subset}) has no decodable track.")
    counts = ", ".join(f"{len(rows[part])} {part}" for part in SPLITS)
    description = f"FMA {subset} in {root}: {counts} clips"
    if failed.any():
        description += f"; {int(failed.sum())} tracks left out (undecodable, index.csv)"
    genres = index["genre_top"].to_numpy(dtype=object)
    untested = sorted(set(genres[rows["training"]]) - set(genres[rows["test"]]))
    if untested:
        description += f"; no test clip of {', '.join(untested)} (no F1 for them)"
    log(description)
    return Bunch(
        arrays=arrays,
        seconds=seconds,
        rows=rows,
        y=genres,
        track_ids=index["track_id"].to_numpy(),
        description=description,
        key=stable_hash((subset, index.to_numpy(), sources, __version__)),
    )


def _read_store(folder, name, root, subset, sources):
    """A store's array, info and index; checked to hold ``name`` of ``subset`` of the files
    of ``root`` whose :func:`~skfma.utils.files_digest` is ``sources``."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # undecodable rows: reported by the caller
        X, _ = load_extracted(folder)
    with open(os.path.join(folder, "info.json"), encoding="utf-8") as file:
        info = json.load(file)
    expected = [repr(step) for _, step in FEATURE_SETS[name]()]
    if info.get("subset") != subset or info.get("steps") != expected:
        raise SkfmaError(
            f"{folder!r} holds features of another subset or recipe (subset "
            f"{info.get('subset')!r}, steps {info.get('steps')!r}); expected {name!r} of "
            f"{subset!r}: delete the folder, or give the benchmark another out."
        )
    if info.get("sources") != sources:
        raise SkfmaError(
            f"{folder!r} holds features of other audio files than the {subset} subset in "
            f"{root!r} (extracted from {info.get('root', 'files it does not record')!r}): "
            "delete the folder to extract them again, or give the benchmark another out."
        )
    return X, info, pd.read_csv(os.path.join(folder, "index.csv"))


def _key(spec, data, smoke, device):
    """What a pipeline's result depends on: its code and settings, the data, the mode.

    The device counts only for an estimator that takes one (the nets).
    """
    return stable_hash(
        (
            describe(spec.estimator),
            describe(spec.param_grid),
            spec.features,
            data.key,
            smoke,
            smoke and describe(spec.smoke_params),
            device if spec.takes_device else None,
        )
    )


def _previous_results(out):
    results = {}
    folder = os.path.join(out, RESULTS_DIR)
    for filename in sorted(os.listdir(folder)):
        if filename.endswith(".json"):
            with contextlib.suppress(OSError, ValueError):
                with open(os.path.join(folder, filename), encoding="utf-8") as file:
                    result = json.load(file)
                if isinstance(result, dict):  # anything else is damaged: the pipeline runs again
                    results[filename[: -len(".json")]] = result
    return results


def _current(results, keys):
    """The results of the chosen pipelines that are done as they are now, in the order chosen.

    A result of a pipeline since changed (another key) that failed to run
    again is not its result: left out, as the pipeline's failure says.
    """
    return {
        name: results[name] for name, key in keys.items() if results.get(name, {}).get("key") == key
    }


def _features(data, names, rows):
    """The rows of the named feature sets: one set as it is, several side by side."""
    parts = [np.asarray(data.arrays[name][rows]) for name in names]
    if len(parts) == 1:
        return parts[0]
    wrong = [name for name, part in zip(names, parts, strict=True) if part.ndim != 2]
    if wrong:
        raise ParameterError(
            f"features {names!r}: only 2-D feature sets can be put side by side; "
            f"{', '.join(wrong)} are not."
        )
    return np.hstack(parts)


def _run_one(name, spec, data, smoke, device, n_jobs):
    """Fit, tune and test one pipeline; its result as a JSON-able dict."""
    reset_peak_resident()
    rows = data.rows
    X_train, y_train = _features(data, spec.features, rows["training"]), data.y[rows["training"]]
    X_val, y_val = _features(data, spec.features, rows["validation"]), data.y[rows["validation"]]
    estimator = spec.make_estimator(smoke=smoke, device=device)
    start = time.perf_counter()
    best_params = {}
    if spec.param_grid is not None:
        if not len(y_val):
            raise SkfmaError(f"{name} tunes on the validation split, which has no clip.")
        search = GridSearchCV(
            estimator,
            spec.param_grid,
            cv=PredefinedSplit(np.r_[np.full(len(y_train), -1), np.zeros(len(y_val))]),
            refit=False,
            n_jobs=n_jobs,
            error_score="raise",
        ).fit(np.concatenate([X_train, X_val]), np.concatenate([y_train, y_val]))
        best_params = search.best_params_
        estimator = clone(estimator).set_params(**best_params)
    model = estimator.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    X_test = _features(data, spec.features, rows["test"])
    y_test = data.y[rows["test"]]
    # Per genre and in the macro averages, the genres of the test split: one without a test
    # clip has no F1 (logged by _load_data), where 0 would lower the macro F1 of every pipeline.
    report = evaluate_classifier(model, X_test, y_test, labels=np.unique(y_test), zero_division=0.0)
    summary = report.summary
    return {
        "features": " + ".join(spec.features),
        "description": spec.description,
        "n_training": len(y_train),
        "n_validation": len(y_val),
        "n_test": int(summary["n_clips"]),
        "accuracy": float(summary["accuracy"]),
        "balanced_accuracy": float(summary["balanced_accuracy"]),
        "f1_macro": float(summary["f1_macro"]),
        "top_3_accuracy": float(summary["top_3_accuracy"]),
        "validation_accuracy": float(model.score(X_val, y_val)) if len(y_val) else None,
        "extraction_seconds_per_clip": float(sum(data.seconds[n] for n in spec.features)),
        "fit_seconds": fit_seconds,
        "predict_seconds_per_clip": float(summary["inference_seconds_per_clip"]),
        "peak_memory_mib": peak_resident_bytes() / 2**20,
        "best_params": {key: repr(value) for key, value in best_params.items()},
        "per_class_f1": {str(label): float(f1) for label, f1 in report.per_class["f1"].items()},
        "published_accuracy": spec.published[0] if spec.published else None,
        "published_source": spec.published[1] if spec.published else None,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _write_json(data, path):
    def write(temporary):
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=1)

    write_atomically(path, write)
