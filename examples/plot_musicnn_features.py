"""
Pretrained musicnn embeddings against the FMA's handcrafted features
====================================================================

``MusicnnFeatures`` turns waveforms into the activations of the musicnn taggers (Pons and
Serra, 2019), networks trained to tag music on MagnaTagATune (``MTT_*``) and the Million Song
Dataset (``MSD_*``). Their weights ship with skfma, so this runs offline. The extractor is a
stateless transformer: ``GridSearchCV`` can choose the model and the layer like any other
parameter. The musicnn models and the vgg baselines have different layers, so the grid is a
list of two grids.

We compare, by 3-fold cross-validated accuracy on synthetic genre clips:

- ``MusicnnFeatures`` (model x layer) -> ``StandardScaler`` -> ``LogisticRegression``;
- ``FMAFeatures`` (the 518 handcrafted features of the FMA dataset) -> the same;
- both concatenated with ``FeatureUnion``.

The clips are 3 s long at 16 kHz, the rate of the musicnn models (at another rate,
``MusicnnFeatures(sr=...)`` resamples). Each clip is one musicnn window; a 30 s clip would
give ten, pooled by their mean. On synthetic tones the scores only show that the pipelines
work; on real music (e.g. ``load_fma(..., subset="small")``) the pretrained embeddings are
the interesting part.
"""

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import StandardScaler

from skfma import FMAFeatures, MusicnnFeatures
from skfma.datasets import make_genre_clips

X, genres = make_genre_clips(18, n_genres=6, duration=3.0, sr=16000, random_state=0)
cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
classifier = LogisticRegression(C=0.1, max_iter=2000)

# %%
# The musicnn grid: two musicnn models x two layers, and a vgg baseline's ``pool5``.
musicnn = make_pipeline(MusicnnFeatures(), StandardScaler(), classifier)
grid = [
    {
        "musicnnfeatures__model": ["MSD_musicnn", "MTT_musicnn"],
        "musicnnfeatures__layer": ["penultimate", "taggram"],
    },
    {"musicnnfeatures__model": ["MSD_vgg"], "musicnnfeatures__layer": ["pool5"]},
]
musicnn_search = GridSearchCV(musicnn, grid, cv=cv, n_jobs=2).fit(X, genres)
results = pd.DataFrame(musicnn_search.cv_results_["params"]).rename(
    columns=lambda name: name.split("__")[1]
)
results["accuracy"] = musicnn_search.cv_results_["mean_test_score"]
print(results.round(3).to_string(index=False))
best = musicnn_search.best_params_
print("best musicnn features:", best)

# %%
# The FMA's handcrafted features, and both together (the best musicnn layer found above).
fma = make_pipeline(FMAFeatures(sr=16000), StandardScaler(), classifier)
best_musicnn = MusicnnFeatures(
    model=best["musicnnfeatures__model"], layer=best["musicnnfeatures__layer"]
)
both = make_pipeline(
    FeatureUnion([("musicnn", best_musicnn), ("fma", FMAFeatures(sr=16000))]),
    StandardScaler(),
    classifier,
)
scores = {
    "musicnn (best of the grid)": musicnn_search.best_score_,
    "FMA features": cross_val_score(fma, X, genres, cv=cv, n_jobs=2).mean(),
    "musicnn + FMA features": cross_val_score(both, X, genres, cv=cv, n_jobs=2).mean(),
}
for name, score in scores.items():
    print(f"{name:28s} {score:.3f}")

fig, ax = plt.subplots(figsize=(6, 2.5))
ax.barh(list(scores), list(scores.values()))
ax.set_xlim(0, 1)
ax.set_xlabel("mean 3-fold CV accuracy")
ax.invert_yaxis()
fig.tight_layout()
plt.show()
