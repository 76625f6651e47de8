"""Feature transformers: spectrograms, MFCC, the FMA handcrafted features and temporal pooling.

Names are loaded lazily (PEP 562), so that ``TemporalStatistics`` and ``FMAFeatures``
(and their worker processes) do not import torch, which only the spectrogram
transformers need.
"""

import importlib

#: Public name -> private module that defines it.
_LAZY = {
    "FMA_FEATURE_GROUPS": "_fma_features",
    "FMAFeatures": "_fma_features",
    "fma_feature_index": "_fma_features",
    "TemporalStatistics": "_pooling",
    "MFCC": "_spectral",
    "MelSpectrogram": "_spectral",
    "Spectrogram": "_spectral",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'skfma.features' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
