"""The ``skfma`` command line. Each subcommand calls one public function.

A user error (a missing or unreadable file, a corrupt or wrong kind of model,
a bad option value, an output folder that cannot be written) prints one line,
``skfma COMMAND: error: MESSAGE``, on stderr and makes :func:`main` return 1;
``--debug`` prints the traceback above that line. Malformed command lines are
argparse's: usage and message on stderr, exit status 2.
"""

import argparse
import os
import sys
import traceback

from .exceptions import AudioDecodeError, SkfmaError
from .utils import ensure_writable_folder

__all__ = ["main"]


class _CommandError(SkfmaError):
    """A user error that the command itself found; its message is the whole report."""


def _demo(args):
    from ._demo import run_demo

    run_demo(
        args.output_dir,
        n_clips=args.n_clips,
        n_genres=args.n_genres,
        duration=args.duration,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
    )
    return 0


def _tag(args):
    from .utils import check_int

    check_int("--top-k", args.top_k)
    if args.model is None:
        from .audio import load_audio
        from .transfer import predict_musicnn_tags

        def tag(path):
            waveform, _ = load_audio(path, sr=16000)
            [clip] = predict_musicnn_tags(waveform[None], model=args.musicnn, top_k=args.top_k)
            return clip

    else:
        from .models import predict_tags

        model = _load_model(args.model)

        def tag(path):
            [clip] = predict_tags(
                model, [path], top_k=args.top_k, divide_by_prior=not args.no_prior
            )
            return clip

    failed = 0
    for path in args.files:
        try:
            clip = tag(path)
        except AudioDecodeError as error:
            failed += 1
            _report(args, error)
            continue
        print(path)
        for name, score in clip:
            print(f"  {name!s:<24} {score:8.3f}", flush=True)
    if failed:
        _report(args, f"{failed} of {len(args.files)} files could not be tagged.")
        return 1
    return 0


def _load_model(path):
    """The fitted pipeline saved in ``path``, checked to be one that ``predict_tags`` takes."""
    import joblib
    from sklearn.pipeline import Pipeline

    if not os.path.isfile(path):
        raise _CommandError(f"model file not found: {path!r} (--model).")
    try:
        model = joblib.load(path)
    except Exception as error:  # unpickling a corrupt file can raise any exception
        raise _CommandError(
            f"cannot load the model {path!r}: not a joblib-saved model, or saved with other "
            f"versions of its libraries ({type(error).__name__}: {error})."
        ) from error
    pipeline = getattr(model, "best_estimator_", model)
    classifier = pipeline[-1] if isinstance(pipeline, Pipeline) and len(pipeline) else None
    if not all(hasattr(classifier, name) for name in ("tag_names_", "class_prior_")):
        raise _CommandError(
            f"the model {path!r} is a {type(model).__name__}, not a fitted Pipeline (or search "
            "of one) that takes audio file paths and ends in an skfma classifier, such as "
            "AudioLoader -> MelSpectrogram -> ChoiCRNN."
        )
    return model


def _extract(args):
    from .pipeline import extract_fma

    args.out = _output_folder(args.out, "--out")
    X, track_ids = extract_fma(
        args.root,
        args.out,
        subset=args.subset,
        features=args.features,
        sr=args.sr,
        n_jobs=args.n_jobs,
        batch_size=args.batch_size,
        overwrite=args.overwrite,
    )
    print(f"{args.features} features of {len(track_ids)} tracks, shape {X.shape}, in {args.out}")
    return 0


def _benchmark(args):
    from .benchmark import list_pipelines, run_benchmark

    if args.list:
        table = list_pipelines()
        with_published = table["published"].map(lambda value: "" if value != value else value)
        print(table.assign(published=with_published).to_string())
        return 0
    if args.smoke == (args.root is not None):
        raise _CommandError("give the FMA folder ROOT, or --smoke (its own tiny data), not both.")
    args.out = _output_folder(args.out, "--out")
    result = run_benchmark(
        args.root,
        subset=args.subset,
        pipelines=args.pipelines,
        out=args.out,
        n_jobs=args.n_jobs,
        device=args.device,
        smoke=args.smoke,
    )
    columns = ["accuracy", "balanced_accuracy", "f1_macro", "top_3_accuracy", "published_accuracy"]
    print(result.table[columns].to_string(float_format="{:.3f}".format, na_rep=""))
    if result.failed:
        raise _CommandError(
            f"{len(result.failed)} pipeline(s) failed (run again to retry them): "
            + "; ".join(f"{name}: {message}" for name, message in result.failed.items())
        )
    return 0


def _output_folder(path, option):
    """``path`` with ``~`` expanded, created if needed and checked to be writable."""
    path = os.path.expanduser(path)
    try:
        ensure_writable_folder(path)
    except OSError as error:
        raise _CommandError(
            f"cannot write to the output folder {path!r} ({option}): {error.strerror or error}."
        ) from error
    return path


def _describe(error):
    """One line saying what went wrong."""
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        return f"{error.strerror}: {error.filename!r}"
    if isinstance(error, SkfmaError | OSError):
        return str(error)
    if isinstance(error, KeyboardInterrupt):
        return "interrupted."
    return (
        f"unexpected {type(error).__name__}: {error} (--debug shows where; please report it "
        "if the input is valid)"
    )


def _report(args, error):
    """Print ``skfma COMMAND: error: ...`` on stderr, after the traceback with ``--debug``.

    ``error`` is an exception or a message.
    """
    if isinstance(error, str):
        message = error
    else:
        if args.debug:
            traceback.print_exception(error)
        message = _describe(error)
    message = " ".join(message.split())  # one line, even for multi-line messages
    print(f"skfma {args.command}: error: {message}", file=sys.stderr, flush=True)


def build_parser():
    """The argument parser of the ``skfma`` command."""
    parser = argparse.ArgumentParser(
        prog="skfma", description="Music genre classification and tagging for the FMA."
    )
    debug = {
        "action": "store_true",
        "help": "on an error, print the traceback, not only the one-line message",
    }
    parser.add_argument("--debug", **debug)
    # On a subcommand too, without resetting a --debug given before it.
    sub_debug = argparse.ArgumentParser(add_help=False)
    sub_debug.add_argument("--debug", default=argparse.SUPPRESS, **debug)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        parents=[sub_debug],
        help="classify synthetic genre clips end to end (skfma.run_demo)",
        description="Write synthetic genre clips as a small dataset in the FMA layout "
        "(MP3 files, tracks.csv, artist-grouped splits), grid-search an "
        "AudioLoader -> MelSpectrogram -> TemporalStatistics -> StandardScaler -> SVC "
        "pipeline on its training split, and report held-out accuracy and a confusion matrix.",
    )
    demo.add_argument("--output-dir", default="skfma_demo", help="default: %(default)s")
    demo.add_argument(
        "--n-clips", type=int, default=160, help="at least 7 per genre; default: %(default)s"
    )
    demo.add_argument("--n-genres", type=int, default=8, help="2 to 8; default: %(default)s")
    demo.add_argument(
        "--duration", type=float, default=5.0, help="seconds, >= 0.093; default: %(default)s"
    )
    demo.add_argument(
        "--n-jobs", type=int, default=-1, help="grid-search workers; default: every core"
    )
    demo.add_argument("--random-state", type=int, default=0, help="default: %(default)s")
    demo.set_defaults(handler=_demo)
    tag = commands.add_parser(
        "tag",
        parents=[sub_debug],
        help="print the top tags of audio files (musicnn's, or those of your model)",
        description="Print each file's top tags with their scores. Without --model, the "
        "pretrained musicnn tagger that ships with skfma gives them (skfma.transfer."
        "predict_musicnn_tags: tag probabilities averaged over the file's 3 s windows). "
        "With --model, "
        "a fitted pipeline that takes file paths, such as AudioLoader -> MelSpectrogram -> "
        "ChoiCRNN saved with joblib.dump(pipeline, 'model.joblib'), gives them "
        "(skfma.models.predict_tags: probabilities divided by the tags' training priors, "
        "unless --no-prior). Loading unpickles the file: only load models you trust. A file "
        "that cannot be decoded is reported on stderr and the others are still tagged; the "
        "exit status is then 1.",
    )
    tag.add_argument("files", nargs="+", metavar="FILE", help="audio files")
    tag.add_argument("--model", help="a joblib-saved fitted pipeline; default: musicnn")
    tag.add_argument(
        "--musicnn",
        default="MSD_musicnn",
        choices=("MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg"),
        help="the pretrained tagger used without --model; default: %(default)s",
    )
    tag.add_argument("--top-k", type=int, default=10, help="tags per file; default: %(default)s")
    tag.add_argument(
        "--no-prior", action="store_true", help="rank by probability, not by probability / prior"
    )
    tag.set_defaults(handler=_tag)
    from .pipeline import FEATURE_SETS

    extract = commands.add_parser(
        "extract",
        parents=[sub_debug],
        help="compute the features of an FMA subset into a folder (skfma.pipeline.extract_fma)",
        description="Read an FMA tree with load_fma, compute one feature set of every track "
        "clip by clip (a progress bar shows on a terminal), and write OUT/features.npy, "
        "OUT/index.csv (track ids, files, failures) and OUT/excluded.csv. Per-clip results are "
        "cached in OUT/cache, so an interrupted run resumes when started again. Read the result "
        "with skfma.pipeline.load_extracted(OUT).",
    )
    extract.add_argument("root", help="the FMA folder (fma_metadata/, fma_SUBSET/)")
    extract.add_argument("--out", required=True, help="output folder")
    extract.add_argument("--subset", default="small", choices=("small", "medium", "large", "full"))
    extract.add_argument("--features", default="logmel", choices=sorted(FEATURE_SETS))
    extract.add_argument(
        "--sr",
        type=float,
        default=None,
        help="decode and compute at this rate in Hz; default: the feature set's own (fma: "
        "44100, as the FMA's features.csv; musicnn-*: 16000; the others: 22050)",
    )
    extract.add_argument("--n-jobs", type=int, default=None, help="workers; -1: every core")
    extract.add_argument("--batch-size", type=int, default=None, help="clips per task")
    extract.add_argument(
        "--overwrite", action="store_true", help="replace a store already in the output folder"
    )
    extract.set_defaults(handler=_extract)
    benchmark = commands.add_parser(
        "benchmark",
        parents=[sub_debug],
        help="run known pipelines side by side on an FMA subset (skfma.benchmark.run_benchmark)",
        description="Run named pipelines (the FMA paper's baselines, musicnn embeddings, the "
        "reports' nets with --pipelines) on the FMA's official split of a subset: each feature "
        "set is extracted once into OUT/features, each pipeline fitted on the training split "
        "(tuned on the validation split where it says so) and tested once. OUT/results.csv "
        "and OUT/results.md hold the table (accuracy, balanced accuracy, macro F1, top-3 "
        "accuracy, costs, published figures), rewritten as each pipeline finishes; a run "
        "started again skips the pipelines already done. --list shows the pipelines.",
    )
    benchmark.add_argument("root", nargs="?", help="the FMA folder (fma_metadata/, fma_SUBSET/)")
    benchmark.add_argument(
        "--subset", default="small", choices=("small", "medium", "large", "full")
    )
    benchmark.add_argument(
        "--pipelines",
        nargs="+",
        default=None,
        metavar="NAME",
        help="pipeline names (--list), 'default' or 'all'; default: every one not opt-in",
    )
    benchmark.add_argument("--out", default="skfma_benchmark", help="default: %(default)s")
    benchmark.add_argument("--n-jobs", type=int, default=None, help="workers; -1: every core")
    benchmark.add_argument("--device", default=None, help="the nets' device, e.g. cuda")
    benchmark.add_argument("--list", action="store_true", help="list the pipelines and exit")
    benchmark.add_argument(
        "--smoke",
        action="store_true",
        help="run end to end on tiny synthetic FMA-layout data (no ROOT), in minutes",
    )
    benchmark.set_defaults(handler=_benchmark)
    return parser


def main(argv=None):
    """Run the ``skfma`` command.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments after ``skfma``; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 1 after a user error (reported on stderr in one line),
        130 when interrupted. A malformed command line exits through argparse
        (``SystemExit`` with status 2).
    """
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt as interrupt:
        _report(args, interrupt)
        return 130
    except Exception as error:  # every failure becomes one line; --debug adds the traceback
        _report(args, error)
        return 1
