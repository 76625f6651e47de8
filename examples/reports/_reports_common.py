"""What the report scripts share: their command line, the clips, the run's clock, and results.

Not an example: the scripts beside it import it (``python report_00N_*.py`` puts this
folder on ``sys.path``, and so does the documentation build).
"""

import argparse
import atexit
import math
import shutil
import sys
import tempfile
import time
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import PredefinedSplit
from sklearn.utils import Bunch
from skorch.callbacks import Callback

from skfma import AudioLoader
from skfma.datasets import load_fma, make_fma_like
from skfma.evaluation import (
    ConfusionMatrixDisplay,
    PerClassDisplay,
    TrainingHistoryDisplay,
    report_to_markdown,
)
from skfma.exceptions import ParameterError
from skfma.features import FMAFeatures, fma_feature_index
from skfma.pipeline import make_audio_features
from skfma.utils._device import check_device  # the nets' own check, before any extraction


def parse_args(number, description, *, search=False, add_arguments=None):
    """The options every report script takes; without ``--root``, a smoke run.

    A smoke run trains single-threaded unless ``--threads`` says otherwise
    (tiny nets on a shared CPU run slower with a second torch thread).

    Parameters
    ----------
    number : str
        The report's number, e.g. ``"003"``.
    description : str
        The script's ``--help`` text.
    search : bool, default=False
        Whether the report runs a hyperparameter search: adds ``--trials``.
    add_arguments : callable or None, default=None
        Called with the ``argparse.ArgumentParser`` to add the report's own
        options.

    Returns
    -------
    args : argparse.Namespace
        ``number``, ``root`` (None for a smoke run), ``subset``, ``smoke``,
        ``out`` (a Path, created; a temporary folder for a smoke run without
        ``--out``, so that the documentation build writes nothing beside the
        scripts), ``n_jobs``, ``device``, ``threads``, ``precision``, ``checkpoint`` (a
        Path or None), and the shrink options ``epochs``, ``clips_per_genre``,
        ``batch_size`` (and ``trials`` with ``search``), None where not given.
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
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads (default: torch's, one per core; smoke: 1); on a CPU shared with "
        "other work, 1 is often several times faster",
    )
    parser.add_argument(
        "--precision",
        default="float32",
        choices=["float32", "bfloat16", "float16"],
        help="arithmetic of the nets (bfloat16: CPUs with AVX-512 BF16/AMX and GPUs; "
        "float16: GPUs)",
    )
    parser.add_argument(
        "--checkpoint",
        help="folder where each net saves every finished epoch; a run given the folder of a "
        "crashed one resumes its fits, and its searches after their last finished trial",
    )
    shrink = parser.add_argument_group("shrinking a run (defaults: the report's settings)")
    shrink.add_argument("--epochs", type=int, help="epochs of every net")
    if search:
        shrink.add_argument("--trials", type=int, help="configurations the search tries")
    shrink.add_argument(
        "--clips-per-genre",
        type=int,
        help="keep this many clips of each genre in each split (the same ones in every run)",
    )
    shrink.add_argument("--batch-size", type=int, help="clips (or windows) per training batch")
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args()
    for name in ("threads", "epochs", "trials", "clips_per_genre", "batch_size"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1; got {value}")
    if args.smoke and args.root is not None:
        parser.error("--smoke runs on synthetic data: give --root or --smoke, not both")
    try:
        check_device(args.device)  # before hours of extraction
    except ParameterError as error:
        parser.error(str(error))
    args.number = number
    if args.root is None:
        args.smoke = True
    if args.smoke:
        args.root = None
        args.threads = args.threads or 1
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.out is None:
        default = f"report_{number}_results"
        args.out = tempfile.mkdtemp(prefix=f"skfma_{default}_") if args.smoke else default
    args.out = Path(args.out).expanduser()
    args.out.mkdir(parents=True, exist_ok=True)
    args.checkpoint = None if args.checkpoint is None else Path(args.checkpoint).expanduser()
    explain_interruptions(args)
    return args


def explain_interruptions(args):
    """End a run stopped by Ctrl-C with what it kept and how to go on, not a traceback.

    Only where the report script runs as the program (``python
    report_00N_*.py``): the documentation build runs the scripts inside its
    own process, whose interruptions stay its own. Other errors keep their
    traceback.
    """
    program = Path(getattr(sys.modules["__main__"], "__file__", None) or "")
    if not program.name.startswith(f"report_{args.number}"):
        return
    previous = sys.excepthook

    def explain(kind, value, traceback):
        if not issubclass(kind, KeyboardInterrupt):
            previous(kind, value, traceback)
            return
        if args.checkpoint is None:
            lines = [
                "Interrupted. No epoch was saved: with --checkpoint DIR, a run that stops goes "
                "on from its last finished epoch."
            ]
        elif not any(args.checkpoint.glob("**/*")):
            lines = [
                f"Interrupted before any net saved an epoch in {args.checkpoint}: the same "
                "command starts the training again."
            ]
        else:
            searches = (
                " (a search goes on after its last finished trial)"
                if hasattr(args, "trials")
                else ""
            )
            lines = [
                f"Interrupted. Each net's last saved epoch is in {args.checkpoint}: run the "
                f"same command to go on from there{searches}."
            ]
        if (args.out / "cache").is_dir():
            lines.append(f"The features extracted so far are cached in {args.out / 'cache'}.")
        print("\n" + "\n".join(lines), file=sys.stderr)

    sys.excepthook = explain


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


def load_clips(root, args, **kwargs):
    """``load_fma(root, subset=args.subset, **kwargs)``, shrunk to ``--clips-per-genre``.

    With ``args.clips_per_genre`` N, each split keeps N clips of each top-level
    genre (all of a smaller group): those whose track id ranks first in a
    fixed pseudo-random order. The choice is stratified and deterministic,
    and the same track is kept whatever else is loaded (a smaller N keeps a
    subset of a larger N's clips).

    Returns
    -------
    fma : sklearn.utils.Bunch
        As ``load_fma`` returns it, every per-clip field cut to the kept clips.
    """
    fma = load_fma(root, subset=args.subset, **kwargs)
    if args.clips_per_genre is None:
        return fma
    # Knuth's multiplicative hash of the track id: a fixed order, unrelated to ids and genres.
    rank = (fma.track_ids.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(2**32)
    groups = pd.DataFrame({"split": fma.split, "genre": genre_top(fma), "rank": rank})
    order = groups.sort_values("rank", kind="stable").groupby(["split", "genre"]).cumcount()
    return take_clips(fma, (order.sort_index() < args.clips_per_genre).to_numpy())


def take_clips(fma, keep):
    """The clips of a ``load_fma`` Bunch where the boolean array ``keep`` is True.

    Every per-clip field is cut (``filenames``, ``target``, ``track_ids``,
    ``artist_ids``, ``split``, ``tracks`` and ``features``); the others are
    shared.
    """
    kept = Bunch(**fma)
    for name in ("filenames", "target", "track_ids", "artist_ids", "split"):
        if kept[name] is not None:
            kept[name] = kept[name][keep]
    for name in ("tracks", "features"):
        if name in kept:
            kept[name] = kept[name].iloc[keep]
    return kept


def genre_top(fma):
    """Each clip's top-level genre (``"unknown"`` where ``tracks.csv`` has none)."""
    return fma.tracks[("track", "genre_top")].astype(object).fillna("unknown").to_numpy()


def save_clip_counts(args, *datasets):
    """Write and print the clips of each top-level genre in each split (``clips.csv``).

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`parse_args`: the ``out`` folder.
    *datasets : sklearn.utils.Bunch
        From :func:`load_clips`, e.g. the training and the test clips.

    Returns
    -------
    counts : pandas.DataFrame
        One row per genre, one column per split, and the totals.
    """
    genres = np.concatenate([genre_top(fma) for fma in datasets])
    splits = np.concatenate([fma.split for fma in datasets])
    counts = pd.crosstab(pd.Series(genres, name="genre"), pd.Series(splits), margins=True)
    order = [split for split in ("training", "validation", "test") if split in counts]
    counts = counts[[*order, "All"]].rename_axis(columns=None)
    save_table(counts, args.out, "clips", title="Clips of each genre in each split")
    return counts


class RunClock:
    """The whole run's training: epochs done of those planned, and an estimate of the time left.

    A run has parts (a fit, a search), each planned to train some epochs. A
    part's time per epoch is the time between its epochs' ends (the first
    from its first epoch's start), so that the work between epochs
    (scoring a search's trials, validating a chunked fit) is counted; a
    part not begun yet is counted at the mean epoch time of the parts
    measured so far, unless it is ``like`` another or ``unlike`` all.
    Work outside the epochs (decoding audio, extracting features,
    evaluating) is not counted.

    Parameters
    ----------
    plan : dict of str to int
        Each part's name -> the epochs it is planned to train, in run order.
    like : dict of str to str or None, default=None
        A part not begun -> the part whose epoch time it is counted at until
        it has its own (the best configuration's fit, at its search's trials'),
        rather than the mean of the parts measured so far (an MLP's epochs
        would make a CNN's look a hundred times shorter).
    unlike : sequence of str, default=()
        Parts whose epochs cost nothing like the others' (a CNN after an
        MLP): not counted until they (or a part ``like`` them) have their
        own epoch time; the status says which parts it leaves out.
    unit : str, default="epochs"
        What the status line calls the counted units: report 003 counts
        passes over a chunk of its songs (an epoch is a pass over every chunk).

    Attributes
    ----------
    current : RunClock
        The clock made last: the script's (a script is one run). The nets'
        callbacks find it here, and so do their copies (clones in a search,
        nets restored from a checkpoint).
    """

    current = None

    def __init__(self, plan, like=None, unlike=(), unit="epochs"):
        RunClock.current = self
        self.unit = unit
        self.plan = dict(plan)
        self.like = dict(like or {})
        self.unlike = set(unlike)
        self.done = dict.fromkeys(self.plan, 0)
        self.resumed = dict.fromkeys(self.plan, 0)
        self.seconds = dict.fromkeys(self.plan, 0.0)
        self.last = dict.fromkeys(self.plan)
        self._nets = weakref.WeakSet()

    def epoch_done(self, part, epoch_start, net=None):
        """Count one epoch of ``part``, which started at ``epoch_start`` (``perf_counter``).

        The first epoch of ``net`` in this process also counts, as done but
        not timed, the epochs a fit resumed from its checkpoint had trained:
        those its history held before this epoch. (Not ``max_epochs`` less
        the epochs of the call: a Hyperband trial's first chunk of one epoch
        has trained nothing before.)
        """
        now = time.perf_counter()
        last = self.last[part]
        self.seconds[part] += now - (epoch_start if last is None else last)
        self.last[part] = now
        self.done[part] += 1
        self._count_restored(part, net, len(net.history) - 1 if net is not None else 0)

    def fit_done(self, part, net):
        """Count the epochs of ``net``'s history as resumed if it trained none here.

        A fit resumed from a checkpoint that held all its epochs ends without
        an epoch in this process.
        """
        self._count_restored(part, net, len(net.history))

    def _count_restored(self, part, net, restored):
        """Count ``restored`` epochs of ``part`` as resumed, once per net."""
        if net is not None and net not in self._nets:
            self._nets.add(net)
            self.resumed[part] += max(restored, 0)

    def _seconds_left_by_part(self):
        """Each part with epochs left -> their seconds, NaN where not timed yet."""
        n_done = sum(self.done.values())
        mean = sum(self.seconds.values()) / n_done if n_done else math.nan

        def epoch_seconds(part):
            for measured in (part, self.like.get(part)):
                if measured is not None and self.done[measured]:
                    return self.seconds[measured] / self.done[measured]
            alike = part not in self.unlike and self.like.get(part) not in self.unlike
            return mean if alike else math.nan

        left = {
            part: planned - self.done[part] - self.resumed[part]
            for part, planned in self.plan.items()
        }
        return {part: n * epoch_seconds(part) for part, n in left.items() if n > 0}

    def seconds_left(self):
        """Seconds the planned epochs left will take, at the epoch times measured so far.

        NaN while a part with epochs left has no epoch time yet.
        """
        return sum(self._seconds_left_by_part().values())

    def status(self):
        """One line: epochs done of those planned, and the time left."""
        done = {part: self.done[part] + self.resumed[part] for part in self.plan}
        planned = sum(max(self.plan[part], done[part]) for part in self.plan)
        resumed = sum(self.resumed.values())
        by_part = self._seconds_left_by_part()
        untimed = [part for part, seconds in by_part.items() if math.isnan(seconds)]
        timed = sum(seconds for seconds in by_part.values() if not math.isnan(seconds))
        if not untimed:
            left = f"about {format_seconds(timed)} of training left"
        elif sum(self.done.values()) == 0:
            left = "the training left is timed from this run's first epoch"
        else:
            left = (
                f"besides {' and '.join(untimed)} (timed from their first epoch), "
                f"about {format_seconds(timed)} of training left"
            )
        return (
            f"[run] {sum(done.values())} of about {planned} {self.unit}"
            + (f" ({resumed} resumed from checkpoints)" if resumed else "")
            + f" in {format_seconds(sum(self.seconds.values()))}; "
            + left
        )

    def callbacks(self, part):
        """The callbacks that show the run's progress in a net of ``part``, for its ``callbacks``.

        Skorch's epoch table (``verbose=1``) then shows, every epoch, the
        seconds the whole run has left (``run_left``) beside the net's own
        training clips per second (``clips_per_s``), seconds the fit has left
        (``time_left``; :class:`~skfma.models.TrainingSpeed`, a default
        callback) and the epoch's seconds (``dur``); a line after each fit
        (and after the run's first epoch) gives the run's progress.
        """
        if part not in self.plan:
            raise KeyError(f"{part!r} is not a part of the run's plan {list(self.plan)}")
        return [("run_clock", _RunClockCallback(part=part))]


class _RunClockCallback(Callback):
    """Tells the run's clock (``RunClock.current``) of every epoch of a net of ``part``.

    A net trained outside the run (one of the saved nets, unpickled in
    another process) has no clock to tell, or one without ``part``: the
    callback then does nothing.
    """

    def __init__(self, *, part):
        self.part = part

    def _clock(self):
        clock = RunClock.current
        return clock if clock is not None and self.part in clock.plan else None

    def on_epoch_begin(self, net, **kwargs):
        self.epoch_start_ = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        clock = self._clock()
        if clock is None:
            return
        clock.epoch_done(self.part, self.epoch_start_, net)
        net.history.record("run_left", clock.seconds_left())
        if sum(clock.done.values()) == 1 and net.max_epochs > 1:  # else on_train_end says it
            print(clock.status(), flush=True)

    def on_train_end(self, net, **kwargs):
        clock = self._clock()
        if clock is not None:
            clock.fit_done(self.part, net)
            print(clock.status(), flush=True)


def format_seconds(seconds):
    """A duration in words: ``"1 h 05 min"``, ``"4 min 10 s"``, ``"12 s"``."""
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def search_epochs(n_trials, max_epochs, reduction_factor=3):
    """About the epochs a Hyperband search's trials train (one fold), as Optuna prunes them.

    Optuna's ``HyperbandPruner`` deals the trials to its brackets in
    proportion to their budgets (``ceil(n_brackets * eta**s / (s + 1))``);
    bracket ``b`` checks a trial at epochs ``eta**(b + i)`` and promotes it,
    asynchronously, when its score is within the best ``max(1, k // eta)`` of
    the ``k`` trials of the bracket that reached that rung so far (so the
    first trial of a rung always goes on). With the trials' scores in random
    order, the ``k``-th arrival goes on with probability ``max(1, k // eta) /
    k``; the expected arrivals at each rung give the epochs. For many trials
    this is the synchronous count of Li et al. (2018); for a few (a shrunk
    run) most trials train to ``max_epochs``.
    """
    eta = reduction_factor
    n_brackets = math.floor(math.log(max_epochs, eta)) + 1
    budgets = [
        math.ceil(n_brackets * eta ** (n_brackets - 1 - b) / (n_brackets - b))
        for b in range(n_brackets)
    ]
    # The trials of each bracket: budget shares, rounded by largest remainder to n_trials.
    shares = [n_trials * budget / sum(budgets) for budget in budgets]
    counts = [math.floor(share) for share in shares]
    for b in sorted(range(n_brackets), key=lambda b: counts[b] - shares[b])[
        : n_trials - sum(counts)
    ]:
        counts[b] += 1

    def promoted(arrivals):
        """Expected trials going on of ``arrivals`` (fractional: the last one in part)."""
        whole = math.floor(arrivals)
        total = sum(max(1, k // eta) / k for k in range(1, whole + 1))
        if arrivals > whole:
            total += (arrivals - whole) * max(1, (whole + 1) // eta) / (whole + 1)
        return total

    epochs = 0.0
    for bracket, arrivals in enumerate(counts):
        reached = 0
        rung = eta**bracket
        while arrivals > 0:
            stop = min(rung, max_epochs)
            epochs += arrivals * (stop - reached)
            if stop == max_epochs:
                break
            reached, rung, arrivals = stop, rung * eta, promoted(arrivals)
    return round(epochs)


def net_options(args, clock, part, *, checkpoint=True):
    """The settings of every net of a report: device, precision, progress, checkpoint.

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`parse_args`.
    clock : RunClock
        The run's clock.
    part : str
        The part of the run the net trains in (a key of ``clock.plan``).
    checkpoint : bool, default=True
        Whether the net saves its epochs to ``args.checkpoint / part`` (with
        ``--checkpoint``); False for nets of a search, which are many.

    Returns
    -------
    options : dict
        Keyword arguments for the net.
    """
    options = {
        "device": args.device,
        "precision": args.precision,
        "verbose": 1,
        "callbacks": clock.callbacks(part),
    }
    if checkpoint and args.checkpoint is not None:
        options["checkpoint"] = args.checkpoint / part.replace(" ", "_")
    return options


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
        AudioLoader(sr=44100, duration=duration), FMAFeatures(sr=44100), n_jobs=n_jobs
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
    print(table.to_string(float_format=_number))


def _number(value):
    """A table's number as printed: whole numbers with thousands separators, else 4 decimals."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:.4f}"


def save_report(report, out, name, *, history=None):
    """Write a report's tables (CSV, markdown) and figures (PNG) as ``out/name_*``.

    Parameters
    ----------
    report : sklearn.utils.Bunch
        From :func:`skfma.evaluation.evaluate_classifier` or ``evaluate_tagger``.
    out : Path
    name : str
        The experiment's name in the files' names.
    history : skorch History, list of dict or None
        A net's ``history_``, whose learning curves to draw.

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
    figures = {"per_class": PerClassDisplay.from_report(report).figure_}
    if "confusion" in report:
        figures["confusion"] = ConfusionMatrixDisplay.from_report(report).figure_
    if history is not None:
        figures["learning_curves"] = TrainingHistoryDisplay.from_history(history).figure_
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
