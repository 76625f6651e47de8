"""
Report 004: Zhang's residual CNN on the waveform, its spectrogram, or both
==========================================================================

The residual CNN of Zhang et al. (2016) takes waveforms and computes their
STFT inside; its first layer reads the waveform through a strided 1-D
convolution (``module__input="waveform"``, "1-D"), the STFT magnitude
(``"spectrogram"``, "2-D"), or both (half of its maps from each). The report
trained each variant with a first layer spanning 4 STFT frames without
padding and dropout 0.2 after every layer but the last, on segments of 3 s
with 50% overlap whose probabilities are summed per song; the validation
loss of the learning curves is that of each song's summed prediction.

Each variant trains on the FMA training split, with its validation split for
the learning curves, and is evaluated on the test split: a table of the
three test accuracies, and each variant's report (per-genre scores,
confusion matrix, learning curves).

The waveforms of 29.7 s at 22,050 Hz take 2.6 MB a clip: 21 GB for the
8,000 clips of ``fma_small``. They are decoded once, a block of clips at a
time, into ``.npy`` files under ``--out`` (``waveforms/``), which the three
variants read as memory maps: the disk holds them, and the operating system
keeps in memory what it can (training reads the clips in random order, so a
machine with less memory than the waveforms reads the disk all along).

Run on a download: ``python report_004_zhang_resnet.py --root ~/fma
--device cuda``; ``--epochs``, ``--clips-per-genre`` and ``--batch-size``
shrink a run (see :doc:`/reproducing`). Without ``--root``, a smoke run trains narrow nets (16 maps,
a 256-sample STFT) on a few synthetic clips of 3 s at 8 kHz, with segments of
1 s, by the same code: the smoke numbers say nothing about the report's.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from _reports_common import (
    RunClock,
    beside_published,
    load_clips,
    n_parameters,
    net_options,
    parse_args,
    save_clip_counts,
    save_report,
    save_table,
    smoke_root,
    validation_fold,
)
from skorch.dataset import ValidSplit

from skfma import AudioLoader
from skfma.evaluation import evaluate_classifier
from skfma.models import ZhangResNet

args = parse_args("004", "Report 004: Zhang's residual CNN, 1-D, 2-D and both.")

# %%
# The settings: the report's for a download, tiny ones for the smoke run.
if args.smoke:
    root = smoke_root(duration=3.0)
    sr, duration, segment_seconds = 8000, 3.0, 1.0
    net_settings = {"module__n_fft": 256, "module__filters": 16, "module__dense_units": (16, 8)}
    max_epochs, batch_size = 6, 16
else:
    root = args.root
    sr, duration, segment_seconds = 22050, 29.7, 3.0
    net_settings = {}
    max_epochs, batch_size = 30, 50
max_epochs, batch_size = args.epochs or max_epochs, args.batch_size or batch_size
segment_length = round(segment_seconds * sr)  # 66,150 samples for 3 s at 22,050 Hz


def decode(paths, name, *, block=512):
    """The waveforms of ``paths``, written to ``out/waveforms/name.npy``; a memory map."""
    loader = AudioLoader(sr=sr, duration=duration, n_jobs=args.n_jobs).fit(paths)
    file = args.out / "waveforms" / f"{name}.npy"
    file.parent.mkdir(exist_ok=True)
    shape = (len(paths), loader.n_samples_out)
    waveforms = np.lib.format.open_memmap(file, mode="w+", dtype=np.float32, shape=shape)
    for start in range(0, len(paths), block):
        waveforms[start : start + block] = loader.transform(paths[start : start + block])
    waveforms.flush()
    del waveforms
    return np.load(file, mmap_mode="c")  # copy-on-write: torch wants writable arrays


train = load_clips(root, args, split=["training", "validation"])
test = load_clips(root, args, split="test")
save_clip_counts(args, train, test)
known = np.isin(test.target, train.target)  # test clips of genres seen in training
X_train, y_train = decode(train.filenames, "training"), train.target
X_test, y_test = decode(test.filenames[known], "test"), test.target[known]
print(
    f"{np.sum(train.split == 'training')} training, {np.sum(train.split == 'validation')} "
    f"validation and {len(y_test)} test clips of {X_train.shape[1]} samples"
)

# %%
# One net per first layer, report 004's options, segments with 50% overlap
# summed per song (``segment_aggregate="sum"``, ZhangResNet's default).
# The epoch tables show each epoch's clips per second, the time left for the
# variant's fit and for the whole run (the three variants).
VARIANTS = {"1-D": "waveform", "2-D": "spectrogram", "both": "both"}
clock = RunClock(dict.fromkeys(VARIANTS, max_epochs))
rows = []
for name, first_layer in VARIANTS.items():
    net = ZhangResNet(
        module__input=first_layer,
        module__first_kernel_size=4,
        module__dropout=0.2,
        module__conv_dropout=0.2,
        segment_length=segment_length,
        segment_hop=segment_length // 2,
        max_epochs=max_epochs,
        batch_size=batch_size,
        train_split=ValidSplit(validation_fold(train.split)),
        random_state=0,
        **net_settings,
        **net_options(args, clock, name),
    )
    start = time.perf_counter()
    net.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    report = evaluate_classifier(net, X_test, y_test, top_k=(1, 3), zero_division=0)
    save_report(report, args.out, f"zhang_{first_layer}", history=net.history_)
    valid_loss = net.history_[:, "valid_loss"]
    rows.append(
        {
            "input": name,
            "parameters": n_parameters(net.module_),
            "test accuracy": report.summary["accuracy"],
            "top-3 accuracy": report.summary["top_3_accuracy"],
            "F1, macro": report.summary["f1_macro"],
            "best epoch (valid loss)": int(np.argmin(valid_loss)) + 1,
            "training seconds": seconds,
        }
    )
    print(f"{name}: test accuracy {report.summary['accuracy']:.3f}")
table = pd.DataFrame(rows).set_index("input")
save_table(table, args.out, "variants", title="Test accuracy of each first layer")

# %%
# Test accuracy of each variant, against chance (the most frequent genre).
chance = pd.Series(y_test).value_counts(normalize=True).iloc[0]
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.bar(table.index, table["test accuracy"], color="tab:blue")
ax.axhline(chance, color="gray", linestyle="--", label="most frequent genre")
ax.set(ylabel="test accuracy", ylim=(0, 1), title="ZhangResNet: first layer")
ax.legend(loc="upper left")
fig.savefig(args.out / "variants.png", dpi=100, bbox_inches="tight")
plt.show()

# %%
# The report's figures beside this run's: the shape of its first layer (1,025
# frequency bins, 256 maps, 4 frames in, so 977 frames become 974; the smoke
# run's nets are smaller) and its test accuracies of segmented nets with
# dropout 0.2 (Table: 2-D 0.378, both 0.369; it gives 1-D only without
# dropout, 0.314; a later table gives 0.423 for 2-D with dropout). It gives
# no parameter counts.
module = net.module_  # the last variant's ("both": both branches)
ours = {
    "spectrogram bins": module.spectrogram.n_bins,
    "first-layer maps": module.first_norm.num_features,
    "frames lost by the first layer": module.first_kernel_size - 1,
}
ours |= {f"parameters, {name}": table.loc[name, "parameters"] for name in VARIANTS}
ours |= {f"test accuracy, {name}": table.loc[name, "test accuracy"] for name in VARIANTS}
published = {
    "spectrogram bins": 1025,
    "first-layer maps": 256,
    "frames lost by the first layer": 3,
    "test accuracy, 1-D": 0.314,
    "test accuracy, 2-D": 0.378,
    "test accuracy, both": 0.369,
}
beside_published(ours, published, args)
