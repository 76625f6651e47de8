"""Feature transformers: spectrograms, MFCC, the FMA handcrafted features and temporal pooling.

Names are loaded lazily (PEP 562), so that ``TemporalStatistics`` and ``FMAFeatures``
(and their worker processes) do not import torch, which only the spectrogram
transformers need.
"""

from .._lazy import lazy_exports

#: Public name -> private module that defines it.
_LAZY = {
    "FMA_FEATURE_GROUPS": "_fma_features",
    "FMAFeatures": "_fma_features",
    "fma_feature_index": "_fma_features",
    "TemporalStatistics": "_pooling",
    "MFCC": "_spectral",
    "Resize": "_images",
    "SpectrogramScaler": "_images",
    "MelSpectrogram": "_spectral",
    "Spectrogram": "_spectral",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
