"""FMAFeatures against the FMA reference recipe (plain librosa calls): speed, parity, memory.

Both sides get the same clips (synthetic music from ``make_genre_clips``, cycled)
and the same cores: single-threaded BLAS, ``--n-jobs`` joblib processes each.
Timing interleaves the two, batch by batch, alternating which goes first, so
that a contended machine slows both alike; the ratio is printed at the end.
Every batch's 518 columns are compared (rtol 3e-5, atol 1e-4, and 1e-3 on
skewness and kurtosis: the reference computes its statistics in float32).

Memory: each side then runs alone in a fresh process over ``--memory-clips``
clips, and its resident memory (current and peak) is printed after 100 clips
and at the end.

Run ``python benchmarks/bench_fma_features.py --help`` for the options, e.g. a
short run: ``--n-clips 16 --duration 10 --memory-clips 200``.
"""

import argparse
import multiprocessing
import time
import warnings

import librosa
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats
from threadpoolctl import threadpool_limits

from skfma import FMAFeatures
from skfma.datasets import make_genre_clips
from skfma.features import fma_feature_index


def reference_features(x, sr):
    """``compute_features`` of the FMA ``features.py``, with librosa 0.11 names.

    Its float32 Series is a float64 one rounded to float32 at the end (pandas 3
    refuses to store float64 values in a float32 Series).
    """
    features = pd.Series(index=fma_feature_index(), dtype=np.float64)

    def feature_stats(name, values):
        features[name, "mean"] = np.mean(values, axis=1)
        features[name, "std"] = np.std(values, axis=1)
        features[name, "skew"] = stats.skew(values, axis=1)
        features[name, "kurtosis"] = stats.kurtosis(values, axis=1)
        features[name, "median"] = np.median(values, axis=1)
        features[name, "min"] = np.min(values, axis=1)
        features[name, "max"] = np.max(values, axis=1)

    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feature_stats(
            "zcr", librosa.feature.zero_crossing_rate(x, frame_length=2048, hop_length=512)
        )
        cqt = np.abs(
            librosa.cqt(x, sr=sr, hop_length=512, bins_per_octave=12, n_bins=7 * 12, tuning=None)
        )
        # bins_per_octave=12: the reference ran on librosa < 0.8, where it defaulted to n_chroma.
        f = librosa.feature.chroma_cqt(C=cqt, n_chroma=12, n_octaves=7, bins_per_octave=12)
        feature_stats("chroma_cqt", f)
        f = librosa.feature.chroma_cens(C=cqt, n_chroma=12, n_octaves=7, bins_per_octave=12)
        feature_stats("chroma_cens", f)
        feature_stats("tonnetz", librosa.feature.tonnetz(chroma=f))
        del cqt
        stft = np.abs(librosa.stft(x, n_fft=2048, hop_length=512))
        feature_stats("chroma_stft", librosa.feature.chroma_stft(S=stft**2, n_chroma=12))
        feature_stats("rmse", librosa.feature.rms(S=stft))
        feature_stats("spectral_centroid", librosa.feature.spectral_centroid(S=stft))
        feature_stats("spectral_bandwidth", librosa.feature.spectral_bandwidth(S=stft))
        feature_stats("spectral_contrast", librosa.feature.spectral_contrast(S=stft, n_bands=6))
        feature_stats("spectral_rolloff", librosa.feature.spectral_rolloff(S=stft))
        mel = librosa.feature.melspectrogram(sr=sr, S=stft**2)
        del stft
        feature_stats("mfcc", librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=20))
    return features.to_numpy(np.float32).astype(np.float64)


def reference(X, sr, n_jobs):
    return np.stack(Parallel(n_jobs=n_jobs)(delayed(reference_features)(x, sr) for x in X))


def ours(X, sr, n_jobs, batch_size):
    return FMAFeatures(sr=sr, n_jobs=n_jobs, batch_size=batch_size).fit_transform(X)


def check_parity(got, expected):
    moments = np.array(
        ["_skew_" in n or "_kurtosis_" in n for n in map("_".join, fma_feature_index())]
    )
    expected = np.nan_to_num(expected)  # FMAFeatures gives 0 where the reference gives NaN
    # The reference's statistics run in float32 over ~1,300 frames per 30 s clip.
    np.testing.assert_allclose(got[:, ~moments], expected[:, ~moments], rtol=3e-5, atol=1e-4)
    np.testing.assert_allclose(got[:, moments], expected[:, moments], rtol=3e-5, atol=1e-3)


def rss_mib():
    """(current, peak) resident memory of this process in MiB, from /proc."""
    status = dict(
        line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line
    )
    return tuple(int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))


def memory_run(side, pool, sr, n_clips, batch_size, checkpoints, queue):
    """Run one side alone over ``n_clips`` clips; report RSS at the checkpoints."""
    done = 0
    while done < n_clips:
        stop = min([done + batch_size, n_clips] + [mark for mark in checkpoints if mark > done])
        batch = pool[np.arange(done, stop) % len(pool)]
        if side == "reference":
            reference(batch, sr, n_jobs=1)
        else:
            ours(batch, sr, n_jobs=1, batch_size=batch_size)
        done = stop
        if done in checkpoints:
            queue.put((side, done, *rss_mib()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-clips", type=int, default=64, help="clips timed (default 64)")
    parser.add_argument("--sr", type=int, default=22050, help="sampling rate in Hz")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per clip")
    parser.add_argument("--n-jobs", type=int, default=1, help="joblib processes per side")
    parser.add_argument("--batch-size", type=int, default=8, help="clips per timed batch")
    parser.add_argument(
        "--memory-clips", type=int, default=1000, help="clips of the memory runs (0: skip)"
    )
    parser.add_argument("--n-distinct", type=int, default=16, help="distinct clips, cycled")
    args = parser.parse_args()

    pool, _ = make_genre_clips(
        args.n_distinct, n_genres=8, duration=args.duration, sr=args.sr, random_state=0
    )
    print(
        f"{args.n_clips} clips of {args.duration:g} s at {args.sr} Hz, n_jobs={args.n_jobs}, "
        "single-threaded BLAS"
    )
    # Warm up both sides (numba compilation, filter caches) outside the timing.
    check_parity(ours(pool[:1], args.sr, 1, 1), reference(pool[:1], args.sr, 1))

    times = {"reference": 0.0, "FMAFeatures": 0.0}
    runs = {
        "reference": lambda X: reference(X, args.sr, args.n_jobs),
        "FMAFeatures": lambda X: ours(X, args.sr, args.n_jobs, args.batch_size),
    }
    outputs = {}
    for index, start in enumerate(range(0, args.n_clips, args.batch_size)):
        batch = pool[np.arange(start, min(start + args.batch_size, args.n_clips)) % len(pool)]
        order = list(runs) if index % 2 == 0 else list(runs)[::-1]
        for side in order:
            tic = time.perf_counter()
            outputs[side] = runs[side](batch)
            times[side] += time.perf_counter() - tic
        check_parity(outputs["FMAFeatures"], outputs["reference"])
    for side, seconds in times.items():
        print(f"{side:>12}: {seconds:8.2f} s  ({seconds / args.n_clips * 1000:6.1f} ms per clip)")
    print(f"       ratio: {times['reference'] / times['FMAFeatures']:.2f}x faster, parity ok")

    if args.memory_clips:
        checkpoints = sorted({min(100, args.memory_clips), args.memory_clips})
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        for side in ("reference", "FMAFeatures"):
            process = context.Process(
                target=memory_run,
                args=(side, pool, args.sr, args.memory_clips, args.batch_size, checkpoints, queue),
            )
            process.start()
            process.join()
            while not queue.empty():
                name, done, current, peak = queue.get()
                print(
                    f"{name:>12}: RSS after {done:5d} clips {current:.1f} MiB, peak {peak:.1f} MiB"
                )


if __name__ == "__main__":
    main()
