"""
Transfer features: cut layer x PCA variance x classifier
========================================================

The best fma_small results of the transfer-learning papers came from ImageNet CNNs used as
frozen feature extractors on spectrogram images: VGG16 cut at ``fc1``, ``fc2`` or
``block5_pool`` and ResNet50 at ``avg_pool`` or ``conv5_block1_2_relu``, each feature vector
standardised, reduced by PCA and classified by an SVM. This example runs their grid, cut layer
x PCA variance (0.99, 0.95, 0.90) x classifier (linear SVM, RBF SVM, MLP), with one
``GridSearchCV`` on synthetic clips.

**Weights.** The networks take torchvision's ImageNet weights, downloaded once into the torch
cache. Where they cannot be had (no internet access, as on the machines that build these
docs), the example says so and falls back to *random* weights: the pipeline and the grid are
the same, but the scores say nothing about what ImageNet features achieve on real music.

**Cost.** Extraction (a CNN forward pass per clip) dominates. ``PretrainedCNNFeatures`` learns
nothing from the data, so it runs inside :class:`~skfma.AudioFeatures`, whose per-clip cache
(``memory=``) keys each clip's features by the file and the steps' parameters: 45 grid points
x 3 folds compute each clip's features once per cut layer, five times in all, not once per
grid point and fold.
"""

import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skfma import AudioFeatures, AudioLoader, MelSpectrogram, PretrainedCNNFeatures
from skfma.datasets import make_genre_clips

paths, genres = make_genre_clips(32, n_genres=4, duration=3.0, directory=tempfile.mkdtemp())
X_train, X_test, y_train, y_test = train_test_split(
    paths, genres, test_size=0.25, stratify=genres, random_state=0
)

# %%
# ImageNet weights if torchvision can get them, random ones otherwise.
try:
    PretrainedCNNFeatures(backbone="resnet50").fit(np.zeros((1, 128, 128), np.float32))
    PretrainedCNNFeatures(backbone="vgg16").fit(np.zeros((1, 128, 128), np.float32))
    weights = "imagenet"
except OSError as error:
    print(f"No ImageNet weights ({error}).\nUsing RANDOM weights: the scores below are no guide.")
    weights = None

CUT_LAYERS = {
    "vgg16": ["fc1", "fc2", "block5_pool"],
    "resnet50": ["avg_pool", "conv5_block1_2_relu"],
}
CLASSIFIERS = {
    "linear SVM": SVC(kernel="linear"),
    "RBF SVM": SVC(kernel="rbf", C=10.0),
    "MLP": MLPClassifier(hidden_layer_sizes=(256,), max_iter=2000, random_state=0),
}

# %%
# The papers' pipeline, files in: cut-layer features (decoded, log-mel, CNN, clip by clip, and
# cached per clip) -> standardisation -> PCA -> classifier.
features = AudioFeatures(
    [
        ("load", AudioLoader(sr=22050, duration=3.0)),
        ("mel", MelSpectrogram(n_mels=128)),
        ("cnn", PretrainedCNNFeatures(weights=weights, random_state=0)),
    ],
    memory=tempfile.mkdtemp(),
)
pipeline = Pipeline(
    [("features", features), ("scale", StandardScaler()), ("pca", PCA()), ("clf", SVC())]
)
grid = [
    {
        "features__cnn__backbone": [backbone],
        "features__cnn__layer": layers,
        "pca__n_components": [0.99, 0.95, 0.90],
        "clf": list(CLASSIFIERS.values()),
    }
    for backbone, layers in CUT_LAYERS.items()
]
search = GridSearchCV(pipeline, grid, cv=3).fit(X_train, y_train)

# %%
# Mean cross-validated accuracy of every grid point, and the best one on held-out clips.
results = pd.DataFrame(
    {
        "cut layer": [
            f"{p['features__cnn__backbone']} {p['features__cnn__layer']}"
            for p in search.cv_results_["params"]
        ],
        "PCA variance": search.cv_results_["param_pca__n_components"].astype(float),
        "classifier": [
            next(name for name, clf in CLASSIFIERS.items() if clf is p["clf"])
            for p in search.cv_results_["params"]
        ],
        "accuracy": search.cv_results_["mean_test_score"],
    }
)
table = results.pivot_table(
    index="cut layer", columns=["classifier", "PCA variance"], values="accuracy"
)
print(table.round(2).to_string())
print("best:", results.iloc[search.best_index_].to_dict())
print(f"held-out accuracy of the best: {search.score(X_test, y_test):.3f}")

fig, ax = plt.subplots(figsize=(9, 3.5))
image = ax.imshow(table.to_numpy(), vmin=0, vmax=1, cmap="viridis")
ax.set_xticks(range(table.shape[1]), [f"{c}\n{v:.2f}" for c, v in table.columns], fontsize=7)
ax.set_yticks(range(table.shape[0]), table.index)
ax.set_title(f"mean CV accuracy ({'ImageNet' if weights else 'random'} weights)")
fig.colorbar(image, ax=ax)
fig.tight_layout()
plt.show()
