"""SpectrogramFrontEnd: the STFT as a torch module, for nets that take raw waveforms."""

import torch

from ..functional import power_to_db, stft_power
from ..utils import check_int, check_positive, check_top_db, names_its_errors

__all__ = ["SpectrogramFrontEnd"]


class SpectrogramFrontEnd(torch.nn.Module):
    """STFT magnitude (or power) of waveform batches, optionally in decibels.

    The torch-module twin of :class:`skfma.features.Spectrogram`: the same
    parameters and the same output (periodic Hann window, centred frames with
    zero padding), computed inside a network so that it takes raw waveforms.
    The window is a buffer, so it follows the module to its device.

    Parameters
    ----------
    n_fft : int, default=2048
        FFT size (and window length) in samples.
    hop_length : int or None, default=None
        Hop between frames in samples; ``None`` means ``n_fft // 2`` (50%
        overlap).
    power : float, default=1.0
        Exponent of the magnitude: 1.0 magnitude, 2.0 power.
    db : bool, default=False
        Return decibels instead of linear values.
    top_db : float or None, default=80.0
        With ``db=True``, the dynamic range kept below each clip's peak.

    See Also
    --------
    skfma.features.Spectrogram, skfma.functional.stft_power, skfma.functional.power_to_db

    Examples
    --------
    >>> import torch
    >>> from skfma.nn import SpectrogramFrontEnd
    >>> SpectrogramFrontEnd(n_fft=512)(torch.randn(3, 4000)).shape
    torch.Size([3, 257, 16])
    """

    @names_its_errors
    def __init__(self, *, n_fft=2048, hop_length=None, power=1.0, db=False, top_db=80.0):
        super().__init__()
        self.n_fft = check_int("n_fft", n_fft)
        self.hop_length = (
            self.n_fft // 2 if hop_length is None else check_int("hop_length", hop_length)
        )
        self.power = float(check_positive("power", power))
        self.db = bool(db)
        self.top_db = check_top_db(top_db)
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    @property
    def n_bins(self):
        """int : Frequency bins of the output, ``1 + n_fft // 2``."""
        return 1 + self.n_fft // 2

    def forward(self, waveforms):
        """Spectrogram of every waveform.

        Parameters
        ----------
        waveforms : Tensor, shape (batch, n_samples)
            Mono float waveforms.

        Returns
        -------
        spectrogram : Tensor, shape (batch, 1 + n_fft // 2, n_frames)
            ``skfma.functional.n_frames(n_samples, n_fft=n_fft, hop_length=hop_length)``.
            Magnitudes raised to ``power``, or their decibels with ``db=True``.
        """
        spec = stft_power(
            waveforms,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            window=self.window.to(waveforms.dtype),
            power=self.power,
        )
        return power_to_db(spec, power=self.power, top_db=self.top_db) if self.db else spec

    def extra_repr(self):
        return (
            f"n_fft={self.n_fft}, hop_length={self.hop_length}, power={self.power}, "
            f"db={self.db}, top_db={self.top_db}"
        )
