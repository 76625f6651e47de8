"""Training speed of the reports' nets through the skfma estimators, by precision.

For each net, at the input size of its report, the script fits N random clips for three
epochs in each variant and times the last: the steady state of a real run, whose batches reuse
the memory that the batches before freed (``fit`` keeps it,
``skfma._memory.reuse_freed_memory``). With N clips in one batch, the first epochs' times are
mostly the kernel faulting in the batch's memory (and the heap settling): a float32 batch of 32
ChoiCRNN clips took 14.5, 26.2 and 10.9 s in its first three epochs, with 1.8 million, 0.5
million and no page faults (``benchmarks/README.md``). The variants:

- ``float32``: the estimator as it stands;
- ``bfloat16``: ``precision="bfloat16"`` (autocast where the device has it);
- ``compiled``: skorch's ``compile=True`` (``torch.compile``), float32;
- ``compiled-bfloat16``: both (not run by default);
- ``plain``: a textbook float32 PyTorch loop over the same windows with the same module,
  optimizer and batch size (the estimators' overhead: the ratio should be close to 1).

Every variant fits once untimed first (allocator, kernels, compilation: that whole fit's time is
printed as ``first s``), then ``--repeats`` timed rounds follow, the variants interleaved within
each round so that all see the same machine state. It prints the median clips per second and
the ratio to ``float32`` of the same run. The nets:

- ``kostrzewa``: ``KostrzewaCNN`` on 128 x 128 log-mels (batches of 32);
- ``unet``: ``UNetEncoderCNN`` on 128-band, 1,292-frame log-mels (30 s), three tiles of
  128 frames per clip (``n_segments=3``), batches of 42 tiles, as report 002;
- ``crnn``: ``ChoiCRNN`` on 96 x 1,366 log-mels, 50 tags (multi-label), batches of 32;
- ``zhang-waveform``, ``zhang-spectrogram``, ``zhang-both``: ``ZhangResNet`` on 29.7 s
  waveforms at 22,050 Hz cut into 3 s segments with 50% overlap (18 per clip), report 004's
  settings (first kernel of 4 frames, dropout 0.2), batches of 50 segments.

A clip is one training example of the report: its windows (tiles, segments) all count in it.
The script also prints, measured in the same run, torch's matrix-product rate on this machine
(``--matmul-size`` squared, float32 and bfloat16), a 3 x 3 convolution's (128 channels on
64 x 64 maps: the kernels the convolutional nets spend most of their time in, whose
bfloat16/float32 ratio caps theirs) and each net's GFLOP per training clip
(``torch.utils.flop_counter.FlopCounterMode`` over one forward and backward pass: convolutions
and matrix products; the STFT is not counted), so that each variant's GFLOP/s compares with
the hardware's.

With ``--profile``, instead of timing, it profiles one epoch of each net in float32 and
bfloat16 with ``torch.profiler`` (CPU) after a warm-up fit, and prints where the time goes:
convolutions, batch norm, pooling, activations, the GRU, the STFT, linear layers, dtype
conversions and copies, data loading (the DataLoader's batches), the optimizer, and the time
outside torch operators (Python, skorch). Profiler overhead makes that epoch slower than an
unprofiled one, and not evenly: on a CPU with AMX, the profiler gave the passes over large maps
(batch norm, pooling, activations) 2-3 times their unprofiled time (forward hooks on the
modules measure those; ``benchmarks/README.md``, "A second CPU"), so their shares are upper
bounds.

Examples
--------
Default run (every net but ``zhang-spectrogram``, 3 rounds; a few minutes on 2 cores after the
first compilation)::

    python benchmarks/bench_training.py

On cores shared with other work, one torch thread gives steadier figures (a second thread
waits for the busy core at every parallel operator; ``benchmarks/README.md``)::

    python benchmarks/bench_training.py --threads 1

Smaller::

    python benchmarks/bench_training.py --nets kostrzewa crnn --n-clips 16 --repeats 2

Where an epoch's time goes::

    python benchmarks/bench_training.py --profile --nets kostrzewa unet crnn zhang-both
"""

import argparse
import collections
import inspect
import statistics
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from skfma.models import ChoiCRNN, KostrzewaCNN, UNetEncoderCNN, ZhangResNet

SR = 22050
ZHANG_SEGMENT = 3 * SR  # 66,150 samples
ZHANG_SETTINGS = {
    "module__first_kernel_size": 4,
    "module__dropout": 0.2,
    "module__conv_dropout": 0.2,
    "segment_length": ZHANG_SEGMENT,
    "segment_hop": ZHANG_SEGMENT // 2,
}


@dataclass(frozen=True)
class Net:
    """A net of a report, the shape of its clips and how many of them to train on by default."""

    estimator: type
    clip_shape: tuple
    n_clips: int
    description: str
    params: dict = field(default_factory=dict)
    n_outputs: int = 8
    tags: bool = False


NETS = {
    "kostrzewa": Net(KostrzewaCNN, (128, 128), 64, "KostrzewaCNN, 128 x 128 log-mels"),
    "unet": Net(
        UNetEncoderCNN,
        (128, 1292),
        7,
        "UNetEncoderCNN, 128 x 1292 log-mels, 3 tiles of 128 frames",
        {"segment_length": 128, "n_segments": 3},
    ),
    "crnn": Net(
        ChoiCRNN, (96, 1366), 8, "ChoiCRNN, 96 x 1366 log-mels, 50 tags", n_outputs=50, tags=True
    ),
    **{
        f"zhang-{first}": Net(
            ZhangResNet,
            (round(29.7 * SR),),
            8,
            f"ZhangResNet input={first!r}, 29.7 s waveforms, 3 s segments, 50% overlap",
            {"module__input": first, **ZHANG_SETTINGS},
        )
        for first in ("waveform", "spectrogram", "both")
    },
}
DEFAULT_NETS = ["kostrzewa", "unet", "crnn", "zhang-waveform", "zhang-both"]

#: Estimator parameters of each variant (``plain`` is the hand-written loop).
VARIANTS = {
    "float32": {},
    "bfloat16": {"precision": "bfloat16"},
    "compiled": {"compile": True},
    "compiled-bfloat16": {"compile": True, "precision": "bfloat16"},
    "plain": None,
}
DEFAULT_VARIANTS = ["float32", "bfloat16", "compiled", "plain"]

#: Epochs of every fit; the last one is timed.
EPOCHS = 3


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def make_data(net, n_clips, rng):
    """Random clips (log-mel-like or waveform-like) and their labels (genres, or 0/1 tags)."""
    X = rng.standard_normal((n_clips, *net.clip_shape), dtype=np.float32)
    if len(net.clip_shape) == 1:
        X *= 0.1  # waveform amplitudes
    if net.tags:
        y = (rng.random((n_clips, net.n_outputs)) < 0.2).astype(np.int64)
        y[:, 0], y[:, 1] = 1, 0  # every column 0/1 (a multi-label target)
        y[0, 1] = 1
        return X, y
    return X, np.array([f"genre {k % net.n_outputs}" for k in range(n_clips)])


def estimator(net, variant, *, device, batch_size=None, max_epochs=EPOCHS):
    params = {**net.params, **VARIANTS[variant]}
    if batch_size is not None:
        params["batch_size"] = batch_size
    return net.estimator(max_epochs=max_epochs, random_state=0, device=device, **params)


def window_starts(net, n_frames):
    """First frames (samples) of a clip's windows, as the estimator cuts them."""
    length = net.params.get("segment_length")
    if length is None:
        return None
    if "n_segments" in net.params:
        count = net.params["n_segments"]
        return [round(i * (n_frames - length) / (count - 1)) for i in range(count)]
    return list(range(0, n_frames - length + 1, net.params.get("segment_hop") or length))


def windows_of(net, X):
    """Every training example of ``X`` as one float32 tensor (windows of each clip in turn)."""
    X = torch.from_numpy(X)
    if X.dim() == 3:
        X = X[:, None]  # a channel axis, as the estimators add
    starts = window_starts(net, X.shape[-1])
    if starts is None:
        return X
    length = net.params["segment_length"]
    windows = torch.stack([X[..., s : s + length] for s in starts], dim=1)
    return windows.reshape(-1, *windows.shape[2:])


def build_module(net, example_shape):
    """The estimator's module, built as it builds it for ``example_shape`` inputs."""
    cls = inspect.signature(net.estimator).parameters["module"].default
    kwargs = {k.removeprefix("module__"): v for k, v in net.params.items() if "module__" in k}
    accepted = inspect.signature(cls).parameters
    sizes = {"input_shape": tuple(example_shape), "n_classes": net.n_outputs}
    kwargs.update({k: v for k, v in sizes.items() if k in accepted})
    return cls(**kwargs)


def loss_fn(net):
    return torch.nn.BCEWithLogitsLoss() if net.tags else torch.nn.CrossEntropyLoss()


def targets_of(net, y, windows_per_clip):
    """Per-window targets of the plain loop: class codes or float tags."""
    if net.tags:
        t = torch.as_tensor(y, dtype=torch.float32)
    else:
        t = torch.as_tensor(np.unique(y, return_inverse=True)[1].astype(np.int64))
    return t.repeat_interleave(windows_per_clip, dim=0)


def plain_fit(net, examples, targets, *, batch_size, lr, device):
    """The textbook loop (new module, Adam, shuffled batches): seconds in all, of the last epoch."""
    sync(device)
    start = time.perf_counter()
    module = build_module(net, examples.shape[1:]).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    criterion = loss_fn(net)
    module.train()
    for _ in range(EPOCHS):
        epoch_start = time.perf_counter()
        for batch in torch.randperm(len(examples)).split(batch_size):
            if len(batch) < 2:  # batch norm cannot train on one example (the estimators drop it)
                continue
            xb, yb = examples[batch].to(device), targets[batch].to(device)
            optimizer.zero_grad()
            loss = criterion(module(xb), yb)
            loss.backward()
            optimizer.step()
        sync(device)
    end = time.perf_counter()
    return end - start, end - epoch_start


def timed_fit(model, X, y, device):
    """Fit ``model``; seconds in all and of its last epoch (skorch's ``dur``)."""
    sync(device)
    start = time.perf_counter()
    model.fit(X, y)
    sync(device)
    return time.perf_counter() - start, model.history[-1, "dur"]


def gflop_per_clip(net, X):
    """GFLOP of one forward and backward pass (training mode) per clip, from two clips."""
    examples = windows_of(net, X[:2])
    module = build_module(net, examples.shape[1:]).train()
    y = torch.zeros(len(examples), net.n_outputs) if net.tags else torch.zeros(len(examples))
    counter = FlopCounterMode(display=False)
    with counter:
        loss_fn(net)(module(examples), y if net.tags else y.long()).backward()
    return counter.get_total_flops() / 2 / 1e9


def matmul_gflops(size, dtype, repeats=5):
    """Best rate of a size x size matrix product, in GFLOP/s."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def conv_gflops(dtype, batch=32, channels=128, size=64, repeats=5):
    """Best rate of a 3 x 3 convolution (forward, channels-last), in GFLOP/s.

    The nets' own kind of work: oneDNN's convolution kernels, whose rate
    differs from the matrix product's (on AVX-512 cores they come closer to
    the vector units' peak in float32).
    """
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1).to(
        dtype, memory_format=torch.channels_last
    )
    x = torch.randn(batch, channels, size, size).to(dtype, memory_format=torch.channels_last)
    with torch.no_grad():
        conv(x)
        best = min(_seconds(lambda: conv(x)) for _ in range(repeats))
    return 2 * batch * size * size * channels * channels * 9 / best / 1e9


def _seconds(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def train(args, nets, variants):
    """Time every variant of every net; print a table per net."""
    rng = np.random.default_rng(0)
    for name in nets:
        time_net(args, name, variants, rng)


def time_net(args, name, variants, rng):
    """Fit every variant once, then ``args.repeats`` interleaved rounds; print the table."""
    net = NETS[name]
    n_clips = args.n_clips or net.n_clips
    X, y = make_data(net, n_clips, rng)
    model = estimator(net, "float32", device=args.device, batch_size=args.batch_size)
    examples = windows_of(net, X)
    per_clip = len(examples) // n_clips
    targets = targets_of(net, y, per_clip)
    gflop = gflop_per_clip(net, X)

    def run(variant):
        if VARIANTS[variant] is None:
            return plain_fit(
                net,
                examples,
                targets,
                batch_size=model.batch_size,
                lr=model.lr,
                device=args.device,
            )
        fitted = estimator(net, variant, device=args.device, batch_size=args.batch_size)
        return timed_fit(fitted, X, y, args.device)

    first = {variant: run(variant)[0] for variant in variants}
    rates = collections.defaultdict(list)
    for round_ in range(args.repeats):
        # Rotate the order each round: no variant always runs first or last.
        shift = round_ % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            rates[variant].append(n_clips / run(variant)[1])
    print(
        f"\n{name}: {net.description}; {n_clips} clips ({per_clip} example(s) each, "
        f"batches of {model.batch_size}), {gflop:.2f} GFLOP per training clip; "
        f"epoch {EPOCHS} of each fit, median of {args.repeats} interleaved rounds"
    )
    print(f"{'variant':<18} {'clips/s':>9} {'x float32':>10} {'GFLOP/s':>8} {'first s':>8}")
    median = {variant: statistics.median(rates[variant]) for variant in variants}
    base = median.get("float32")
    for variant in variants:
        ratio = f"{median[variant] / base:10.2f}" if base else f"{'':10}"
        print(
            f"{variant:<18} {median[variant]:9.2f} {ratio} {median[variant] * gflop:8.1f} "
            f"{first[variant]:8.1f}"
        )
    if base and "plain" in median:
        print(f"skfma float32 / plain loop: {base / median['plain']:.3f}")


# ---------------------------------------------------------------------- profile

#: (category, substrings of operator or range names), tried in order on an event and then on
#: its enclosing events, innermost first.
CATEGORIES = [
    ("dtype casts, copies", ("aten::_to_copy", "aten::copy_", "aten::clone", "aten::contiguous")),
    ("convolution", ("conv", "Conv")),
    ("GRU", ("gru", "GRU", "rnn", "Rnn", "RNN")),
    ("STFT", ("stft", "fft", "Stft", "Fft")),
    ("batch norm", ("batch_norm", "BatchNorm")),
    ("pooling", ("pool", "Pool", "amax", "Amax")),
    ("activations", ("relu", "Relu", "elu", "Elu", "threshold", "Threshold")),
    ("dropout", ("dropout", "Dropout", "bernoulli", "Bernoulli")),
    ("linear", ("addmm", "Addmm", "aten::mm", "MmBackward", "linear", "matmul")),
    ("loss", ("cross_entropy", "log_softmax", "LogSoftmax", "nll_loss", "Nll", "binary_cross")),
]
#: The training step's range: its operators are the net's (forward, loss, backward), even though
#: skorch runs it inside ``Optimizer.step`` (as the optimizer's closure).
STEP = "train_step_single"
#: Ranges whose whole time is one category outside the training step.
RANGES = [
    ("data loading", "enumerate(DataLoader)"),
    ("optimizer", "Optimizer."),
]
COLUMNS = [*(name for name, _ in RANGES), *(name for name, _ in CATEGORIES), "other ops"]


def categorise(event):
    """The category of an event's own time, from its name and those of the events around it."""
    chain = []
    while event is not None:
        chain.append(event.name)
        event = event.cpu_parent
    if STEP not in chain:
        for category, prefix in RANGES:
            if any(name.startswith(prefix) for name in chain):
                return category
    for category, keys in CATEGORIES[:1]:  # a copy is a copy wherever it runs
        if any(key in chain[0] for key in keys):
            return category
    for name in chain:
        for category, keys in CATEGORIES[1:]:
            if any(key in name for key in keys):
                return category
    return "other ops"


def traced_steps(model):
    """Make ``model``'s training steps a profiler range named :data:`STEP` (this fit only)."""
    from torch.autograd.profiler import record_function

    step = model.train_step_single

    def train_step_single(batch, **fit_params):
        with record_function(STEP):
            return step(batch, **fit_params)

    model.train_step_single = train_step_single
    return model


def profile(args, nets):
    """Profile one epoch of each net in float32 and bfloat16; print the breakdown (% of wall)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    rng = np.random.default_rng(0)
    rows = []
    for name in nets:
        net = NETS[name]
        n_clips = args.n_clips or net.n_clips
        X, y = make_data(net, n_clips, rng)
        for variant in ("float32", "bfloat16"):
            settings = {"device": args.device, "batch_size": args.batch_size, "max_epochs": 1}
            estimator(net, variant, **settings).fit(X, y)  # warm-up
            model = traced_steps(estimator(net, variant, **settings))
            with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
                seconds, _ = timed_fit(model, X, y, args.device)
            totals = collections.Counter()
            for event in prof.events():
                totals[categorise(event)] += event.self_cpu_time_total / 1e6
            outside = seconds - sum(totals.values())
            rows.append((name, variant, seconds / n_clips, totals, outside, seconds))
    header = ["net", "precision", "ms/clip", *COLUMNS, "outside ops"]
    print("\nShare of one profiled epoch's wall time (%), by what ran:")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, variant, per_clip, totals, outside, seconds in rows:
        cells = [f"{100 * totals[c] / seconds:.1f}" for c in COLUMNS]
        print(
            f"| {name} | {variant} | {1000 * per_clip:.0f} | "
            + " | ".join(cells)
            + f" | {100 * outside / seconds:.1f} |"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nets", nargs="+", choices=list(NETS), default=DEFAULT_NETS)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=DEFAULT_VARIANTS)
    parser.add_argument(
        "--n-clips", type=int, default=None, help="clips per epoch (default: per net)"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="default: the estimator's")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds of every variant")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument("--profile", action="store_true", help="profile instead of timing")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}, "
        f"bfloat16 kernels: {torch.ops.mkldnn._is_mkldnn_bf16_supported()}"
    )
    if args.profile:
        profile(args, args.nets)
        return
    if torch.device(args.device).type == "cpu":
        fp32 = matmul_gflops(args.matmul_size, torch.float32)
        bf16 = matmul_gflops(args.matmul_size, torch.bfloat16)
        print(
            f"{args.matmul_size} x {args.matmul_size} matrix product: float32 {fp32:.0f} "
            f"GFLOP/s, bfloat16 {bf16:.0f} GFLOP/s ({bf16 / fp32:.2f}x)"
        )
        fp32, bf16 = conv_gflops(torch.float32), conv_gflops(torch.bfloat16)
        print(
            f"3 x 3 convolution, 128 channels on 64 x 64 maps: float32 {fp32:.0f} GFLOP/s, "
            f"bfloat16 {bf16:.0f} GFLOP/s ({bf16 / fp32:.2f}x)"
        )
    train(args, args.nets, list(dict.fromkeys(args.variants)))


if __name__ == "__main__":
    main()
