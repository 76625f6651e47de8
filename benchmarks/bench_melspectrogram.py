"""Log-mel spectrograms from MP3 files: skfma versus librosa, and versus decoding alone.

N real-length clips (30 s, 44.1 kHz stereo MP3: copies of the real FMA fixture when
``../shared/fixtures`` is there, else synthetic clips written with soundfile) are turned into
128-band log-mel spectrograms at 22.05 kHz, on the same single-threaded worker processes,
interleaved over several rounds:

- ``decode``:  ``soundfile.read`` only (the decoder both pipelines use): the floor;
- ``librosa``: ``librosa.load(sr=22050)`` + ``librosa.feature.melspectrogram`` + ``power_to_db``;
- ``skfma``:   ``skfma.load_audio(sr=22050)`` + ``MelSpectrogram().transform``;
- ``load``:    ``skfma.load_audio(sr=22050)`` alone (decode, downmix, soxr resampling), which
  shows how much of skfma's time is the log-mel itself;
- ``audiofeatures``: the Pipeline form, ``AudioFeatures([AudioLoader(duration=30),
  MelSpectrogram()], n_jobs=WORKERS).transform(paths)``, log-mels returned to the parent;
- ``librosa-joblib``: the librosa recipe in ``joblib.Parallel(n_jobs=WORKERS)``, log-mels
  returned to the parent: the like-for-like reference of ``audiofeatures``.

Each worker sends back only the shape of what it made, so that the figures time decoding
and DSP, not the pickling of results to the parent (which ``decode`` could not afford
for its 10 MB of stereo samples). The parent checks that both pipelines give the same
log-mel (max abs difference in dB). It prints clips/s of each (best round),
skfma / librosa and skfma / decode-only.

Run: ``python benchmarks/bench_melspectrogram.py --n-clips 40 --workers 2 --rounds 3``
"""

import argparse
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np

FIXTURE = Path(__file__).resolve().parents[2] / "shared/fixtures/fma/fma_small/000/000002.mp3"


def single_threaded():
    """Worker initializer: one thread per process for every numeric library.

    The workers are forked after NumPy has loaded OpenBLAS, so environment
    variables come too late: threadpoolctl sets the thread pools themselves.
    """
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    torch.set_num_threads(1)


def decode_only(path):
    import soundfile as sf

    data, _ = sf.read(path, dtype="float32")
    return data


def librosa_logmel(path):
    import librosa

    y, sr = librosa.load(path, sr=22050)
    return librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr))


def skfma_logmel(path):
    from skfma import MelSpectrogram, load_audio

    y, _ = load_audio(path, sr=22050)
    return MelSpectrogram().transform(y[None, :])[0]


def skfma_load(path):
    from skfma import load_audio

    return load_audio(path, sr=22050)[0]


METHODS = {
    "decode": decode_only,
    "librosa": librosa_logmel,
    "skfma": skfma_logmel,
    "load": skfma_load,
}


def audiofeatures(paths, n_jobs):
    from skfma import AudioFeatures, AudioLoader, MelSpectrogram

    steps = [("load", AudioLoader(sr=22050, duration=30.0)), ("mel", MelSpectrogram())]
    return AudioFeatures(steps, n_jobs=n_jobs).transform(paths)


def librosa_joblib(paths, n_jobs):
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs)(delayed(librosa_logmel)(path) for path in paths)


#: Whole-batch methods: they run their own joblib workers and return every log-mel.
BATCH_METHODS = {"audiofeatures": audiofeatures, "librosa-joblib": librosa_joblib}


def output_shape(name, path):
    """Run method ``name`` on one file in a worker; only the output's shape goes back."""
    return METHODS[name](path).shape


def make_clips(directory, n_clips):
    """N 30 s 44.1 kHz stereo MP3 files; returns their paths and where they came from."""
    if FIXTURE.exists():
        paths = [directory / f"{i:06d}.mp3" for i in range(n_clips)]
        for path in paths:
            shutil.copyfile(FIXTURE, path)
        return paths, f"copies of the real FMA clip {FIXTURE.name}"
    import soundfile as sf

    from skfma.datasets import make_genre_clips

    X, _ = make_genre_clips(n_clips, n_genres=8, duration=30.0, sr=44100)
    paths = []
    for i, clip in enumerate(X):
        stereo = np.stack([clip, np.roll(clip, 441)], axis=1)
        paths.append(directory / f"{i:06d}.mp3")
        sf.write(paths[-1], stereo, 44100)
    return paths, "synthetic stereo clips (fixture not found)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-clips", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2, help="single-threaded processes")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        paths, origin = make_clips(Path(tmp), args.n_clips)
        paths = [str(p) for p in paths]
        print(f"{args.n_clips} clips: {origin}; {args.workers} single-threaded workers")
        best = dict.fromkeys([*METHODS, *BATCH_METHODS], 0.0)
        for method in BATCH_METHODS.values():  # warm-up: start joblib's workers
            method(paths[: args.workers * 2], args.workers)
        with ProcessPoolExecutor(args.workers, initializer=single_threaded) as pool:
            for name in METHODS:  # warm-up: imports, JIT, filterbank caches
                list(pool.map(partial(output_shape, name), paths[: args.workers * 2]))
            ours = skfma_logmel(paths[0])
            reference = librosa_logmel(paths[0])
            for round_ in range(args.rounds):
                line = []
                for name in METHODS:
                    started = time.perf_counter()
                    list(pool.map(partial(output_shape, name), paths, chunksize=1))
                    rate = len(paths) / (time.perf_counter() - started)
                    best[name] = max(best[name], rate)
                    line.append(f"{name} {rate:6.1f}")
                for name, method in BATCH_METHODS.items():
                    started = time.perf_counter()
                    method(paths, args.workers)
                    rate = len(paths) / (time.perf_counter() - started)
                    best[name] = max(best[name], rate)
                    line.append(f"{name} {rate:6.1f}")
                print(f"round {round_ + 1}: clips/s  " + "  ".join(line))
    print("\nbest clips/s: " + ", ".join(f"{name} {rate:.1f}" for name, rate in best.items()))
    print(f"skfma / librosa:     {best['skfma'] / best['librosa']:.2f}x  (target >= 1.6)")
    print(f"skfma / decode-only: {best['skfma'] / best['decode']:.2f}   (target >= 0.75)")
    print(f"load / decode-only:  {best['load'] / best['decode']:.2f}")
    pipeline = best["audiofeatures"]
    print(
        f"AudioFeatures / librosa-joblib: {pipeline / best['librosa-joblib']:.2f}x  (target >= 1.7)"
    )
    print(f"AudioFeatures / decode-only:    {pipeline / best['decode']:.2f}   (target >= 0.65)")
    print(
        f"log-mel parity: shape {ours.shape}, max |skfma - librosa| = "
        f"{np.abs(ours - reference).max():.2e} dB"
    )


if __name__ == "__main__":
    main()
