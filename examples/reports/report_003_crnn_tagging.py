"""
Report 003: Choi's CRNN tagger, ROC-AUC per tag and prior-divided top tags
==========================================================================

The convolutional recurrent network of Choi et al. (2017) on 96-band log-mels
of 29.12 s at 12 kHz (hop 256: 1,366 frames), trained as a multi-label tagger
with the options of Choi's own code (input batch normalisation over time,
dropout 0.3 after the GRU). As in the report, it trains with ``partial_fit``
on chunks of 1,000 songs (``--chunk-size``), so that only a chunk of
spectrograms is read into memory at a time: the log-mels are computed once,
clip by clip, into a disk-backed array under ``--out`` (``cache/``, which a
second run reuses; it holds each clip and the array, twice the log-mels' size:
8 GB for ``fma_small``). Ten epochs by default (``--epochs``). A training
batch needs about 390 MiB of memory per clip on a CPU (float32; 190 MiB in
bfloat16; see :class:`~skfma.models.ChoiCRNN`): the batch size is the report's
32, halved until a batch fits the memory available (``--batch-size`` sets it).
After each epoch (one pass over the chunks) the FMA validation split gives the
learning curves; the test split gives each tag's ROC-AUC and PR-AUC (and their
macro and micro averages), and every test clip's top 10 tags, each tag's
probability divided by its training prior so that rare tags are not drowned by
common ones.

The tags: the report used the Million Song Dataset's 50 most frequent
Last.fm tags, which cannot be downloaded here. Give them as ``--tags
FILE``, a CSV with a ``track_id`` column and one 0/1 column per tag (e.g.
the MSD top-50 tags of the FMA tracks matched to MSD songs); only the
tracks it lists (and that have an FMA genre) are used. Without ``--tags``,
the tags are the FMA genres of each track with their parent genres
(``target="genres_all"``), the 50 most frequent of them.

Run on a download: ``python report_003_crnn_tagging.py --root ~/fma
--subset small --tags msd_top50_tags.csv --device cuda``; ``--epochs``,
``--clips-per-genre`` and ``--batch-size`` shrink a run (see
:doc:`/reproducing`), and with ``--checkpoint DIR`` the net and its history
are saved there after every epoch, and a run given the folder of a crashed
one resumes after its last saved epoch. Without
``--root``, a smoke run tags a few synthetic clips (8 kHz, 32 mel bands, a
narrower net with a higher learning rate, 8 epochs over chunks of 12 clips)
with their FMA genres by the same code: the smoke numbers say nothing about
the report's.
"""

# %%
import hashlib
import os
import pickle
import sys

import numpy as np
import pandas as pd
import torch
from _reports_common import (
    RunClock,
    beside_published,
    load_clips,
    n_parameters,
    net_options,
    parse_args,
    save_clip_counts,
    save_report,
    smoke_root,
    take_clips,
)
from sklearn.metrics import roc_auc_score

from skfma import AudioLoader, MelSpectrogram
from skfma.evaluation import evaluate_tagger, training_history
from skfma.models import ChoiCRNN, predict_tags
from skfma.nn import ChoiCRNNModule
from skfma.pipeline import make_audio_features


def report_options(parser):
    """Report 003's own options."""
    parser.add_argument("--tags", help="CSV of tags: track_id, then one 0/1 column per tag")
    parser.add_argument(
        "--chunk-size", type=int, help="songs per partial_fit call (default 1000; smoke: 12)"
    )


args = parse_args(
    "003", "Report 003: Choi's CRNN tagger, trained on chunks.", add_arguments=report_options
)

# %%
# The settings: the report's for a download, tiny ones for the smoke run.
if args.smoke:
    root = smoke_root(duration=3.0)
    sr, duration, n_fft, hop_length, n_mels = 8000, 3.0, 256, 128, 32
    net_settings = {"module__filters": (8, 16, 16, 16), "lr": 5e-3}
    chunk_size, epochs, largest_batch = args.chunk_size or 12, args.epochs or 8, 8
else:
    root = args.root
    sr, duration, n_fft, hop_length, n_mels = 12000, 29.12, 512, 256, 96
    net_settings = {}
    chunk_size, epochs, largest_batch = args.chunk_size or 1000, args.epochs or 10, 32


def load_split(split):
    """A split's clips (the Bunch) and its tag matrix (a DataFrame indexed by track id)."""
    top = 50 if args.tags is None else None  # the 50 most frequent genres as tags
    fma = load_clips(root, args, split=split, target="genres_all", n_top_genres=top)
    if args.tags is None:
        return fma, pd.DataFrame(fma.target, index=fma.track_ids, columns=fma.target_names)
    tags = pd.read_csv(args.tags, index_col="track_id")
    listed = np.isin(fma.track_ids, tags.index)
    fma = take_clips(fma, listed)
    return fma, tags.loc[fma.track_ids].astype(np.uint8)


# %%
# The log-mels, computed once per split. Choi's code takes the log of the
# *squared* mel power over 80 dB: twice ``MelSpectrogram(top_db=40)``. The
# factor 2 is left out: the input batch normalisation divides it away.
# With ``memory``, each clip is cached (an interrupted run resumes) and the
# spectrograms come back as a memory-mapped file, read a chunk at a time.
features = make_audio_features(
    AudioLoader(sr=sr, duration=duration),
    MelSpectrogram(sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, top_db=40),
    n_jobs=args.n_jobs,
    memory=args.out / "cache",
)
data, clips = {}, []
for split in ("training", "validation", "test"):
    fma, tags = load_split(split)
    clips.append(fma)
    data[split] = features.fit_transform(fma.filenames), tags
    print(f"{split}: {len(tags)} clips, spectrograms of {data[split][0].shape[1:]}")
save_clip_counts(args, *clips)
(X_train, Y_train), (X_valid, Y_valid), (X_test, Y_test) = data.values()
print(f"{Y_train.shape[1]} tags; share of the training clips carrying each:")
print(Y_train.mean().round(3).to_string())

# %%
# The batch size: activations dominate a training batch's memory, about
# 390 MiB per clip of 96 x 1,366 log-mels in float32 and 190 MiB in bfloat16
# (peak resident memory of a training epoch on a CPU, whose heap keeps freed
# memory for the next batch; half that on a GPU: see
# :class:`~skfma.models.ChoiCRNN`), in proportion to a clip's size. The
# report's 32 is halved until a batch fits the memory available, beside a
# chunk of spectrograms, the validation or test spectrograms (predicted at
# once) and 1 GiB for the rest.
MIB_PER_CLIP = {"float32": 390, "bfloat16": 190, "float16": 390}


def available_memory():
    """Bytes free for new allocations: the GPU's, or ``MemAvailable`` of the system."""
    if torch.device(args.device).type == "cuda":
        return torch.cuda.mem_get_info(args.device)[0]
    try:
        with open("/proc/meminfo") as meminfo:
            fields = dict(line.split(":", 1) for line in meminfo)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError):
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


clip_bytes = X_train[0].nbytes
per_clip = MIB_PER_CLIP[args.precision] * 2**20 * X_train[0].size / (96 * 1366)
held = (min(chunk_size, len(X_train)) + max(len(X_valid), len(X_test))) * clip_bytes + 2**30
free = available_memory()
saved = None if args.checkpoint is None else args.checkpoint / "crnn_tagger.pkl"
state = None
if saved is not None and saved.exists():
    with open(saved, "rb") as file:
        state = pickle.load(file)  # a file this script wrote: load only your own
batch_size = args.batch_size or largest_batch
if args.batch_size is None and state is not None:
    batch_size = state["run"]["batch_size"]  # the saved run's choice: the memory free may differ
elif args.batch_size is None:
    while batch_size > 2 and batch_size * per_clip > free - held:
        batch_size //= 2
print(
    f"batch size {batch_size}: about {batch_size * per_clip / 2**30:.1f} GiB a training batch "
    f"({per_clip / 2**20:.0f} MiB a clip, {args.precision}), "
    f"{free / 2**30:.1f} GiB available"
)

# %%
# Training: each epoch, one ``partial_fit`` call per chunk of songs, each
# call one pass over its chunk (each call continues torch's generator, so
# chunks draw new shuffles and dropout masks). After each epoch, the
# validation clips' loss (binary cross-entropy) and macro ROC-AUC. Each
# chunk's epoch table shows its clips per second and the time the run has
# left. With ``--checkpoint``, the net and the history are saved after every
# epoch; a run given the same folder continues after the last saved epoch.
order = np.random.default_rng(0).permutation(len(Y_train))
chunks = np.array_split(order, -(-len(order) // chunk_size))  # at most chunk_size songs each
# What the saved net was trained on and with: a rerun with any of them changed is another run.
run = {
    "tracks": list(Y_train.index),
    "tags": list(Y_train.columns),
    "tag_values": hashlib.blake2b(Y_train.to_numpy().tobytes()).hexdigest(),
    "chunk_size": chunk_size,
    "batch_size": batch_size,
    "precision": args.precision,
    "device": args.device,
}
# The restored net's history holds the epochs of its earlier partial_fit calls: the clock
# counts them as resumed at its first epoch here.
clock = RunClock({"CRNN": epochs * len(chunks)}, unit="chunk passes")
if state is not None:
    if state["run"] != run:
        differ = [key for key in run if state["run"].get(key) != run[key]]
        sys.exit(
            f"{saved} holds another run (its {', '.join(differ)} differ): give another folder."
        )
    net, history = state["net"], state["history"]
    print(f"resuming after epoch {len(history)} from {saved}")
else:
    history = []
    net = ChoiCRNN(
        module__gru_dropout=0.3,
        module__input_norm="time",
        max_epochs=1,
        batch_size=batch_size,
        random_state=0,
        # Each partial_fit call is one epoch: the time its call has left is always 0.
        callbacks__print_log__keys_ignored=["time_left"],
        **net_settings,
        **net_options(args, clock, "CRNN", checkpoint=False),
    )
for epoch in range(len(history) + 1, epochs + 1):
    losses = []
    for rows in chunks:
        rows = np.sort(rows)  # in file order: a memory map reads faster
        net.partial_fit(X_train[rows], Y_train.iloc[rows])
        losses.append(net.history_[-1, "train_loss"] * len(rows))
    proba = net.predict_proba(X_valid).clip(1e-7, 1 - 1e-7)
    truth = Y_valid.to_numpy()
    scored = truth.min(axis=0) < truth.max(axis=0)  # tags with positive and negative clips
    history.append(
        {
            "epoch": epoch,
            "train_loss": sum(losses) / len(Y_train),
            "valid_loss": -np.mean(truth * np.log(proba) + (1 - truth) * np.log1p(-proba)),
            "valid_roc_auc": roc_auc_score(truth[:, scored], proba[:, scored])
            if scored.any()
            else np.nan,
        }
    )
    print(
        "epoch {epoch}: train loss {train_loss:.4f}, valid loss {valid_loss:.4f}, "
        "valid ROC-AUC {valid_roc_auc:.3f}".format(**history[-1])
    )
    if saved is not None:
        saved.parent.mkdir(parents=True, exist_ok=True)
        with open(saved.with_suffix(".tmp"), "wb") as file:
            pickle.dump({"run": run, "net": net, "history": history}, file)
        os.replace(saved.with_suffix(".tmp"), saved)  # a crash while saving keeps the last
training_history(history).to_csv(args.out / "crnn_history.csv")

# %%
# The test report: ROC-AUC and PR-AUC of each tag, macro and micro averages
# (a tag that no test clip carries, or every one does, has none).
report = evaluate_tagger(net, X_test, Y_test)
save_report(report, args.out, "crnn", history=history)
print(report.summary.to_string())

# %%
# Each test clip's top 10 tags, scored by probability over training prior,
# beside whether the clip carries the tag.
top_tags = predict_tags(net, X_test, top_k=10)
table = pd.DataFrame(
    [
        (track_id, rank, tag, score, Y_test.loc[track_id, tag])
        for track_id, tags in zip(Y_test.index, top_tags, strict=True)
        for rank, (tag, score) in enumerate(tags, start=1)
    ],
    columns=["track_id", "rank", "tag", "score", "carried"],
)
table.to_csv(args.out / "crnn_top_tags.csv", index=False)
lines = ["| track | top tags (probability / prior) | true tags |", "|---|---|---|"]
for track_id, tags in list(zip(Y_test.index, top_tags, strict=True))[:10]:
    predicted = ", ".join(f"{tag} ({score:.2f})" for tag, score in tags)
    true = ", ".join(map(str, Y_test.columns[Y_test.loc[track_id] == 1]))
    lines.append(f"| {track_id} | {predicted} | {true} |")
(args.out / "crnn_top_tags.md").write_text(
    "## Top 10 tags, first test clips\n\n" + "\n".join(lines)
)
print("\n".join(lines[:7]))

# %%
# The report's figures beside this run's: the net's size for the reference
# input (96 mel bands x 1,366 frames, 50 tags, the paper's input batch
# normalisation per mel band), which Choi et al. give as 0.4 M, and this
# run's net; the report's test ROC-AUC (macro, after 8 epochs on about
# 170,000 songs of the Million Song Dataset and their top-50 Last.fm tags):
# comparable only with ``--tags`` of those tags.
reference = ChoiCRNNModule(input_shape=(1, 96, 1366), n_classes=50)
beside_published(
    {
        "parameters, 96 x 1366 input, 50 tags": n_parameters(reference),
        "parameters, this run's net": n_parameters(net.module_),
        "test ROC-AUC, macro": report.summary["roc_auc_macro"],
        "test ROC-AUC, micro": report.summary["roc_auc_micro"],
        "test PR-AUC, macro": report.summary["pr_auc_macro"],
    },
    {"parameters, 96 x 1366 input, 50 tags": 400_000, "test ROC-AUC, macro": 0.855},
    args,
)
