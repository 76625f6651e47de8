"""Training throughput of KostrzewaCNN through skfma versus a plain PyTorch loop.

Both sides train the same architecture (``skfma.nn.KostrzewaCNNModule``) on the same
random spectrograms for one epoch, with Adam, the same batch size and shuffling,
each building a fresh module and optimizer. Repeats alternate between the two
sides so that both see the same machine state; the script prints the median
samples per second of each and their ratio (skfma / plain; the target is >= 0.95).

Examples
--------
Short run on a CPU::

    python benchmarks/bench_training.py --n-samples 256 --input-size 64 --repeats 5

Full size on a GPU::

    python benchmarks/bench_training.py --device cuda --n-samples 2048 --input-size 128
"""

import argparse
import statistics
import time

import numpy as np
import torch

from skfma.models import KostrzewaCNN
from skfma.nn import KostrzewaCNNModule


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def plain_epoch(X, y, *, n_classes, batch_size, lr, device):
    """One epoch of the textbook loop: module, Adam, shuffled batches; returns seconds."""
    sync(device)
    start = time.perf_counter()
    module = KostrzewaCNNModule(input_shape=X.shape[1:], n_classes=n_classes).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    criterion = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    module.train()
    for batch in torch.randperm(len(X_t)).split(batch_size):
        xb, yb = X_t[batch].to(device), y_t[batch].to(device)
        optimizer.zero_grad()
        loss = criterion(module(xb), yb)
        loss.backward()
        optimizer.step()
    sync(device)
    return time.perf_counter() - start


def skfma_epoch(X, labels, *, batch_size, lr, device):
    """One epoch of ``KostrzewaCNN.fit`` (validation and label encoding included)."""
    sync(device)
    start = time.perf_counter()
    KostrzewaCNN(max_epochs=1, batch_size=batch_size, lr=lr, device=device).fit(X, labels)
    sync(device)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    parser.add_argument("--n-samples", type=int, default=1024, help="spectrograms per epoch")
    parser.add_argument("--input-size", type=int, default=128, help="mel bands = frames")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--n-classes", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5, help="epochs timed per side")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    size = args.input_size
    X = rng.standard_normal((args.n_samples, 1, size, size)).astype(np.float32)
    y = (np.arange(args.n_samples) % args.n_classes).astype(np.int64)
    genres = np.array([f"genre {k}" for k in range(args.n_classes)])[y]
    common = {"batch_size": args.batch_size, "lr": 1e-3, "device": args.device}

    # Warm-up (allocator, kernels, cuDNN autotuning), not timed.
    plain_epoch(
        X[: 4 * args.batch_size], y[: 4 * args.batch_size], n_classes=args.n_classes, **common
    )
    skfma_epoch(X[: 4 * args.batch_size], genres[: 4 * args.batch_size], **common)

    plain, ours = [], []
    for _ in range(args.repeats):
        plain.append(args.n_samples / plain_epoch(X, y, n_classes=args.n_classes, **common))
        ours.append(args.n_samples / skfma_epoch(X, genres, **common))
    plain_rate, our_rate = statistics.median(plain), statistics.median(ours)
    print(
        f"KostrzewaCNN, {args.n_samples} x 1 x {size} x {size}, batch {args.batch_size}, "
        f"device {args.device}, torch threads {torch.get_num_threads()}, "
        f"{args.repeats} interleaved repeats (median)"
    )
    print(f"plain PyTorch loop: {plain_rate:9.1f} samples/s")
    print(f"skfma KostrzewaCNN: {our_rate:9.1f} samples/s")
    print(f"ratio skfma / plain: {our_rate / plain_rate:.3f}")


if __name__ == "__main__":
    main()
