"""
Multi-label tagging with Choi's CRNN: ROC-AUC per tag and each clip's top tags
==============================================================================

Music taggers predict several tags per clip (genre, instruments, mood) and are
scored with ROC-AUC, macro-averaged and per tag. Here each synthetic clip gets
its genre as a tag plus attributes that several genres share: ``drums``,
``noisy`` (audible background noise) and ``distorted``. A pipeline
``AudioLoader -> MelSpectrogram -> ChoiCRNN`` learns them from audio files
(fitting on a 0/1 tag DataFrame makes the net a multi-label tagger with sigmoid
outputs), then :func:`~skfma.models.predict_tags` lists each test clip's top
tags, scored by probability divided by the tag's training prior.

The net is narrower than the published one (16 channels instead of 64-128,
2 x 2 pools for 32 mel bands) so that the example runs in seconds on a CPU.
Saved with ``joblib.dump(pipeline, "tagger.joblib")``, the same pipeline tags
files from the shell: ``skfma tag song.mp3 --model tagger.joblib``.
"""

import os
import tempfile

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skfma import AudioLoader, ChoiCRNN, MelSpectrogram
from skfma.datasets import GENRE_STYLES, make_genre_clips
from skfma.models import predict_tags

paths, genres = make_genre_clips(
    96, n_genres=6, duration=2.0, sr=11025, directory=tempfile.mkdtemp(), audio_format="wav"
)
styles = [GENRE_STYLES[genre] for genre in genres]
tags = pd.get_dummies(pd.Series(genres)).astype(int)
tags["drums"] = [int(bool(style.drums)) for style in styles]
tags["noisy"] = [int(style.noise >= 0.02) for style in styles]
tags["distorted"] = [int(style.distortion > 0) for style in styles]
print(tags.mean().round(2).to_string())  # each tag's share of the clips

paths_train, paths_test, Y_train, Y_test = train_test_split(
    paths, tags, test_size=0.25, random_state=0
)

# %%
# Train the tagger: 32 mel bands x 87 frames per clip.
tagger = make_pipeline(
    AudioLoader(sr=11025, duration=2.0),
    MelSpectrogram(sr=11025, n_fft=512, hop_length=256, n_mels=32),
    ChoiCRNN(
        module__filters=(16, 16, 16, 16),
        module__pool_sizes=((2, 2),) * 4,
        lr=3e-3,
        max_epochs=20,
        batch_size=8,
        random_state=0,
    ),
)
tagger.fit(paths_train, Y_train)
proba = tagger.predict_proba(paths_test)
print(f"ROC-AUC, macro average over tags: {roc_auc_score(Y_test, proba):.3f}")

# %%
# ROC-AUC of each tag (0.5 is chance).
per_tag = pd.Series(roc_auc_score(Y_test, proba, average=None), index=tags.columns)
ax = per_tag.plot.barh(figsize=(6, 4), xlim=(0.4, 1.0))
ax.axvline(0.5, color="gray", linestyle="--")
ax.set(xlabel="ROC-AUC", title="ChoiCRNN: ROC-AUC per tag")
plt.tight_layout()

# %%
# The top three tags of a few test clips, against their true tags.
top_tags = predict_tags(tagger, paths_test[:4], top_k=3)
for path, top, (_, true) in zip(paths_test[:4], top_tags, Y_test[:4].iterrows(), strict=True):
    predicted = ", ".join(f"{name} ({score:.2f})" for name, score in top)
    print(f"{os.path.basename(path)}: {predicted}  | true: {', '.join(true.index[true == 1])}")
plt.show()
