"""Feature transformers: spectrograms, MFCC and temporal pooling."""

from ._pooling import TemporalStatistics
from ._spectral import MFCC, MelSpectrogram, Spectrogram

__all__ = ["MFCC", "MelSpectrogram", "Spectrogram", "TemporalStatistics"]
