"""Per-clip time of MelSpectrogram by batch size, on the CPU (and a GPU where torch sees one).

On a CPU a large batch is memory-bound and slower per clip than a small one; on a GPU the
opposite holds. This picks ``batch_size=None``'s choice (1 on a CPU, 32 on a GPU).

Run: ``python benchmarks/bench_batch_size.py --n-clips 32 --duration 30``
"""

import argparse
import time

import numpy as np
import torch

from skfma import MelSpectrogram


def per_clip_ms(X, batch_size, device, repeats):
    transformer = MelSpectrogram(batch_size=batch_size, device=device).fit(X[:1])
    transformer.transform(X[:batch_size])  # warm-up
    best = float("inf")
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        transformer.transform(X)
        best = min(best, time.perf_counter() - started)
    return 1000 * best / len(X)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-clips", type=int, default=32)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds at 22.05 kHz")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    X = (0.1 * rng.standard_normal((args.n_clips, round(22050 * args.duration)))).astype("float32")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        for batch_size in (1, 2, 4, 8, 16, 32):
            if batch_size <= args.n_clips:
                ms = per_clip_ms(X, batch_size, device, args.repeats)
                print(f"{device:4s} batch_size={batch_size:3d}: {ms:7.2f} ms per clip")


if __name__ == "__main__":
    main()
