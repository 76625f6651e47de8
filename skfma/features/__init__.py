"""Feature transformers: spectrograms, MFCC, the FMA handcrafted features and temporal pooling."""

from ._fma_features import FMA_FEATURE_GROUPS, FMAFeatures, fma_feature_index
from ._pooling import TemporalStatistics
from ._spectral import MFCC, MelSpectrogram, Spectrogram

__all__ = [
    "FMA_FEATURE_GROUPS",
    "FMAFeatures",
    "MFCC",
    "MelSpectrogram",
    "Spectrogram",
    "TemporalStatistics",
    "fma_feature_index",
]
