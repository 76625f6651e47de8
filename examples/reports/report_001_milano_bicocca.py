"""
Report 001: features MLP, log-mel CNN with SpecAugment and Hyperband, transfer features
=======================================================================================

The three experiments of the Milano-Bicocca report on fma_small:

- the features MLP of its Table 1: the 518 features of ``features.csv``,
  standardised, into (512, 256) units without batch normalisation;
- the CNN of Kostrzewa et al. on 128-band log-mels of 29.7 s (128 x 1280),
  resized to 128 x 128 and standardised, with two SpecAugment copies of every
  training spectrogram masked with zeros, tuned with Hyperband over the kernel
  size (3 to 6), the filters of each layer (32, 64, 128 or 256), the dropout
  (0.2, 0.25, 0.5) and the learning rate (1e-2, 1e-3, 1e-4);
- transfer features: ImageNet CNNs (VGG16, ResNet50) cut at a layer, then
  standardisation, PCA and an SVM or an MLP, tuned with ``GridSearchCV``.

As in the report, the clips shorter than 29.7 s are dropped and the others
cut to 29.7 s. Every search fits on the FMA training split and scores on its
validation split (a ``PredefinedSplit``); the best configuration is then
trained on the training split, with the validation split for its learning
curves, and evaluated on the test split.

Run on a download: ``python report_001_milano_bicocca.py --root ~/fma
--subset small --device cuda``; the log-mels are computed once and cached
under ``--out``. torchvision's ImageNet weights of VGG16 and ResNet50 are
looked for before anything is trained: in ``--weights DIR`` (the files as
torchvision names them, e.g. ``vgg16-397923af.pth``), else in the torch
cache, where they are downloaded if missing; ``--no-transfer`` leaves the
transfer features out. ``--epochs``, ``--trials``, ``--clips-per-genre``
and ``--batch-size`` shrink a run (see :doc:`/reproducing`); the results
table and the published figures are written after each experiment. Without
``--root``, a smoke run does the same on a few synthetic clips, with 32 x 32
log-mels, nets of a few filters, 3 epochs and a ResNet18 with random weights
(none can be downloaded there): the smoke numbers say nothing about the
report's.
"""

# %%
import itertools
import os
import sys
from pathlib import Path

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
    save_table,
    search_epochs,
    smoke_root,
    validation_fold,
    write_features_csv,
)
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from skorch.dataset import ValidSplit

from skfma import AudioLoader, MelSpectrogram
from skfma.evaluation import evaluate_classifier
from skfma.features import Resize, SpectrogramScaler
from skfma.model_selection import HyperbandSearchCV, hyperband_n_trials
from skfma.models import DNNClassifier, KostrzewaCNN
from skfma.nn import DNNModule, KostrzewaCNNModule, SpecAugment
from skfma.pipeline import make_audio_features
from skfma.transfer import CUT_LAYERS, PretrainedCNNFeatures


def report_options(parser):
    """Report 001's own options."""
    parser.add_argument(
        "--no-transfer", action="store_true", help="leave the ImageNet transfer features out"
    )
    parser.add_argument(
        "--weights",
        help="folder holding torchvision's ImageNet weight files (vgg16-397923af.pth, "
        "resnet50-0676ba61.pth); default: the torch cache, downloading what is missing",
    )


args = parse_args(
    "001",
    "Report 001: features MLP, log-mel CNN with Hyperband, transfer.",
    search=True,
    add_arguments=report_options,
)


def imagenet_weights(backbones, folder):
    """The file of each backbone's ImageNet weights, found or downloaded now; else exit.

    Checked before anything is trained, so that a run offline stops at once
    with what to do, instead of after the CNN search.

    Parameters
    ----------
    backbones : iterable of str
        torchvision model names.
    folder : str or None
        Where the files are (``--weights``); None: the torch cache, where a
        missing file is downloaded.

    Returns
    -------
    weights : dict of str to str
        Backbone -> the state dict file, for ``PretrainedCNNFeatures(weights=...)``.
    """
    from torchvision.models import get_model_weights

    cache = Path(torch.hub.get_dir()) / "checkpoints"
    weights = {}
    for backbone in backbones:
        url = get_model_weights(backbone).IMAGENET1K_V1.url
        path = Path(folder or cache).expanduser() / os.path.basename(url)
        if folder is None and not path.exists():
            print(f"downloading {url} into {cache}", flush=True)
            cache.mkdir(parents=True, exist_ok=True)
            try:
                torch.hub.download_url_to_file(url, str(path))
            except OSError as error:
                sys.exit(
                    f"Report 001 needs torchvision's ImageNet weights of {backbone}, and "
                    f"{url} could not be downloaded ({error}). Copy the file into {cache}, "
                    "give a folder holding it with --weights DIR, or leave the transfer "
                    "features out with --no-transfer."
                )
        if not path.exists():
            sys.exit(f"--weights {folder}: there is no {path.name} there (from {url}).")
        weights[backbone] = str(path)
    return weights


# %%
# The data and the scale. The smoke run writes ``features.csv`` the way the
# FMA released it, from skfma's own extraction of the same 518 features.
if args.smoke:
    root = smoke_root(duration=3.0)
    cache = root / "cache"
    duration, n_mels, image_shape = 2.9, 32, (32, 32)
    masks = {"freq_mask": 7, "time_mask": 25}  # SpecAugment's widths, scaled to 32 x 32
    widths = (4, 8)  # filters of each convolution
    mlp_epochs, cnn_epochs, cnn_batch_size = 15, 3, 8
    cut_layers = {"resnet18": ["avg_pool"]}
    weights = {"resnet18": None}  # random weights, offline
    write_features_csv(root, duration=duration, n_jobs=args.n_jobs)
else:
    root, cache = args.root, args.out / "cache"
    duration, n_mels, image_shape = 29.7, 128, (128, 128)
    masks = {}  # SpecAugment's default widths: 27 bins, 100 frames
    widths = (32, 64, 128, 256)
    mlp_epochs, cnn_epochs, cnn_batch_size = 100, 30, 32
    cut_layers = {backbone: list(CUT_LAYERS[backbone]) for backbone in ("vgg16", "resnet50")}
if args.no_transfer:
    cut_layers = {}
if not args.smoke:
    weights = imagenet_weights(cut_layers, args.weights)
mlp_epochs, cnn_epochs = args.epochs or mlp_epochs, args.epochs or cnn_epochs
cnn_batch_size = args.batch_size or cnn_batch_size
n_trials = args.trials or hyperband_n_trials(cnn_epochs)  # one Hyperband iteration's worth

# %%
# The run's clock: the epoch tables show each epoch's clips per second, the
# time left for the fit and for every net of the run (the transfer features
# train no net: their extraction is not counted).
clock = RunClock(
    {
        "features MLP": mlp_epochs,
        "CNN search": search_epochs(n_trials, cnn_epochs),
        "CNN, best": cnn_epochs,
    },
    like={"CNN, best": "CNN search"},
    unlike=["CNN search"],  # a CNN's epochs are not the MLP's
)

# %%
# This run's results and the report's figures beside them, written after each
# experiment, so that a run stopped part-way keeps what it computed. The
# report's test accuracies: its best features MLP (512, 256), its CNN tuned
# with SpecAugment copies, and its best transfer features (ResNet50
# conv5_block1_2_relu, PCA, RBF SVM); the nets' sizes are with the 8 genres of
# fma_small.
results = {}
mlp_module = DNNModule(
    input_shape=(518,), n_classes=8, hidden_layer_sizes=(512, 256), batch_norm=False
)
sizes = {
    "features MLP parameters, 8 classes": n_parameters(mlp_module),
    "Kostrzewa CNN parameters, 128 x 128, 8 classes": n_parameters(
        KostrzewaCNNModule(input_shape=(1, 128, 128), n_classes=8)
    ),
}
PUBLISHED = {
    "features MLP parameters, 8 classes": 399_112,
    "Kostrzewa CNN parameters, 128 x 128, 8 classes": 735_944,
    "features MLP, test accuracy": 0.495,
    "log-mel CNN (Hyperband), test accuracy": 0.3787,
    "transfer features, test accuracy": 0.5012,
}


def record(name, report, n_train):
    """Add one experiment's figures to the results; write the tables so far."""
    results[name] = {
        "train + validation clips": int(n_train),
        "test clips": int(report.summary["n_clips"]),
        "test accuracy": report.summary["accuracy"],
        "top-3 accuracy": report.summary["top_3_accuracy"],
        "f1 macro": report.summary["f1_macro"],
    }
    summary = pd.DataFrame.from_dict(results, orient="index").rename_axis("experiment")
    save_table(summary, args.out, "results", title="Test results of each experiment")
    accuracies = {f"{name}, test accuracy": row["test accuracy"] for name, row in results.items()}
    beside_published(sizes | accuracies, PUBLISHED, args)


# %%
# Table 1's features MLP: (512, 256) units without batch normalisation
# (skfma's leaky ReLUs and dropout 0.2 otherwise), trained on the training
# split, the validation split giving the learning curves. ``features.csv`` is
# read once, for every split.
fma = load_clips(root, args, features=True)
is_test = fma.split == "test"
net = DNNClassifier(
    module__hidden_layer_sizes=(512, 256),
    module__batch_norm=False,
    max_epochs=mlp_epochs,
    batch_size=args.batch_size or 32,
    train_split=ValidSplit(validation_fold(fma.split[~is_test])),
    random_state=0,
    **net_options(args, clock, "features MLP"),
)
mlp = make_pipeline(StandardScaler(), net).fit(fma.features[~is_test], fma.target[~is_test])
report = evaluate_classifier(mlp, fma.features[is_test], fma.target[is_test], zero_division=0)
save_report(report, args.out, "features_mlp", history=net.history_)
record("features MLP", report, (~is_test).sum())

# %%
# The log-mels. The clips shorter than ``duration`` are dropped; each clip's
# log-mel (128 x 1280 for 29.7 s) is computed once, clip by clip, and cached
# on disk (``memory=``, a memory-mapped file): the CNN and the transfer
# features both start from it.
train = load_clips(root, args, split=["training", "validation"], min_duration=duration)
test = load_clips(root, args, split="test", min_duration=duration)
save_clip_counts(args, train, test)
log_mels = make_audio_features(
    AudioLoader(sr=22050, duration=duration),
    MelSpectrogram(n_mels=n_mels),
    n_jobs=args.n_jobs,
    memory=cache,
)
mels_train = log_mels.fit_transform(train.filenames)
mels_test = log_mels.transform(test.filenames)
print("log-mels:", mels_train.shape, mels_test.shape)

# %%
# The CNN of Kostrzewa et al. on the log-mels resized to 128 x 128 (a
# stateless step, done once here rather than in every trial), standardised,
# with two SpecAugment copies of every training image, masked with zeros.
resize = Resize(shape=image_shape)
X_train, X_test = resize.fit_transform(mels_train), resize.transform(mels_test)


cnn = make_pipeline(
    SpectrogramScaler(),
    KostrzewaCNN(
        augment=SpecAugment(fill=0.0, **masks),
        augment_copies=2,
        max_epochs=cnn_epochs,
        batch_size=cnn_batch_size,
        random_state=0,
        **net_options(args, clock, "CNN search", checkpoint=False),
    ),
)

# %%
# Hyperband (``reduction_factor=3``): random configurations, trained epoch
# chunk by epoch chunk, the best third of each rung going on, up to
# ``max_epochs``; one Hyperband iteration's worth of trials (49 for 30
# epochs) unless ``--trials`` says otherwise. The filters are searched layer
# by layer among powers of two.
space = {
    "kostrzewacnn__module__kernel_size": [3, 4, 5, 6],
    "kostrzewacnn__module__filters": list(itertools.product(widths, repeat=4)),
    "kostrzewacnn__module__dropout": [0.2, 0.25, 0.5],
    "kostrzewacnn__lr": [1e-2, 1e-3, 1e-4],
}
hyperband = HyperbandSearchCV(
    cnn,
    space,
    max_epochs=cnn_epochs,
    reduction_factor=3,
    n_trials=n_trials,
    cv=validation_fold(train.split),
    refit=False,
    random_state=0,
    checkpoint=None if args.checkpoint is None else args.checkpoint / "CNN_search",
).fit(X_train, train.target)
trials = pd.DataFrame(hyperband.cv_results_).sort_values("rank_test_score")
trials.to_csv(args.out / "log_mel_cnn_hyperband.csv", index=False)
print(f"{len(trials)} trials, {hyperband.n_epochs_total_} epochs; best: {hyperband.best_params_}")

# %%
# The best configuration, trained on the training split with the validation
# split for its learning curves, evaluated on the test split.
best_options = net_options(args, clock, "CNN, best")
best = clone(cnn).set_params(
    **hyperband.best_params_,
    **{f"kostrzewacnn__{name}": value for name, value in best_options.items()},
    kostrzewacnn__train_split=ValidSplit(validation_fold(train.split)),
)
best.fit(X_train, train.target)
report = evaluate_classifier(best, X_test, test.target, zero_division=0)
save_report(report, args.out, "log_mel_cnn", history=best[-1].history_)
record("log-mel CNN (Hyperband)", report, len(train.target))

# %%
# Transfer features: each cut layer of an ImageNet CNN turns the log-mels
# into features once (the extractor learns nothing); then standardisation,
# PCA keeping 99%, 95% or 90% of the variance, and an SVM (C, gamma) or an
# MLP, tuned with ``GridSearchCV`` on the validation split. The best cut
# layer's best configuration is evaluated on the test split (not with
# ``--no-transfer``).
transfer = Pipeline([("scale", StandardScaler()), ("pca", PCA()), ("clf", SVC())])
variance = [0.99, 0.95, 0.90]
grid = [
    {
        "pca__n_components": variance,
        "clf": [SVC()],
        "clf__C": [1.0, 10.0],
        "clf__gamma": ["scale", 1e-3],
    },
    {
        "pca__n_components": variance,
        "clf": [MLPClassifier(hidden_layer_sizes=(256,), max_iter=500, random_state=0)],
    },
]
searches, tables = {}, []
for backbone, layers in cut_layers.items():
    for layer in layers:
        print(f"transfer features: {backbone} {layer}", flush=True)
        extractor = PretrainedCNNFeatures(
            backbone=backbone,
            layer=layer,
            weights=weights[backbone],
            device=args.device,
            random_state=0,
        )
        F_train, F_test = extractor.fit_transform(mels_train), extractor.transform(mels_test)
        search = GridSearchCV(transfer, grid, cv=validation_fold(train.split))
        searches[f"{backbone} {layer}"] = search.fit(F_train, train.target), F_test
        params = pd.DataFrame(search.cv_results_["params"])
        tables.append(
            pd.DataFrame(
                {
                    "cut layer": f"{backbone} {layer}",
                    "PCA variance": params["pca__n_components"],
                    "classifier": [type(clf).__name__ for clf in params["clf"]],
                    "C": params.get("clf__C"),
                    "gamma": params.get("clf__gamma"),
                    "validation accuracy": search.cv_results_["mean_test_score"],
                }
            )
        )
if searches:
    grid_results = pd.concat(tables).sort_values("validation accuracy", ascending=False)
    grid_results.to_csv(args.out / "transfer_grid.csv", index=False)
    print(grid_results.head(10).to_string(index=False))
    best_layer = max(searches, key=lambda name: searches[name][0].best_score_)
    search, F_test = searches[best_layer]
    print(f"best cut layer: {best_layer}, {search.best_params_}")
    report = evaluate_classifier(search, F_test, test.target, zero_division=0)
    save_report(report, args.out, "transfer_pca", history=None)
    record("transfer features", report, len(train.target))
