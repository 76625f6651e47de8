"""
Genre classification from audio files with a grid search
=========================================================

Synthetic clips are written as MP3 files in the FMA layout, then a pipeline
``AudioLoader -> MelSpectrogram -> TemporalStatistics -> StandardScaler -> SVC``
is tuned with ``GridSearchCV`` over the SVM's ``C`` and the number of mel bands.
"""

import tempfile

import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skfma import AudioLoader, MelSpectrogram, TemporalStatistics
from skfma.datasets import make_genre_clips

directory = tempfile.mkdtemp()
paths, genres = make_genre_clips(64, n_genres=4, duration=3.0, directory=directory)
train_paths, test_paths, y_train, y_test = train_test_split(
    paths, genres, test_size=0.25, stratify=genres, random_state=0
)

pipeline = make_pipeline(
    AudioLoader(sr=22050, duration=3.0),
    MelSpectrogram(),
    TemporalStatistics(),
    StandardScaler(),
    SVC(),
)
search = GridSearchCV(pipeline, {"svc__C": [1, 10, 100], "melspectrogram__n_mels": [32, 128]}, cv=3)
search.fit(train_paths, y_train)
print("best parameters:", search.best_params_)
print(f"test accuracy: {search.score(test_paths, y_test):.3f}")

# %%
# The confusion matrix of the held-out clips.
ConfusionMatrixDisplay.from_estimator(search, test_paths, y_test, xticks_rotation=45)
plt.tight_layout()
plt.show()
