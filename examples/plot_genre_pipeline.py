"""
Genre classification from audio files with a grid search
=========================================================

A small synthetic dataset is written in the FMA layout (MP3 files in
``fma_small/NNN/NNNNNN.mp3``, ``fma_metadata/tracks.csv``) and read with
``load_fma``, exactly as the real FMA would be. A pipeline
``AudioLoader -> MelSpectrogram -> TemporalStatistics -> StandardScaler -> SVC``
is tuned with ``GridSearchCV`` over the SVM's ``C`` and the number of mel bands
on the training split, with folds grouped by artist as the FMA splits are, and
evaluated on the held-out validation and test splits.
"""

import tempfile

import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skfma import AudioLoader, MelSpectrogram, TemporalStatistics
from skfma.datasets import load_fma, make_fma_like

root = make_fma_like(tempfile.mkdtemp(), n_clips=64, n_genres=4, duration=3.0)
train = load_fma(root, split="training")
held_out = load_fma(root, split=["validation", "test"])
print(f"{len(train.filenames)} training clips, {len(held_out.filenames)} held out")

pipeline = make_pipeline(
    AudioLoader(sr=22050, duration=3.0),
    MelSpectrogram(),
    TemporalStatistics(),
    StandardScaler(),
    SVC(),
)
search = GridSearchCV(
    pipeline,
    {"svc__C": [1, 10, 100], "melspectrogram__n_mels": [32, 128]},
    cv=StratifiedGroupKFold(n_splits=3),
)
search.fit(train.filenames, train.target, groups=train.artist_ids)
print("best parameters:", search.best_params_)
print(f"held-out accuracy: {search.score(held_out.filenames, held_out.target):.3f}")

# %%
# The confusion matrix of the held-out clips.
ConfusionMatrixDisplay.from_estimator(
    search, held_out.filenames, held_out.target, xticks_rotation=45
)
plt.tight_layout()
plt.show()
