"""Plain torch modules and functions: spectral front ends, augmentation and published nets.

This subpackage imports torch only (never scikit-learn or skorch).
"""

from ._augment import SpecAugment
from ._frontend import (
    apply_filterbank,
    dct_matrix,
    mel_filterbank,
    mel_power,
    power_to_db,
    stft_power,
)
from ._nets import FeatureMLP, KostrzewaNet, UNetEncoderNet

__all__ = [
    "FeatureMLP",
    "KostrzewaNet",
    "SpecAugment",
    "UNetEncoderNet",
    "apply_filterbank",
    "dct_matrix",
    "mel_filterbank",
    "mel_power",
    "power_to_db",
    "stft_power",
]
