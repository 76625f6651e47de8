"""The ``skfma`` command line. Each subcommand calls one public function."""

import argparse

__all__ = ["main"]


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


def _tag(args):
    if args.model is None:
        from .audio import load_audio
        from .transfer import musicnn_tags

        tags = []
        for path in args.files:
            waveform, _ = load_audio(path, sr=16000)
            tags += musicnn_tags(waveform[None], model=args.musicnn, top_k=args.top_k)
    else:
        import joblib

        from .models import predict_tags

        model = joblib.load(args.model)
        tags = predict_tags(model, args.files, top_k=args.top_k, divide_by_prior=not args.no_prior)
    for path, clip in zip(args.files, tags, strict=True):
        print(path)
        for name, score in clip:
            print(f"  {name!s:<24} {score:8.3f}")


def _extract(args):
    from .pipeline import extract_fma

    X, track_ids = extract_fma(
        args.root,
        args.out,
        subset=args.subset,
        features=args.features,
        n_jobs=args.n_jobs,
        batch_size=args.batch_size,
    )
    print(f"{args.features} features of {len(track_ids)} tracks, shape {X.shape}, in {args.out}")


def build_parser():
    """The argument parser of the ``skfma`` command."""
    parser = argparse.ArgumentParser(
        prog="skfma", description="Music genre classification and tagging for the FMA."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="classify synthetic genre clips end to end (skfma.run_demo)",
        description="Write synthetic genre clips as a small dataset in the FMA layout "
        "(MP3 files, tracks.csv, artist-grouped splits), grid-search an "
        "AudioLoader -> MelSpectrogram -> TemporalStatistics -> StandardScaler -> SVC "
        "pipeline on its training split, and report held-out accuracy and a confusion matrix.",
    )
    demo.add_argument("--output-dir", default="skfma_demo", help="default: %(default)s")
    demo.add_argument("--n-clips", type=int, default=160, help="default: %(default)s")
    demo.add_argument("--n-genres", type=int, default=8, help="default: %(default)s")
    demo.add_argument("--duration", type=float, default=5.0, help="seconds; default: %(default)s")
    demo.add_argument(
        "--n-jobs", type=int, default=-1, help="grid-search workers; default: every core"
    )
    demo.add_argument("--random-state", type=int, default=0, help="default: %(default)s")
    demo.set_defaults(handler=_demo)
    tag = commands.add_parser(
        "tag",
        help="print the top tags of audio files (musicnn_tags, or predict_tags of your model)",
        description="Print each file's top tags with their scores. Without --model, the "
        "pretrained musicnn tagger that ships with skfma gives them (skfma.transfer."
        "musicnn_tags: tag probabilities averaged over the file's 3 s windows). With --model, "
        "a fitted pipeline that takes file paths, such as AudioLoader -> MelSpectrogram -> "
        "ChoiCRNN saved with joblib.dump(pipeline, 'model.joblib'), gives them "
        "(skfma.models.predict_tags: probabilities divided by the tags' training priors, "
        "unless --no-prior). Loading unpickles the file: only load models you trust.",
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
    extract.add_argument("--n-jobs", type=int, default=None, help="workers; -1: every core")
    extract.add_argument("--batch-size", type=int, default=None, help="clips per task")
    extract.set_defaults(handler=_extract)
    return parser


def main(argv=None):
    """Run the ``skfma`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    args.handler(args)
    return 0
