"""What the report scripts share: their command line, smoke data, folds, and writing results.

Not an example: the scripts beside it import it (``python report_00N_*.py`` puts this
folder on ``sys.path``, and so does the documentation build).
"""

import argparse
import atexit
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import PredefinedSplit

from skfma import AudioLoader
from skfma.datasets import load_fma, make_fma_like
from skfma.evaluation import (
    plot_confusion_matrix,
    plot_learning_curves,
    plot_per_class,
    report_to_markdown,
)
from skfma.features import FMAFeatures, fma_feature_index
from skfma.pipeline import make_audio_features


def parse_args(number, description, *, add_arguments=None):
    """The options every report script takes; without ``--root``, a smoke run.

    A smoke run trains single-threaded (tiny nets on a shared CPU run slower
    with a second torch thread).

    Parameters
    ----------
    number : str
        The report's number, e.g. ``"003"``.
    description : str
        The script's ``--help`` text.
    add_arguments : callable or None, default=None
        Called with the ``argparse.ArgumentParser`` to add the report's own
        options.

    Returns
    -------
    args : argparse.Namespace
        ``number``, ``root`` (None for a smoke run), ``subset``, ``smoke``,
        ``out`` (a Path, created; a temporary folder for a smoke run without
        ``--out``, so that the documentation build writes nothing beside the
        scripts), ``n_jobs``, ``device``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--root",
        help="an FMA download (fma_metadata/ and fma_SUBSET/); without it, a smoke run",
    )
    parser.add_argument("--subset", default="small", choices=["small", "medium", "large"])
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="run end to end at a tiny scale on synthetic FMA-like data (what CI runs)",
    )
    parser.add_argument(
        "--out",
        help=f"results folder; default report_{number}_results, or a temporary one when smoke",
    )
    parser.add_argument("--n-jobs", type=int, default=None, help="processes for extraction")
    parser.add_argument("--device", default="cpu", help='where nets train, e.g. "cuda"')
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args()
    args.number = number
    if args.root is None:
        args.smoke = True
    if args.smoke:
        args.root = None
        torch.set_num_threads(1)
    if args.out is None:
        default = f"report_{number}_results"
        args.out = tempfile.mkdtemp(prefix=f"skfma_{default}_") if args.smoke else default
    args.out = Path(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def smoke_root(*, duration=3.0):
    """48 synthetic clips of 4 genres in the FMA layout, in a temporary folder removed at exit.

    Returns the folder (the dataset's root); ``duration`` is each clip's, in seconds.
    """
    root = Path(tempfile.mkdtemp(prefix="skfma_smoke_"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    make_fma_like(root, n_clips=48, n_genres=4, duration=duration, random_state=0)
    return root


def validation_fold(split):
    """The FMA validation split as the one held-out fold of the training clips.

    ``split`` is each clip's FMA split (``"training"`` or ``"validation"``); the
    ``PredefinedSplit`` serves as a search's ``cv`` or in ``ValidSplit``.
    """
    return PredefinedSplit(np.where(np.asarray(split) == "validation", 0, -1))


def n_parameters(module):
    """The trainable parameters of a torch module (those the published counts give)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def write_features_csv(root, *, duration=30.0, n_jobs=None):
    """Write ``root/fma_metadata/features.csv`` as the FMA released it, from skfma's extraction.

    The smoke data have audio but no ``features.csv``: this computes the 518
    features of every clip (:class:`~skfma.features.FMAFeatures`) and writes
    them in the released layout (three header rows, then ``track_id``).
    """
    clips = load_fma(root)
    steps = make_audio_features(
        AudioLoader(sr=22050, duration=duration), FMAFeatures(), n_jobs=n_jobs
    )
    table = pd.DataFrame(
        steps.fit_transform(clips.filenames),
        index=pd.Index(clips.track_ids, name="track_id"),
        columns=fma_feature_index(),
    )
    table.to_csv(Path(root) / "fma_metadata" / "features.csv")


def save_table(table, out, name, *, title):
    """Write a table as ``out/name.csv`` and ``out/name.md`` (under ``## title``); print it."""
    table.to_csv(out / f"{name}.csv")
    (out / f"{name}.md").write_text(f"## {title}\n\n{report_to_markdown(table)}\n")
    print(table.to_string())


def save_report(report, out, name, *, net=None):
    """Write a report's tables (CSV, markdown) and figures (PNG) as ``out/name_*``.

    Parameters
    ----------
    report : sklearn.utils.Bunch
        From :func:`skfma.evaluation.evaluate_classifier` or ``evaluate_tagger``.
    out : Path
    name : str
        The experiment's name in the files' names.
    net : NeuralClassifier, skorch History, list of dict or None
        A fitted net (or its history) whose learning curves to draw.

    Returns
    -------
    markdown : str
        The report's tables as markdown.
    """
    import matplotlib.pyplot as plt

    report.summary.to_csv(out / f"{name}_summary.csv")
    tables = ["per_class", "confusion"] if "confusion" in report else ["per_tag"]
    for table in tables:
        report[table].to_csv(out / f"{name}_{table}.csv")
    markdown = report_to_markdown(report)
    (out / f"{name}.md").write_text(f"## {name}\n\n{markdown}\n")
    figures = {"per_class": plot_per_class(report).figure_}
    if "confusion" in report:
        figures["confusion"] = plot_confusion_matrix(report).figure_
    if net is not None:
        figures["learning_curves"] = plot_learning_curves(net).figure_
    for figure_name, figure in figures.items():
        figure.savefig(out / f"{name}_{figure_name}.png", dpi=100, bbox_inches="tight")
    plt.show()
    return markdown


def beside_published(ours, published, args):
    """Print and save the report's published figures beside this run's.

    Parameters
    ----------
    ours, published : dict of str to float
        Figure name -> value; a name missing from ``ours`` shows as NaN.
    args : argparse.Namespace
        From :func:`parse_args`: the report's ``number`` and the ``out`` folder.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``published`` and ``this run``, one row per figure.
    """
    names = list(dict.fromkeys([*published, *ours]))  # in the order given
    table = pd.DataFrame(
        {
            "published": pd.Series(published, index=names, dtype=float),
            "this run": pd.Series(ours, index=names, dtype=float),
        }
    )
    table.index.name = f"report {args.number}"
    save_table(
        table, args.out, "published_vs_this_run", title="Published figures beside this run's"
    )
    return table
