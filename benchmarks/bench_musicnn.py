"""Throughput of MusicnnFeatures on 30 s clips, float32 and bfloat16, against the matmul limit.

One run prints, on ``--threads`` torch threads (default 1):

- the machine's matrix-product rate in float32 and bfloat16 (GFLOP/s, a
  2048 x 2048 product, best of each round): ``torch.mm``'s (MKL's in
  float32 on x86, oneDNN's in bfloat16), and oneDNN's with the second
  operand reordered once, which the lowered musicnn front end uses;
- for each model (default a musicnn and a vgg one) and each precision, the
  clips per second of ``MusicnnFeatures(model, layer, precision).transform``
  on the same clips (wall time, median over rounds);
- each path's limit: the network's GFLOP per clip, counted with
  ``torch.utils.flop_counter.FlopCounterMode`` on the layer-by-layer network
  (the convolutions and dense layers as the model defines them; the log-mel
  front end is not counted), divided by that precision's ``torch.mm`` rate,
  and the fraction of it reached (and of oneDNN's rate);
- the bfloat16 / float32 ratio of each round (the machine is shared: the
  rounds interleave every configuration, so a ratio compares times taken
  seconds apart) and the largest relative difference of bfloat16 features
  from float32 ones.

``--plain`` adds the straightforward float32 port (the TF graph's layer
order, ``conv2d`` on full maps, one clip per pass) for the musicnn model.

Usage::

    python benchmarks/bench_musicnn.py [--clips 8] [--rounds 3] [--threads 1]
        [--models MSD_musicnn MSD_vgg] [--batch-size N] [--plain]
"""

import argparse
import statistics
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from skfma.nn._musicnn import _filter_product
from skfma.transfer import MusicnnFeatures
from skfma.transfer._musicnn import _pretrained_network, log_mel_windows

SR = 16000
PRECISIONS = ("float32", "bfloat16")


def matmul_rate(dtype, n=2048, repeats=5, *, reordered=False):
    """GFLOP/s of an ``n x n`` matrix product in ``dtype`` (best of ``repeats``).

    ``torch.mm``, or with ``reordered`` the lowered front end's product
    (oneDNN's, the second operand reordered once; ``_filter_product``).
    """
    a = torch.randn(n, n).to(dtype)
    b = torch.randn(n, n).to(dtype)
    product = _filter_product(b, n) if reordered else lambda a: torch.mm(a, b)
    product(a)
    best = min(_seconds(lambda: product(a)) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _seconds(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def gflop_per_clip(model, windows):
    """The network's GFLOP for one clip's windows, on the layer-by-layer (autograd) path."""
    network = _pretrained_network(model, torch.device("cpu"))
    counter = FlopCounterMode(display=False)
    with torch.enable_grad(), counter:
        network.extract(windows, "taggram")
    return counter.get_total_flops() / 1e9


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
            out.append(plain_musicnn_penultimate(network, patches).mean(dim=0))
    return torch.stack(out).numpy()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8, help="30 s clips (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--models", nargs="+", default=["MSD_musicnn", "MSD_vgg"])
    parser.add_argument("--batch-size", type=int, default=None, help="windows per pass")
    parser.add_argument("--plain", action="store_true", help="time the plain float32 port too")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    X = (0.1 * rng.standard_normal((args.clips, 30 * SR))).astype(np.float32)
    print(
        f"{args.clips} clips of 30 s (10 windows each), {args.threads} thread(s), "
        f"{args.rounds} interleaved rounds, torch {torch.__version__}"
    )
    with torch.inference_mode():
        windows = log_mel_windows(torch.from_numpy(X[:1]))[0]
    gflop = {model: gflop_per_clip(model, windows) for model in args.models}
    extractors = {
        (model, precision): MusicnnFeatures(
            model=model,
            layer="pool5" if model.endswith("_vgg") else "penultimate",
            precision=precision,
            batch_size=args.batch_size,
        )
        for model in args.models
        for precision in PRECISIONS
    }
    outputs = {}
    for extractor in extractors.values():  # warm up: weights, filterbank, kernels
        extractor.transform(X[:1])
    rates = {precision: [] for precision in PRECISIONS}
    reordered = {precision: [] for precision in PRECISIONS}
    speed = {key: [] for key in extractors}
    plain = []
    for _ in range(args.rounds):
        for precision, dtype in zip(PRECISIONS, (torch.float32, torch.bfloat16), strict=True):
            rates[precision].append(matmul_rate(dtype))
            reordered[precision].append(matmul_rate(dtype, reordered=True))
        for key, extractor in extractors.items():
            start = time.perf_counter()
            outputs[key] = extractor.transform(X)
            speed[key].append(len(X) / (time.perf_counter() - start))
        if args.plain:
            model = next(model for model in args.models if not model.endswith("_vgg"))
            plain.append(len(X) / _seconds(lambda model=model: plain_transform(X, model)))
    for precision in PRECISIONS:
        print(
            f"matrix product {precision:8s} {max(rates[precision]):6.1f} GFLOP/s "
            f"(rounds: {', '.join(f'{rate:.1f}' for rate in rates[precision])}); oneDNN, "
            f"reordered {max(reordered[precision]):6.1f}"
        )
    for model in args.models:
        for precision in PRECISIONS:
            clips = statistics.median(speed[model, precision])
            limit = max(rates[precision]) / gflop[model]
            onednn = max(reordered[precision]) / gflop[model]
            print(
                f"{model:12s} {precision:8s} {clips:5.2f} clips/s (rounds: "
                f"{', '.join(f'{c:.2f}' for c in speed[model, precision])}); "
                f"{gflop[model]:.1f} GFLOP a clip, limit {limit:.2f} clips/s: "
                f"{clips / limit:.2f} of it ({clips / onednn:.2f} of oneDNN's)"
            )
        ratios = [
            bf16 / f32
            for f32, bf16 in zip(speed[model, "float32"], speed[model, "bfloat16"], strict=True)
        ]
        full, reduced = outputs[model, "float32"], outputs[model, "bfloat16"]
        error = np.linalg.norm(reduced - full, axis=1) / np.linalg.norm(full, axis=1)
        print(
            f"{model:12s} bfloat16 / float32: {statistics.median(ratios):.2f}x (rounds: "
            f"{', '.join(f'{r:.2f}' for r in ratios)}); features within {error.max():.3f} "
            f"of their norm"
        )
    if plain:
        model = next(model for model in args.models if not model.endswith("_vgg"))
        clips = statistics.median(plain)
        print(
            f"plain float32 port, {model} {clips:5.2f} clips/s: MusicnnFeatures float32 "
            f"{statistics.median(speed[model, 'float32']) / clips:.2f}x, bfloat16 "
            f"{statistics.median(speed[model, 'bfloat16']) / clips:.2f}x"
        )


if __name__ == "__main__":
    main()
