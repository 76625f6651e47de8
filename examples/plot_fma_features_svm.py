"""
The FMA paper's baselines: handcrafted feature groups x classifiers
===================================================================

The FMA paper (Defferrard et al., ISMIR 2017) compares genre classifiers
trained on groups of its 518 handcrafted features: one table, feature groups
down, classifiers across. This example builds that table with one pipeline,
``AudioLoader -> FMAFeatures -> StandardScaler -> classifier``, where the
feature group is a ``GridSearchCV`` parameter like any other, and tunes the
RBF SVM's ``C`` and ``gamma`` along with it.

Synthetic clips stand in for fma_small so that it runs in seconds; with
``skfma.datasets.load_fma`` the same code gives the paper's table, and
``skfma benchmark`` runs the paper's table on the FMA's official split beside
the musicnn embeddings and the reports' nets (:doc:`/benchmark`).
"""

import tempfile

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skfma import AudioLoader, FMAFeatures
from skfma.datasets import make_genre_clips
from skfma.features import fma_feature_index

directory = tempfile.mkdtemp()
paths, genres = make_genre_clips(48, n_genres=4, duration=2.0, directory=directory)
train_paths, test_paths, y_train, y_test = train_test_split(
    paths, genres, test_size=0.25, stratify=genres, random_state=0
)

# %%
# Decode and compute every feature once: the features do not depend on the
# classifier, so the table below works on the 518 columns and selects groups
# from them.
extract = Pipeline([("audio", AudioLoader(sr=22050, duration=2.0)), ("fma", FMAFeatures(sr=22050))])
features_train = pd.DataFrame(
    extract.fit_transform(train_paths), columns=extract["fma"].get_feature_names_out()
)
features_test = pd.DataFrame(extract.transform(test_paths), columns=features_train.columns)

# %%
# The feature groups of the paper's table; each row selects its columns.
GROUPS = {
    "mfcc": ["mfcc"],
    "chroma": ["chroma_cens", "chroma_cqt", "chroma_stft"],
    "tonnetz": ["tonnetz"],
    "spectral": [
        "spectral_bandwidth",
        "spectral_centroid",
        "spectral_contrast",
        "spectral_rolloff",
    ],
    "rmse + zcr": ["rmse", "zcr"],
    "all": None,
}


def columns_of(groups):
    return ["_".join(column) for column in fma_feature_index(groups)]


# %%
# The end-to-end pipeline, as one would deploy it: search over the SVM's C,
# gamma and the feature groups, on the audio files directly. ``memory`` caches
# the decoding and the features, so that they are computed once per fold and
# feature group rather than once per (C, gamma).
pipeline = Pipeline(
    [
        ("audio", AudioLoader(sr=22050, duration=2.0)),
        ("fma", FMAFeatures(sr=22050)),
        ("scale", StandardScaler()),
        ("svc", SVC()),
    ],
    memory=tempfile.mkdtemp(),
)
search = GridSearchCV(
    pipeline,
    {
        "fma__features": [["mfcc"], ["chroma_cens", "chroma_cqt", "chroma_stft"]],
        "svc__C": [1, 10],
        "svc__gamma": ["scale", 0.01],
    },
    cv=3,
)
search.fit(train_paths, y_train)
print("best end-to-end parameters:", search.best_params_)
print(f"end-to-end test accuracy: {search.score(test_paths, y_test):.3f}")

# %%
# The table: feature groups x classifiers, test accuracy, each classifier's
# hyper-parameters tuned by cross-validation on the training clips.
CLASSIFIERS = {
    "LR": (LogisticRegression(max_iter=2000), {"clf__C": [0.1, 1]}),
    "kNN": (KNeighborsClassifier(), {"clf__n_neighbors": [3, 7]}),
    "SVCrbf": (SVC(), {"clf__C": [1, 10], "clf__gamma": ["scale", 0.01]}),
}
table = pd.DataFrame(index=list(GROUPS), columns=list(CLASSIFIERS), dtype=float)
for group, names in GROUPS.items():
    columns = columns_of(names)
    for name, (classifier, grid) in CLASSIFIERS.items():
        model = Pipeline([("scale", StandardScaler()), ("clf", classifier)])
        fitted = GridSearchCV(model, grid, cv=3).fit(features_train[columns], y_train)
        table.loc[group, name] = fitted.score(features_test[columns], y_test)
print(table.round(2))

# %%
# The same table as a figure: test accuracy of each feature group (rows) with
# each classifier (columns).
fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
image = ax.imshow(table.to_numpy(dtype=float), vmin=0, vmax=1, cmap="viridis")
ax.set_xticks(range(len(table.columns)), table.columns)
ax.set_yticks(range(len(table.index)), table.index)
for row, group in enumerate(table.index):
    for column, name in enumerate(table.columns):
        ax.text(column, row, f"{table.loc[group, name]:.2f}", ha="center", va="center", color="w")
fig.colorbar(image, ax=ax, label="test accuracy")
ax.set_title("Feature groups x classifiers")
plt.show()
