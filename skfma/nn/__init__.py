"""Plain torch modules and functions: spectral front ends and published architectures.

This subpackage imports torch only (never scikit-learn or skorch).
"""

from ._frontend import dct_matrix, mel_filterbank, power_to_db, stft_power

__all__ = ["dct_matrix", "mel_filterbank", "power_to_db", "stft_power"]
