"""Plain torch modules and functions: spectral front ends, augmentation and published nets.

This subpackage imports torch only (never scikit-learn or skorch).
"""

from ._augment import SpecAugment
from ._crnn import ChoiCRNNNet
from ._frontend import (
    SpectrogramFrontEnd,
    apply_filterbank,
    dct_matrix,
    mel_filterbank,
    mel_power,
    power_to_db,
    stft_power,
)
from ._nets import FeatureMLP, KostrzewaNet, UNetEncoderNet
from ._resnet import ZhangResNetNet

__all__ = [
    "ChoiCRNNNet",
    "FeatureMLP",
    "KostrzewaNet",
    "SpecAugment",
    "SpectrogramFrontEnd",
    "UNetEncoderNet",
    "ZhangResNetNet",
    "apply_filterbank",
    "dct_matrix",
    "mel_filterbank",
    "mel_power",
    "power_to_db",
    "stft_power",
]
