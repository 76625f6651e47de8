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
under ``--out``, and torchvision's ImageNet weights are downloaded once into
the torch cache. Without ``--root``, a smoke run does the same on a few
synthetic clips, with 32 x 32 log-mels, nets of a few filters, 3 epochs and
a ResNet18 with random weights (none can be downloaded there): the smoke
numbers say nothing about the report's.
"""

# %%
import itertools

import pandas as pd
from _reports_common import (
    beside_published,
    n_parameters,
    parse_args,
    save_report,
    save_table,
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
from skfma.datasets import load_fma
from skfma.evaluation import evaluate_classifier
from skfma.features import Resize, SpectrogramScaler
from skfma.model_selection import HyperbandSearchCV
from skfma.models import DNNClassifier, KostrzewaCNN
from skfma.nn import DNNModule, KostrzewaCNNModule, SpecAugment
from skfma.pipeline import make_audio_features
from skfma.transfer import CUT_LAYERS, PretrainedCNNFeatures

args = parse_args("001", "Report 001: features MLP, log-mel CNN with Hyperband, transfer.")

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
    cut_layers, weights = {"resnet18": ["avg_pool"]}, None  # random weights, offline
    write_features_csv(root, duration=duration, n_jobs=args.n_jobs)
else:
    root, cache = args.root, args.out / "cache"
    duration, n_mels, image_shape = 29.7, 128, (128, 128)
    masks = {}  # SpecAugment's default widths: 27 bins, 100 frames
    widths = (32, 64, 128, 256)
    mlp_epochs, cnn_epochs, cnn_batch_size = 100, 30, 32
    cut_layers = {backbone: list(CUT_LAYERS[backbone]) for backbone in ("vgg16", "resnet50")}
    weights = "imagenet"


results = {}


def record(name, report, n_train):
    """This run's figures for one experiment, for the results table."""
    results[name] = {
        "train + validation clips": int(n_train),
        "test clips": int(report.summary["n_clips"]),
        "test accuracy": report.summary["accuracy"],
        "top-3 accuracy": report.summary["top_3_accuracy"],
        "f1 macro": report.summary["f1_macro"],
    }


# %%
# Table 1's features MLP: (512, 256) units without batch normalisation
# (skfma's leaky ReLUs and dropout 0.2 otherwise), trained on the training
# split, the validation split giving the learning curves. ``features.csv`` is
# read once, for every split.
fma = load_fma(root, subset=args.subset, features=True)
is_test = fma.split == "test"
net = DNNClassifier(
    module__hidden_layer_sizes=(512, 256),
    module__batch_norm=False,
    max_epochs=mlp_epochs,
    train_split=ValidSplit(validation_fold(fma.split[~is_test])),
    device=args.device,
    random_state=0,
)
mlp = make_pipeline(StandardScaler(), net).fit(fma.features[~is_test], fma.target[~is_test])
report = evaluate_classifier(mlp, fma.features[is_test], fma.target[is_test], zero_division=0)
save_report(report, args.out, "features_mlp", net=net)
record("features MLP", report, (~is_test).sum())

# %%
# The log-mels. The clips shorter than ``duration`` are dropped; each clip's
# log-mel (128 x 1280 for 29.7 s) is computed once, clip by clip, and cached
# on disk (``memory=``, a memory-mapped file): the CNN and the transfer
# features both start from it.
train = load_fma(root, subset=args.subset, split=["training", "validation"], min_duration=duration)
test = load_fma(root, subset=args.subset, split="test", min_duration=duration)
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
        device=args.device,
        random_state=0,
    ),
)

# %%
# Hyperband (``reduction_factor=3``): random configurations, trained epoch
# chunk by epoch chunk, the best third of each rung going on, up to
# ``max_epochs``; one Hyperband iteration's worth of trials (49 for 30
# epochs). The filters are searched layer by layer among powers of two.
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
    cv=validation_fold(train.split),
    refit=False,
    random_state=0,
).fit(X_train, train.target)
trials = pd.DataFrame(hyperband.cv_results_).sort_values("rank_test_score")
trials.to_csv(args.out / "log_mel_cnn_hyperband.csv", index=False)
print(f"{len(trials)} trials, {hyperband.n_epochs_total_} epochs; best: {hyperband.best_params_}")

# %%
# The best configuration, trained on the training split with the validation
# split for its learning curves, evaluated on the test split.
best = clone(cnn).set_params(
    **hyperband.best_params_,
    kostrzewacnn__train_split=ValidSplit(validation_fold(train.split)),
)
best.fit(X_train, train.target)
report = evaluate_classifier(best, X_test, test.target, zero_division=0)
save_report(report, args.out, "log_mel_cnn", net=best[-1])
record("log-mel CNN (Hyperband)", report, len(train.target))

# %%
# Transfer features: each cut layer of an ImageNet CNN turns the log-mels
# into features once (the extractor learns nothing); then standardisation,
# PCA keeping 99%, 95% or 90% of the variance, and an SVM (C, gamma) or an
# MLP, tuned with ``GridSearchCV`` on the validation split. The best cut
# layer's best configuration is evaluated on the test split.
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
        extractor = PretrainedCNNFeatures(
            backbone=backbone, layer=layer, weights=weights, device=args.device, random_state=0
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
grid_results = pd.concat(tables).sort_values("validation accuracy", ascending=False)
grid_results.to_csv(args.out / "transfer_grid.csv", index=False)
print(grid_results.head(10).to_string(index=False))
best_layer = max(searches, key=lambda name: searches[name][0].best_score_)
search, F_test = searches[best_layer]
print(f"best cut layer: {best_layer}, {search.best_params_}")
report = evaluate_classifier(search, F_test, test.target, zero_division=0)
save_report(report, args.out, "transfer_pca", net=None)
record(f"transfer ({best_layer}) + PCA + SVM/MLP", report, len(train.target))

# %%
# This run's results, and the report's figures beside this run's: the nets'
# sizes with the 8 genres of fma_small (the report's accuracies are not held
# here: add them to ``published`` to compare).
summary = pd.DataFrame.from_dict(results, orient="index").rename_axis("experiment")
save_table(summary, args.out, "results", title="Test results of each experiment")


mlp_module = DNNModule(
    input_shape=(518,), n_classes=8, hidden_layer_sizes=(512, 256), batch_norm=False
)
beside_published(
    {
        "features MLP parameters, 8 classes": n_parameters(mlp_module),
        "Kostrzewa CNN parameters, 128 x 128, 8 classes": n_parameters(
            KostrzewaCNNModule(input_shape=(1, 128, 128), n_classes=8)
        ),
    },
    {
        "features MLP parameters, 8 classes": 399_112,
        "Kostrzewa CNN parameters, 128 x 128, 8 classes": 735_944,
    },
    args,
)
