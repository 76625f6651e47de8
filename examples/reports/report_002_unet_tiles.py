"""
Report 002: the U-Net encoder on tiles, tuned by Bayesian optimisation
======================================================================

The encoder half of U-Net (four double-convolution blocks) as a genre
classifier on 128-band log-mels of 30 s cut into three tiles of 128 x 128,
standardised with the training set's mean and standard deviation and trained
with a one-cycle learning-rate schedule. The report tuned the batch size, the
learning rate and the scheduler with 30 trials of Bayesian optimisation, and
counted its accuracy over the 2,400 test tiles of fma_small (800 clips x 3) as
well as over the clips (a clip's prediction averages its tiles'
probabilities).

The search (Optuna's TPE) fits on the FMA training split and scores on its
validation split (a ``PredefinedSplit``); the best configuration is then
trained on the training split, with the validation split for its learning
curves, and evaluated on the test split, clip by clip and tile by tile.

Run on a download: ``python report_002_unet_tiles.py --root ~/fma --subset
small --device cuda``; the log-mels are computed once and cached under
``--out``. ``--epochs``, ``--trials``, ``--clips-per-genre`` and
``--batch-size`` (which fixes the batch size instead of searching it) shrink
a run (see :doc:`/reproducing`). Without ``--root``, a smoke run does the same on a few synthetic
clips, with tiles of 32 x 32, a net of a few filters, 6 epochs and 4 trials:
the smoke numbers say nothing about the report's.
"""

# %%
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
from matplotlib.ticker import MaxNLocator, NullFormatter
from scipy.stats import loguniform
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from skorch.dataset import ValidSplit

from skfma import AudioLoader, MelSpectrogram
from skfma.evaluation import evaluate_classifier
from skfma.features import SpectrogramScaler
from skfma.model_selection import BayesianSearchCV
from skfma.models import OneCycleSchedule, UNetEncoderCNN
from skfma.pipeline import make_audio_features

args = parse_args(
    "002", "Report 002: the U-Net encoder on tiles, Bayesian optimisation.", search=True
)

# %%
# The data and the scale: 30 s give 1,292 frames of 128 mel bands, from which
# three tiles of 128 frames are spread evenly (the first starts at the first
# frame, the last ends at the last).
if args.smoke:
    root = smoke_root(duration=3.0)
    cache = root / "cache"
    duration, n_mels, tile = 3.0, 32, 32
    filters = (4, 8, 16, 32)
    max_epochs, n_trials, n_startup_trials = 6, 4, 2
else:
    root, cache = args.root, args.out / "cache"
    duration, n_mels, tile = 30.0, 128, 128
    filters = (64, 128, 256, 512)
    max_epochs, n_trials, n_startup_trials = 30, 30, 10
max_epochs, n_trials = args.epochs or max_epochs, args.trials or n_trials
n_startup_trials = min(n_startup_trials, n_trials)

train = load_clips(root, args, split=["training", "validation"])
test = load_clips(root, args, split="test")
save_clip_counts(args, train, test)
validation = validation_fold(train.split)

# %%
# The log-mels, computed once, clip by clip, and cached on disk
# (``memory=``, a memory-mapped file): every trial reads them.
log_mels = make_audio_features(
    AudioLoader(sr=22050, duration=duration),
    MelSpectrogram(n_mels=n_mels),
    n_jobs=args.n_jobs,
    memory=cache,
)
X_train = log_mels.fit_transform(train.filenames)
X_test = log_mels.transform(test.filenames)
print("log-mels:", X_train.shape, X_test.shape)

# %%
# The net: standardisation (one mean and one standard deviation over every
# value of the training log-mels), then the U-Net encoder on three tiles per
# clip; its ``one_cycle`` callback (:class:`~skfma.models.OneCycleSchedule`)
# takes the net's ``lr`` as the peak of the cycle. The epoch tables show each
# epoch's clips per second, the time left for the fit and for the whole run
# (every trial's epochs, then the best configuration's).
clock = RunClock({"search": n_trials * max_epochs, "best": max_epochs}, like={"best": "search"})
model = make_pipeline(
    SpectrogramScaler(),
    UNetEncoderCNN(
        segment_length=tile,
        n_segments=3,
        module__filters=filters,
        max_epochs=max_epochs,
        random_state=0,
        **net_options(args, clock, "search", checkpoint=False),
    ),
)

# %%
# Bayesian optimisation (TPE, after ``n_startup_trials`` random ones) of the
# batch size, the (peak) learning rate and the scheduler: the one-cycle
# schedule, or none (a constant learning rate). The report's own lists of
# batch sizes and schedulers are not held here. Each trial trains in full.
space = {
    "unetencodercnn__batch_size": [args.batch_size] if args.batch_size else [16, 32, 42, 64],
    "unetencodercnn__lr": loguniform(1e-4, 1e-2),
    "unetencodercnn__callbacks__one_cycle": [OneCycleSchedule(), None],
}
search = BayesianSearchCV(
    model,
    space,
    n_trials=n_trials,
    n_startup_trials=n_startup_trials,
    cv=validation,
    refit=False,
    random_state=0,
    checkpoint=None if args.checkpoint is None else args.checkpoint / "search",
).fit(X_train, train.target)


def scheduler(value):
    """A scheduler choice by name (Optuna records a callback by its ``repr``)."""
    return "none" if value is None or value == "None" else "one-cycle"


SCHEDULER = "unetencodercnn__callbacks__one_cycle"
trials = pd.DataFrame(search.cv_results_)
trials["params"] = [{**p, SCHEDULER: scheduler(p[SCHEDULER])} for p in trials["params"]]
trials[f"param_{SCHEDULER}"] = [p[SCHEDULER] for p in trials["params"]]
trials.to_csv(args.out / "bayesian_search.csv", index=False)
study = search.study_.trials_dataframe(attrs=("number", "value", "duration", "params", "state"))
study[f"params_{SCHEDULER}"] = study[f"params_{SCHEDULER}"].map(scheduler)
study.to_csv(args.out / "optuna_trials.csv", index=False)
best_params = {**search.best_params_, SCHEDULER: scheduler(search.best_params_[SCHEDULER])}
print(f"best of {len(trials)} trials ({search.best_score_:.3f}): {best_params}")

# %%
# The trials: validation accuracy in the order they ran, and against the
# learning rate, with and without the one-cycle schedule.
one_cycle = (trials[f"param_{SCHEDULER}"] == "one-cycle").to_numpy()
fig, (history, rates) = plt.subplots(1, 2, figsize=(10, 3.5))
for mask, label in ((one_cycle, "one-cycle"), (~one_cycle, "constant")):
    history.plot(np.flatnonzero(mask), trials["mean_test_score"][mask], "o", label=f"{label} lr")
    rates.semilogx(
        trials["param_unetencodercnn__lr"][mask].astype(float),
        trials["mean_test_score"][mask],
        "o",
        label=f"{label} lr",
    )
best_so_far = np.maximum.accumulate(trials["mean_test_score"].fillna(0))
history.plot(best_so_far, "k-", drawstyle="steps-post", label="best so far")
history.set(xlabel="trial", ylabel="validation accuracy", title="Bayesian optimisation")
history.xaxis.set_major_locator(MaxNLocator(integer=True))
rates.set(xlabel="peak learning rate", ylabel="validation accuracy")
rates.xaxis.set_minor_formatter(NullFormatter())
history.legend()
rates.legend()
fig.tight_layout()
fig.savefig(args.out / "bayesian_search.png", dpi=100)
plt.show()

# %%
# The best configuration, trained on the training split with the validation
# split for its learning curves, evaluated on the test split: clips (their
# tiles' mean probabilities) and tiles (each with its clip's label).
best_options = net_options(args, clock, "best")
best = clone(model).set_params(
    **search.best_params_,
    **{f"unetencodercnn__{name}": value for name, value in best_options.items()},
    unetencodercnn__train_split=ValidSplit(validation),
)
best.fit(X_train, train.target)
report = evaluate_classifier(best, X_test, test.target, zero_division=0)
save_report(report, args.out, "unet_tiles", history=best[-1].history_)
net, tiles_test = best[-1], best[:-1].transform(X_test)
n_tiles = net.predict_segments(tiles_test).size
results = pd.Series(
    {
        "train + validation clips": len(train.target),
        "test clips": len(test.target),
        "test tiles": n_tiles,
        "clip accuracy": report.summary["accuracy"],
        "tile accuracy": net.score_segments(tiles_test, test.target),
        "top-3 clip accuracy": report.summary["top_3_accuracy"],
        "parameters": n_parameters(net.module_),
    },
    name="this run",
    dtype=object,
)
save_table(results.rename_axis("figure").to_frame(), args.out, "results", title="Results")

# %%
# The report's figures beside this run's: its count of test tiles (fma_small's
# 800 test clips x 3) and of trials, its best validation accuracy, the test
# accuracy of its best configuration over the test tiles, and the accuracy of
# four genres (the fraction of their test clips predicted right, the recall);
# it gives no parameter count. A genre this run has no test clip of is NaN.
GENRES = {"Hip-Hop": 0.807, "Electronic": 0.643, "Experimental": 0.233, "Pop": 0.130}
recall = report.per_class["recall"]
beside_published(
    {
        "test tiles": n_tiles,
        "tiles per clip": n_tiles / len(test.target),
        "Bayesian-optimisation trials": len(trials),
        "best validation accuracy": search.best_score_,
        "test accuracy, tiles": results["tile accuracy"],
        **{f"test accuracy, {genre}": recall.get(genre) for genre in GENRES},
    },
    {
        "test tiles": 2400,
        "tiles per clip": 3,
        "Bayesian-optimisation trials": 30,
        "best validation accuracy": 0.489,
        "test accuracy, tiles": 0.4271,
        **{f"test accuracy, {genre}": accuracy for genre, accuracy in GENRES.items()},
    },
    args,
)
