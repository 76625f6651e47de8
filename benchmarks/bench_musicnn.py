"""Throughput of MusicnnFeatures on 30 s clips: ours against a straightforward float32 port.

The straightforward port is the same network and front end with the plain layer
order of the TF graph (convolution, ReLU and batch norm on the full
time x frequency map, then the maximum over frequency; ``conv2d`` for the
temporal filters) and one clip per forward pass. Ours pools before the ReLU
and batch norm (exact, see ``MusicnnModule``), computes the temporal filters
as one matrix product, and batches windows across clips. Both run in
float32 under ``torch.inference_mode``, one thread, in this process, on the
same clips; the script prints clips per second (wall and CPU time, the
latter less sensitive to other work on a shared machine) and the ratio.

Usage::

    python benchmarks/bench_musicnn.py [--clips 8] [--model MSD_musicnn] [--threads 1]
"""

import argparse
import time

import numpy as np
import torch

from skfma.transfer import MusicnnFeatures
from skfma.transfer._musicnn import _pretrained_network, log_mel_windows

SR = 16000


def plain_musicnn_penultimate(network, patches):
    """The TF graph's layer order, layer by layer: the straightforward port."""
    image = network.input_bn(patches.transpose(1, 2).unsqueeze(1))
    timbral = torch.nn.functional.pad(image, (0, 0, 3, 3))
    features = [block(timbral).amax(dim=3) for block in network.timbral]
    for block in network.temporal:
        length = block.conv.kernel_size[0]
        padded = torch.nn.functional.pad(image, (0, 0, (length - 1) // 2, length // 2))
        features.append(block(padded).amax(dim=3))
    frontend = torch.cat(features, dim=1)
    outputs = [frontend, network.midend[0](torch.nn.functional.pad(frontend, (3, 3)))]
    for block in network.midend[1:]:
        outputs.append(block(torch.nn.functional.pad(outputs[-1], (3, 3))) + outputs[-1])
    frames = torch.cat(outputs, dim=1)
    pooled = torch.stack([frames.amax(dim=2), frames.mean(dim=2)], dim=2).flatten(1)
    hidden = network.dense(network.pool_bn(pooled))
    return network.dense_bn(torch.relu(hidden))


def plain_transform(X, model):
    """One clip at a time through :func:`plain_musicnn_penultimate`, mean over windows."""
    network = _pretrained_network(model, torch.device("cpu"))
    out = []
    with torch.inference_mode():
        for clip in X:
            patches = log_mel_windows(torch.from_numpy(clip[None]))[0]
            if model.endswith("_vgg"):
                out.append(network.extract(patches, "pool5").mean(dim=0))
            else:
                out.append(plain_musicnn_penultimate(network, patches).mean(dim=0))
    return torch.stack(out).numpy()


def timed(function, X):
    """(output, clips per second of wall time, clips per second of CPU time)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = function(X)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return out, len(X) / wall, len(X) / cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8, help="30 s clips (default 8)")
    parser.add_argument("--model", default="MSD_musicnn")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    X = (0.1 * rng.standard_normal((args.clips, 30 * SR))).astype(np.float32)
    layer = "pool5" if args.model.endswith("_vgg") else "penultimate"
    print(
        f"{args.clips} clips of 30 s (10 windows each), {args.model} {layer}, "
        f"{args.threads} thread(s), torch {torch.__version__}"
    )
    plain_transform(X[:1], args.model)  # warm up: weights, filterbank, oneDNN kernels
    reference, plain_wall, plain_cpu = timed(lambda X: plain_transform(X, args.model), X)
    print(f"plain port, 1 clip per pass   {plain_wall:6.2f} clips/s wall {plain_cpu:6.2f} CPU")
    results = {}
    for batch_size in (1, 2, 4, 16):
        extractor = MusicnnFeatures(model=args.model, layer=layer, batch_size=batch_size)
        out, wall, cpu = timed(extractor.transform, X)
        results[batch_size] = (wall, cpu)
        error = np.abs(out - reference).max()
        print(
            f"MusicnnFeatures batch_size={batch_size:<3d} {wall:6.2f} clips/s wall {cpu:6.2f} CPU"
            f"   (max |difference| {error:.1e})"
        )
    best = max(results, key=lambda batch_size: results[batch_size][1])
    wall, cpu = results[best]
    print(
        f"ratio ours (batch_size={best}) / plain: {wall / plain_wall:.2f}x wall, "
        f"{cpu / plain_cpu:.2f}x CPU; {cpu / args.threads:.2f} clips/s per core (CPU time)"
    )


if __name__ == "__main__":
    main()
