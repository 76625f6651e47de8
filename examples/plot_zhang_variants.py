"""
Raw audio, spectrogram or both: Zhang's residual CNN with and without segments
==============================================================================

Zhang et al. (2016) compared a residual CNN whose first layer reads the STFT
magnitude (2-D input), the raw waveform through a strided 1-D convolution
(1-D input), or both (half of the first layer's maps from each), trained on
whole clips or on overlapping segments whose probabilities are summed per clip.
This example reproduces the shape of that table on small synthetic data:
``ZhangResNet`` takes waveforms, so ``AudioLoader`` feeds it directly
(``make_pipeline(AudioLoader(...), ZhangResNet(...))`` works the same); here
the clips are decoded once and every variant trains on the same arrays.

A third column trains report 004's variant of the net on the same segments:
a first layer spanning 4 STFT frames without padding
(``module__first_kernel_size=4``) and dropout 0.2 after every layer but the
last (``module__dropout=0.2, module__conv_dropout=0.2``).

The data are far smaller than FMA (3-second clips at 8 kHz, 1-second segments
with 50% overlap instead of 3-second segments of 30-second clips) and the net
narrower (32 maps instead of 256), so that the nine fits take about half a
minute on a CPU. The numbers show the experiment's shape, not the paper's
results.
"""

import tempfile

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import train_test_split

from skfma import AudioLoader, ZhangResNet
from skfma.datasets import make_genre_clips

SR, DURATION = 8000, 3.0
paths, genres = make_genre_clips(
    96, n_genres=6, duration=DURATION, sr=SR, directory=tempfile.mkdtemp(), audio_format="wav"
)
waveforms = AudioLoader(sr=SR, duration=DURATION).fit_transform(paths)  # (96, 24000) float32
X_train, X_test, y_train, y_test = train_test_split(
    waveforms, genres, test_size=0.25, stratify=genres, random_state=0
)

# %%
# One net per cell of the table. A 512-sample STFT (64 ms) with 50% overlap;
# segments of 1 s (8,000 samples) with a hop of 0.5 s: 5 segments per clip.
# Report 004's first layer turns a segment's 32 frames into 29 map values.
SEGMENTS = {"segment_length": SR, "segment_hop": SR // 2}
REPORT_004 = {"module__first_kernel_size": 4, "module__dropout": 0.2, "module__conv_dropout": 0.2}
settings = {
    "whole clip": {},
    "1 s, summed": SEGMENTS,
    "1 s, summed, report 004": {**SEGMENTS, **REPORT_004},
}
rows = []
for setting, params in settings.items():
    for input in ("waveform", "spectrogram", "both"):
        net = ZhangResNet(
            module__input=input,
            module__n_fft=512,
            module__filters=32,
            module__dense_units=(32, 16),
            lr=2e-3,
            max_epochs=12,
            batch_size=16,
            random_state=0,
            **params,
        )
        net.fit(X_train, y_train)
        rows.append(
            {
                "input": {"waveform": "1-D", "spectrogram": "2-D", "both": "both"}[input],
                "setting": setting,
                "test accuracy": net.score(X_test, y_test),
            }
        )
results = pd.DataFrame(rows)
table = results.pivot(index="input", columns="setting", values="test accuracy")[list(settings)]
print(table.round(3))  # chance: 1 / 6 = 0.167

# %%
# Test accuracy of each variant.
ax = table.loc[["1-D", "2-D", "both"]].plot.bar(rot=0, figsize=(7, 4))
ax.axhline(1 / 6, color="gray", linestyle="--", label="chance")
ax.set(ylabel="test accuracy", ylim=(0, 1), title="ZhangResNet on synthetic genres")
ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
plt.tight_layout()
plt.show()
