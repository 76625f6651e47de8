"""
Genre classification with a CNN on mel spectrogram windows
===========================================================

Synthetic clips are written as audio files in the FMA layout, then a pipeline
``AudioLoader -> MelSpectrogram -> KostrzewaCNN`` learns their genres. The net
trains on 32-frame windows of each clip with SpecAugment masks on the training
batches; a clip's prediction averages its windows' probabilities. The filters are
far fewer than the published net's (64, 64, 128, 128) so that the example runs in
seconds on a CPU.
"""

import tempfile

import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skfma import AudioLoader, KostrzewaCNN, MelSpectrogram
from skfma.datasets import make_genre_clips
from skfma.nn import SpecAugment

directory = tempfile.mkdtemp()
paths, genres = make_genre_clips(64, n_genres=4, duration=2.0, directory=directory)
train_paths, test_paths, y_train, y_test = train_test_split(
    paths, genres, test_size=0.25, stratify=genres, random_state=0
)

cnn = KostrzewaCNN(
    module__filters=(8, 8, 16, 16),
    module__kernel_size=3,
    segment_length=32,
    segment_hop=16,
    augment=SpecAugment(freq_mask=4, time_mask=6, n_masks=1),
    max_epochs=8,
    batch_size=16,
    random_state=0,
    verbose=1,
)
pipeline = make_pipeline(
    AudioLoader(sr=11025, duration=2.0),
    MelSpectrogram(sr=11025, n_fft=512, hop_length=256, n_mels=32),  # (n, 32, 87) in dB
    cnn,
)
pipeline.fit(train_paths, y_train)
print(f"test accuracy: {pipeline.score(test_paths, y_test):.3f}")

# %%
# The training loss of every epoch, from skorch's history.
fig, (ax_loss, ax_cm) = plt.subplots(1, 2, figsize=(10, 4))
ax_loss.plot(cnn.history_[:, "epoch"], cnn.history_[:, "train_loss"], marker="o")
ax_loss.set(xlabel="epoch", ylabel="training loss (cross-entropy)")
ConfusionMatrixDisplay.from_estimator(
    pipeline, test_paths, y_test, ax=ax_cm, xticks_rotation=45, colorbar=False
)
plt.tight_layout()
plt.show()
