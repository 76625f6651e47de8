"""Signal-processing functions in torch: STFT power, Slaney mel filterbank, decibels, DCT.

Also :func:`autocast`, the arithmetic (``precision``) that the nets and the musicnn
embeddings share.

The functions that both the feature transformers (:mod:`skfma.features`) and
the networks (:mod:`skfma.nn`) compute with, kept apart from both (as
torchaudio keeps ``functional`` apart from ``transforms``). They match librosa
within float32 round-off, work on batches and on any device, and import torch
only.
"""

from ._precision import PRECISIONS, autocast
from ._signal import (
    apply_filterbank,
    dct_matrix,
    mel_filterbank,
    mel_power,
    n_frames,
    power_to_db,
    stft_power,
)

__all__ = [
    "PRECISIONS",
    "apply_filterbank",
    "autocast",
    "dct_matrix",
    "mel_filterbank",
    "mel_power",
    "n_frames",
    "power_to_db",
    "stft_power",
]
