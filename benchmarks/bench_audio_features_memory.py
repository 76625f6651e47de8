"""Peak memory of AudioFeatures against the number of clips, the plain Pipeline's, and the cache.

Runs ``AudioLoader(duration=30) -> MelSpectrogram() -> TemporalStatistics()`` on N copies of a
30 s 44.1 kHz stereo MP3 (the real FMA clip when ``../shared/fixtures`` is there), each run in
a fresh process, and samples the resident memory of that process and of every worker it
starts (psutil, every 20 ms). AudioFeatures holds one batch per worker, so its peak should not
grow with N beyond the output itself; the plain ``Pipeline`` holds every waveform.

Prints the peaks and ``peak(N_large) / (peak(N_small) + output(N_large))`` (target <= 1.2),
then the time of a first (cold) and a second (warm) ``AudioFeatures(memory=...)`` run on
N_small clips: the warm run reads every clip's statistics from the per-clip cache.

Run: ``python benchmarks/bench_audio_features_memory.py --small 200 --large 2000 --n-jobs 2``
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[2] / "shared/fixtures/fma/fma_small/000/000002.mp3"

RUN = textwrap.dedent(
    """
    import json, sys, threading, time
    import psutil
    from sklearn.pipeline import make_pipeline
    from skfma import AudioLoader, MelSpectrogram, TemporalStatistics, make_audio_features

    form, n_jobs, cache, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    me = psutil.Process()
    peak, done = [0], threading.Event()

    def sample():
        while not done.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass
            peak[0] = max(peak[0], total)
            time.sleep(0.02)

    steps = [AudioLoader(sr=22050, duration=30.0), MelSpectrogram(), TemporalStatistics()]
    if form == "pipeline":
        steps[0].set_params(n_jobs=n_jobs)
        model = make_pipeline(*steps)
    else:
        model = make_audio_features(*steps, n_jobs=n_jobs, memory=cache or None)
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    started = time.perf_counter()
    X = model.fit_transform(paths)
    seconds = time.perf_counter() - started
    done.set()
    thread.join()
    print(json.dumps({"peak": peak[0], "output": X.nbytes, "seconds": seconds}))
    """
)


def make_clips(directory, n_clips):
    """N paths of a 30 s MP3 (symbolic links to one file)."""
    source = directory / "source.mp3"
    if FIXTURE.exists():
        shutil.copyfile(FIXTURE, source)
    else:
        import numpy as np
        import soundfile as sf

        from skfma.datasets import make_genre_clips

        X, _ = make_genre_clips(1, n_genres=1, duration=30.0, sr=44100)
        sf.write(source, np.stack([X[0], X[0]], axis=1), 44100)
    paths = []
    for i in range(n_clips):
        path = directory / f"{i:06d}.mp3"
        os.symlink(source, path)
        paths.append(str(path))
    return paths


def measure(form, n_jobs, paths, cache=""):
    result = subprocess.run(
        [sys.executable, "-c", RUN, form, str(n_jobs), cache, *paths],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--pipeline", type=int, default=200, help="clips for the Pipeline row")
    args = parser.parse_args()
    mib = 2**20
    runs = [("audio", args.small), ("audio", args.large), ("pipeline", args.pipeline)]
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_clips(Path(tmp), max(n for _, n in runs))
        rows = [(form, n, measure(form, args.n_jobs, paths[:n])) for form, n in runs]
        cache = str(Path(tmp) / "cache")
        cold = measure("audio", args.n_jobs, paths[: args.small], cache)
        warm = measure("audio", args.n_jobs, paths[: args.small], cache)
    for form, n, row in rows:
        name = f"{'AudioFeatures' if form == 'audio' else 'Pipeline'}, {n} clips"
        print(
            f"{name:28s} peak RSS {row['peak'] / mib:8.1f} MiB  output {row['output'] / mib:6.2f} "
            f"MiB  {row['seconds']:6.1f} s  ({args.n_jobs} workers)"
        )
    small, large = rows[0][2], rows[1][2]
    ratio = large["peak"] / (small["peak"] + large["output"])
    print(
        f"peak({args.large}) / (peak({args.small}) + output({args.large})): {ratio:.3f}  "
        "(target <= 1.2)"
    )
    print(
        f"AudioFeatures(memory=...), {args.small} clips: cold {cold['seconds']:.1f} s, warm "
        f"{warm['seconds']:.2f} s ({cold['seconds'] / warm['seconds']:.0f}x)"
    )


if __name__ == "__main__":
    main()
