"""Zhang et al.'s residual CNN on raw audio, its spectrogram, or both."""

import torch
from torch import nn

from ..exceptions import ParameterError
from ..utils import check_choice, check_dropout, check_int, check_sizes, names_its_errors
from ._frontend import SpectrogramFrontEnd

__all__ = ["ZhangResNetModule"]

INPUTS = ("spectrogram", "waveform", "both")


def _conv_block(n_in, n_out, kernel_size):
    """Convolution over time (same length), then batch normalisation."""
    return nn.Sequential(nn.Conv1d(n_in, n_out, kernel_size, padding="same"), nn.BatchNorm1d(n_out))


class ZhangResNetModule(nn.Module):
    """Residual CNN of Zhang et al. (2016) on waveforms, their spectrogram, or both.

    The net takes raw waveforms. Its first layer makes ``filters`` feature
    maps over STFT frames from

    - ``input="spectrogram"``: the STFT magnitude of the waveform
      (:class:`SpectrogramFrontEnd`, as :class:`skfma.features.Spectrogram`
      computes it), convolved over time with the frequency bins as channels;
    - ``input="waveform"``: the waveform itself, through a 1-D convolution
      of ``n_fft`` taps strided by ``hop_length`` (a learnt filterbank framed
      like the STFT, so both give one map value per frame);
    - ``input="both"``: half of the maps from each.

    Everything after the first layer is shared by the three variants: a
    residual block of three convolutions over time (the first layer's output
    is added to the third's), global max pooling and global average pooling
    over time concatenated (``2 * filters`` features), and three dense layers
    narrowing to the classes. Batch normalisation sits between each layer and
    its ELU; dropout (optional) follows each hidden dense layer.

    Parameters
    ----------
    n_classes : int, default=8
        Number of outputs.
    input : {"spectrogram", "waveform", "both"}, default="spectrogram"
        What the first layer reads.
    n_fft : int, default=4096
        STFT size in samples, and taps of the waveform convolution; even.
    hop_length : int or None, default=None
        Hop between frames in samples; ``None`` means ``n_fft // 2`` (50%
        overlap, as in the reference).
    power : float, default=1.0
        Exponent of the STFT magnitude (1.0 magnitude, 2.0 power).
    db : bool, default=False
        Feed the spectrogram in decibels (80 dB below each clip's peak)
        instead of linear values.
    filters : int, default=256
        Feature maps of every convolution.
    kernel_size : int, default=3
        Frames spanned by the convolutions over time.
    dense_units : tuple of int, default=(256, 128)
        Widths of the two hidden dense layers (the third is the output).
    dropout : float, default=0.0
        Dropout probability after each hidden dense layer.

    Notes
    -----
    Input batches are waveforms of shape ``(batch, n_samples)``, of any
    length: the pooling is global. The output is logits of shape ``(batch,
    n_classes)``. With the defaults and 8 classes, the spectrogram net has
    2,135,176 trainable parameters, the waveform net 1,610,120 and the
    combined one 1,872,648; most are in the first layer.

    References
    ----------
    .. [1] W. Zhang, W. Lei, X. Xu, X. Xing, "Improved Music Genre
       Classification with Convolutional Neural Networks", Interspeech 2016.

    Examples
    --------
    >>> import torch
    >>> from skfma.nn import ZhangResNetModule
    >>> net = ZhangResNetModule(input="both", n_fft=512, filters=32, n_classes=4)
    >>> net(torch.randn(2, 22050)).shape
    torch.Size([2, 4])
    """

    @names_its_errors
    def __init__(
        self,
        *,
        n_classes=8,
        input="spectrogram",
        n_fft=4096,
        hop_length=None,
        power=1.0,
        db=False,
        filters=256,
        kernel_size=3,
        dense_units=(256, 128),
        dropout=0.0,
    ):
        super().__init__()
        check_choice("input", input, INPUTS)
        n_fft = check_int("n_fft", n_fft, minimum=2)
        if n_fft % 2:
            raise ParameterError(f"n_fft must be an even int >= 2; got {n_fft!r}.")
        hop = check_int("hop_length", n_fft // 2 if hop_length is None else hop_length)
        filters = check_int("filters", filters)
        kernel_size = check_int("kernel_size", kernel_size)
        if input == "both" and filters < 2:
            raise ParameterError(f"input='both' needs filters >= 2; got filters={filters!r}.")
        dense_units = check_sizes("dense_units", dense_units)
        dropout = check_dropout(dropout)
        self.input = input
        n_wave = {"spectrogram": 0, "waveform": filters, "both": filters // 2}[input]
        self.spectrogram = None
        self.spectrogram_conv = None
        self.waveform_conv = None
        if n_wave < filters:
            self.spectrogram = SpectrogramFrontEnd(n_fft=n_fft, hop_length=hop, power=power, db=db)
            self.spectrogram_conv = nn.Conv1d(
                self.spectrogram.n_bins, filters - n_wave, kernel_size, padding="same"
            )
        if n_wave:
            self.waveform_conv = nn.Conv1d(1, n_wave, n_fft, stride=hop)
        self.n_fft = n_fft
        self.first_norm = nn.BatchNorm1d(filters)
        self.conv2 = _conv_block(filters, filters, kernel_size)
        self.conv3 = _conv_block(filters, filters, kernel_size)
        self.elu = nn.ELU()
        layers = []
        for n_in, n_out in zip((2 * filters, *dense_units), dense_units, strict=False):
            layers += [nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out), nn.ELU(), nn.Dropout(dropout)]
        layers.append(nn.Linear(dense_units[-1], check_int("n_classes", n_classes)))
        self.dense = nn.Sequential(*layers)

    def first_layer(self, waveforms):
        """Feature maps of the first layer, before its batch normalisation.

        Parameters
        ----------
        waveforms : Tensor, shape (batch, n_samples)

        Returns
        -------
        maps : Tensor, shape (batch, filters, 1 + n_samples // hop_length)
            Spectrogram maps first, then waveform maps (``input="both"``).
        """
        maps = []
        if self.spectrogram is not None:
            maps.append(self.spectrogram_conv(self.spectrogram(waveforms)))
        if self.waveform_conv is not None:
            # Pad n_fft // 2 zeros before the first sample, as the centred STFT does, so
            # that frame t is centred on sample t * hop_length in both branches.
            half = self.n_fft // 2
            padded = nn.functional.pad(waveforms[:, None], (half, self.n_fft - half))
            maps.append(self.waveform_conv(padded))
        return torch.cat(maps, dim=1)

    def forward(self, x):
        """Class logits.

        Parameters
        ----------
        x : Tensor, shape (batch, n_samples)
            Mono waveforms.

        Returns
        -------
        logits : Tensor, shape (batch, n_classes)
        """
        if x.dim() != 2:
            raise ValueError(
                "ZhangResNetModule takes waveform batches of shape (batch, n_samples), such as "
                f"AudioLoader's output; got a tensor of shape {tuple(x.shape)}."
            )
        first = self.elu(self.first_norm(self.first_layer(x)))
        residual = self.elu(self.conv3(self.elu(self.conv2(first))) + first)
        pooled = torch.cat([residual.amax(dim=-1), residual.mean(dim=-1)], dim=1)
        return self.dense(pooled)
