"""Plain torch modules and functions: spectral front ends and published architectures.

This subpackage imports torch only (never scikit-learn or skorch).
"""

from ._frontend import (
    apply_filterbank,
    dct_matrix,
    mel_filterbank,
    mel_power,
    power_to_db,
    stft_power,
)

__all__ = [
    "apply_filterbank",
    "dct_matrix",
    "mel_filterbank",
    "mel_power",
    "power_to_db",
    "stft_power",
]
