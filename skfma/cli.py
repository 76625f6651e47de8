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
    return parser


def main(argv=None):
    """Run the ``skfma`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    args.handler(args)
    return 0
