"""Clip-by-clip execution of stateless steps, the on-disk per-clip cache, and feature stores.

:class:`AudioFeatures` runs an ``AudioLoader`` and the stateless transformers
after it inside joblib workers, one file at a time, optionally with
a resumable on-disk cache; :func:`extract_fma` writes a whole FMA subset's
features to a folder that :func:`load_extracted` reads back.
"""

from ._audio_features import AudioFeatures, make_audio_features
from ._extract import FEATURE_SETS, extract_fma, load_extracted

__all__ = [
    "FEATURE_SETS",
    "AudioFeatures",
    "extract_fma",
    "load_extracted",
    "make_audio_features",
]
