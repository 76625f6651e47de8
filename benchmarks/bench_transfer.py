"""Clips per second of PretrainedCNNFeatures by backbone, cut layer and batch size (CPU, GPU).

For every backbone and cut layer, feature extraction (images and truncated network) at each
batch size, and, side by side in the same process, the reference that a forward hook gives: the
whole torchvision network run on the same images, its activation read at the cut layer. The
ratio shows what truncating the network saves. Random weights (the speed is the same as with
ImageNet's); 30 s log-mel-sized inputs (128 x 1292) by default.

Run: ``python benchmarks/bench_transfer.py --n-clips 8 --batch-sizes 1 4 8``
(short: ``--backbones resnet18 --n-clips 4 --batch-sizes 1 4``).
"""

import argparse
import time

import numpy as np
import torch

from skfma.transfer import CUT_LAYERS, PretrainedCNNFeatures, spectrograms_to_images
from skfma.transfer._backbones import load_backbone


def best_seconds(repeats, device, *runs):
    """Best wall time of each ``(function, *arguments)`` in ``runs`` over ``repeats`` rounds.

    Each function runs once to warm up; then every round runs each function once, in turn, so
    that load from other processes hits all of them alike.
    """
    for function, *arguments in runs:
        function(*arguments)
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for index, (function, *arguments) in enumerate(runs):
            if device == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
            function(*arguments)
            if device == "cuda":
                torch.cuda.synchronize()
            best[index] = min(best[index], time.perf_counter() - started)
    return best


def images_of(X, device):
    """The network inputs of every clip, without a network."""
    with torch.inference_mode():
        return spectrograms_to_images(torch.tensor(X, device=device))


def hooked_reference(backbone, layer, device):
    """Extraction through the whole network with a forward hook at the cut layer."""
    network = load_backbone(backbone, weights=None, seed=0).to(device)
    if backbone == "vgg16":
        module = {"block5_pool": network.features[30], "fc1": network.classifier[1]}
        module = module.get(layer, network.classifier[4])
    else:
        module = network.avgpool if layer == "avg_pool" else network.layer4[0].relu
    outputs = []
    module.register_forward_hook(lambda module, inputs, output: outputs.append(output.clone()))

    def extract(X, batch_size):
        with torch.inference_mode():
            for start in range(0, len(X), batch_size):
                batch = torch.tensor(X[start : start + batch_size], device=device)
                outputs.clear()
                network(spectrograms_to_images(batch))
                # The Bottleneck's ReLU runs three times; conv5_block1_2_relu is its second call.
                outputs[1 if layer == "conv5_block1_2_relu" else 0].flatten(1).cpu().numpy()

    return extract


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbones", nargs="+", default=list(CUT_LAYERS), choices=CUT_LAYERS)
    parser.add_argument("--n-clips", type=int, default=8)
    parser.add_argument("--n-mels", type=int, default=128)
    parser.add_argument("--n-frames", type=int, default=1292, help="1292: 30 s at hop 512")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-reference", action="store_true", help="skip the whole-network runs")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    X = rng.normal(-40, 15, size=(args.n_clips, args.n_mels, args.n_frames)).astype(np.float32)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"{args.n_clips} clips of {args.n_mels} x {args.n_frames}, {args.threads} CPU thread(s)")
    for device in devices:
        (seconds,) = best_seconds(args.repeats, device, (images_of, X, device))
        print(f"{device:4s} images only (no network): {args.n_clips / seconds:8.1f} clips/s")
        for backbone in args.backbones:
            for layer in CUT_LAYERS[backbone]:
                extractor = PretrainedCNNFeatures(
                    backbone=backbone, layer=layer, weights=None, random_state=0, device=device
                ).fit(X[:1])
                reference = None if args.no_reference else hooked_reference(backbone, layer, device)
                for batch_size in args.batch_sizes:
                    extractor.set_params(batch_size=batch_size)
                    runs = [(extractor.transform, X)]
                    if reference is not None:
                        runs.append((reference, X, batch_size))
                    seconds = best_seconds(args.repeats, device, *runs)
                    line = (
                        f"{device:4s} {backbone:8s} {layer:19s} batch_size={batch_size:3d}: "
                        f"{args.n_clips / seconds[0]:7.2f} clips/s"
                    )
                    if reference is not None:
                        line += (
                            f", whole network + hook {args.n_clips / seconds[1]:7.2f} clips/s, "
                            f"ratio x{seconds[1] / seconds[0]:.2f}"
                        )
                    print(line, flush=True)


if __name__ == "__main__":
    main()
