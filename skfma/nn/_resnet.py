"""Zhang et al.'s residual CNN on raw audio, its spectrogram, or both."""

import torch
from torch import nn

from ..exceptions import ParameterError
from ..functional import n_frames
from ..utils import check_choice, check_dropout, check_int, check_sizes, names_its_errors
from ._dropout import Dropout
from ._elu import ELU
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
      strided by ``hop_length`` whose kernel covers the samples of the STFT
      frames that the spectrogram convolution spans (a learnt filterbank
      framed like the STFT, so both give the same number of map values);
    - ``input="both"``: half of the maps from each (spectrogram maps first).

    Everything after the first layer is shared by the three variants: a
    residual block of two convolutions over time with ``kernel_size`` frames
    and "same" padding (the first layer's output is added to the second's),
    global max pooling and global average pooling over time concatenated
    (``2 * filters`` features), and three dense layers narrowing to the
    classes. Batch normalisation sits between each layer and its ELU.

    Parameters
    ----------
    n_classes : int, default=8
        Number of outputs.
    input : {"spectrogram", "waveform", "both"}, default="spectrogram"
        What the first layer reads.
    n_fft : int, default=2048
        STFT size in samples (``1 + n_fft // 2`` frequency bins); even.
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
        Frames spanned by the convolutions of the residual block, and by the
        first layer's spectrogram convolution when ``first_kernel_size`` is
        None.
    first_kernel_size : int or None, default=None
        The first layer's kernel, in STFT frames.

        - ``None``: the spectrogram convolution spans ``kernel_size`` frames
          with "same" padding and the waveform convolution ``n_fft`` samples
          (one frame); the maps have ``n_frames`` values.
        - An int ``k`` (report 004: 4): no padding over frames; the
          spectrogram convolution spans ``k`` frames and the waveform
          convolution the ``n_fft + (k - 1) * hop_length`` samples of ``k``
          frames, so that the maps have ``n_frames - k + 1`` values (977
          frames give 974) and inputs need at least ``k`` frames, that is
          ``(k - 1) * hop_length`` samples.
    dense_units : tuple of int, default=(256, 128)
        Widths of the two hidden dense layers (the third is the output).
    dropout : float, default=0.0
        Dropout probability after each hidden dense layer (after its ELU).
    conv_dropout : float, default=0.0
        Dropout probability after each convolutional layer: after the first
        layer's ELU (so both the residual block and its shortcut see the
        dropped maps), after the first residual convolution's ELU, and after
        the ELU of the residual sum, before pooling. With ``dropout`` equal,
        every layer but the output one is followed by dropout.

    Notes
    -----
    Input batches are waveforms of shape ``(batch, n_samples)``, of any
    length (at least ``(first_kernel_size - 1) * hop_length`` samples): the
    pooling is global. The output is logits of shape ``(batch, n_classes)``.
    ``n_frames`` is ``1 + n_samples // hop_length``: with the defaults (1025
    bins, hop 1024), 999,424 samples give a ``(1025, 977)`` spectrogram.

    Trainable parameters with 8 classes, 256 maps and the default dense
    layers (dropout adds none):

    ============================  ===========  =========  =========
    first layer                   spectrogram  waveform   both
    ============================  ===========  =========  =========
    default (3 frames, "same")    1,348,744    1,085,832  1,217,288
    ``first_kernel_size=4``       1,611,144    1,872,264  1,741,704
    ============================  ===========  =========  =========

    The layers after the first hold 561,288 of them in every variant.

    Report 004's variant is ``first_kernel_size=4, dropout=0.2,
    conv_dropout=0.2``: a first layer of 256 maps of 974 frames (128 + 128
    with ``input="both"``) on a ``(1025, 977)`` spectrogram, and dropout
    0.2 after every layer but the last.

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
    >>> report = ZhangResNetModule(input="both", first_kernel_size=4, dropout=0.2, conv_dropout=0.2)
    >>> report.first_layer(torch.randn(1, 999_424)).shape
    torch.Size([1, 256, 974])
    """

    @names_its_errors
    def __init__(
        self,
        *,
        n_classes=8,
        input="spectrogram",
        n_fft=2048,
        hop_length=None,
        power=1.0,
        db=False,
        filters=256,
        kernel_size=3,
        first_kernel_size=None,
        dense_units=(256, 128),
        dropout=0.0,
        conv_dropout=0.0,
    ):
        super().__init__()
        check_choice("input", input, INPUTS)
        n_fft = check_int("n_fft", n_fft, minimum=2)
        if n_fft % 2:
            raise ParameterError(f"n_fft must be an even int >= 2; got {n_fft!r}.")
        hop = check_int("hop_length", n_fft // 2 if hop_length is None else hop_length)
        filters = check_int("filters", filters)
        kernel_size = check_int("kernel_size", kernel_size)
        first_kernel_size = check_int("first_kernel_size", first_kernel_size, allow_none=True)
        if input == "both" and filters < 2:
            raise ParameterError(f"input='both' needs filters >= 2; got filters={filters!r}.")
        dense_units = check_sizes("dense_units", dense_units)
        dropout = check_dropout(dropout)
        conv_dropout = check_dropout(conv_dropout, "conv_dropout")
        self.input = input
        self.n_fft = n_fft
        self.hop_length = hop
        self.first_kernel_size = first_kernel_size
        n_wave = {"spectrogram": 0, "waveform": filters, "both": filters // 2}[input]
        self.spectrogram = None
        self.spectrogram_conv = None
        self.waveform_conv = None
        if n_wave < filters:
            self.spectrogram = SpectrogramFrontEnd(n_fft=n_fft, hop_length=hop, power=power, db=db)
            self.spectrogram_conv = nn.Conv1d(
                self.spectrogram.n_bins,
                filters - n_wave,
                kernel_size if first_kernel_size is None else first_kernel_size,
                padding="same" if first_kernel_size is None else 0,
            )
        if n_wave:
            # The samples of first_kernel_size consecutive frames (of one frame by default).
            taps = n_fft + (0 if first_kernel_size is None else (first_kernel_size - 1) * hop)
            self.waveform_conv = nn.Conv1d(1, n_wave, taps, stride=hop)
        self.first_norm = nn.BatchNorm1d(filters)
        self.first_dropout = Dropout(conv_dropout)
        self.conv2 = _conv_block(filters, filters, kernel_size)
        self.conv2_dropout = Dropout(conv_dropout)
        self.conv3 = _conv_block(filters, filters, kernel_size)
        self.conv3_dropout = Dropout(conv_dropout)
        self.elu = ELU()
        layers = []
        for n_in, n_out in zip((2 * filters, *dense_units), dense_units, strict=False):
            layers += [nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out), ELU(), Dropout(dropout)]
        layers.append(nn.Linear(dense_units[-1], check_int("n_classes", n_classes)))
        self.dense = nn.Sequential(*layers)

    def first_layer(self, waveforms):
        """Feature maps of the first layer, before its batch normalisation.

        Parameters
        ----------
        waveforms : Tensor, shape (batch, n_samples)

        Returns
        -------
        maps : Tensor, shape (batch, filters, n_maps)
            Spectrogram maps first, then waveform maps (``input="both"``).
            ``n_maps`` is ``n_frames = 1 + n_samples // hop_length``, or
            ``n_frames - first_kernel_size + 1`` when that is set.

        Raises
        ------
        ValueError
            If the waveforms are shorter than ``first_kernel_size`` frames.
        """
        n_samples = waveforms.shape[-1]
        frames = n_frames(n_samples, n_fft=self.n_fft, hop_length=self.hop_length)
        k = self.first_kernel_size
        if k is not None and frames < k:
            raise ValueError(
                f"ZhangResNetModule with first_kernel_size={k} needs waveforms of at least {k} "
                f"STFT frames, i.e. {(k - 1) * self.hop_length} samples with "
                f"hop_length={self.hop_length}; got {n_samples} samples ({frames} frames). "
                "Use longer clips or segments, or a smaller first_kernel_size."
            )
        maps = []
        if self.spectrogram is not None:
            maps.append(self.spectrogram_conv(self.spectrogram(waveforms)))
        if self.waveform_conv is not None:
            # Pad n_fft // 2 zeros on each side, as the centred STFT does, so that window t
            # starts where STFT frame t does in both branches.
            half = self.n_fft // 2
            padded = nn.functional.pad(waveforms, (half, self.n_fft - half))
            # The strided convolution as a matrix product of its windows (the same weights
            # and sums): in bfloat16 on a CPU, oneDNN's 1-D convolution gained 1.4x over
            # float32 where the product gains 2.4x (benchmarks/README.md).
            conv = self.waveform_conv
            windows = padded.unfold(-1, conv.kernel_size[0], conv.stride[0])
            maps.append(nn.functional.linear(windows, conv.weight[:, 0], conv.bias).mT)
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
        first = self.first_dropout(self.elu(self.first_norm(self.first_layer(x))))
        hidden = self.conv2_dropout(self.elu(self.conv2(first)))
        residual = self.conv3_dropout(self.elu(self.conv3(hidden) + first))
        pooled = torch.cat([residual.amax(dim=-1), residual.mean(dim=-1)], dim=1)
        return self.dense(pooled)
