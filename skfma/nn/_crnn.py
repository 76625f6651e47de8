"""Choi et al.'s convolutional recurrent network (CRNN) for music auto-tagging."""

import math

from torch import nn

from ..exceptions import ParameterError
from ..utils import check_choice, check_dropout, check_int, check_sizes, is_int, names_its_errors
from ._dropout import Dropout
from ._elu import ELU
from ._nets import _as_image, _image_shape
from ._norm_pool import NormPoolSequential

__all__ = ["ChoiCRNNModule"]


def _check_pool_sizes(pool_sizes, n_layers):
    """Validate one ``(freq, time)`` pair of positive ints per convolutional layer."""
    if not isinstance(pool_sizes, list | tuple):
        raise ParameterError(
            f"pool_sizes must be a tuple of (freq, time) pairs of positive ints; got "
            f"{pool_sizes!r}."
        )
    pools = tuple(tuple(p) if isinstance(p, list | tuple) else p for p in pool_sizes)
    if len(pools) != n_layers or not all(
        isinstance(p, tuple) and len(p) == 2 and all(is_int(s) and s > 0 for s in p) for p in pools
    ):
        raise ParameterError(
            f"pool_sizes must hold one (freq, time) pair of positive ints per filter "
            f"({n_layers}); got {pool_sizes!r}."
        )
    return tuple((int(freq), int(time)) for freq, time in pools)


class ChoiCRNNModule(nn.Module):
    """Convolutional recurrent network of Choi et al. (2017) for music tagging.

    The input is batch-normalised per frequency bin, then four blocks of a
    3 x 3 convolution (padding 1), batch normalisation, ELU, max pooling and
    dropout reduce the frequency axis to one bin; a two-layer GRU runs over
    the remaining time steps (128 features each), and a linear layer maps its
    last output, after dropout, to the tags. With the defaults (a 96-mel x
    1366-frame log-mel input, 29.12 s at 12 kHz with hop 256, and 50 tags) the
    pools are (2, 2), (3, 3), (4, 4), (4, 4), the GRU sees 15 time steps and
    the net has 394,290 trainable parameters (0.4 M, as published).

    Pooling adapts to other inputs: each pool is shrunk to the map it meets,
    the last block pools whatever frequency bins remain down to one, and
    pooling rounds up (``ceil_mode``), so that trailing frames are pooled
    rather than dropped (the reference pads 1366 frames to 1440 instead).

    Each block pools before its ELU: the ELU is increasing, so the maximum of
    its outputs is its output at the maximum, and the block computes the
    paper's function (gradients included, but for ties between inputs the
    ELU saturates alike) with the ELU on a map the pool made 4 to 16 times
    smaller. Training at 96 x 1366 through :class:`~skfma.models.ChoiCRNN`
    on one core, that made an epoch about 1.04 times faster in float32 and
    1.14 times in bfloat16 (``benchmarks/README.md``).

    Parameters
    ----------
    input_shape : tuple of int, default=(1, 96, 1366)
        ``(channels, n_mels, n_frames)`` of one example (``(n_mels,
        n_frames)`` means one channel; ``(n_features,)`` is read as one frame).
    n_classes : int, default=50
        Number of outputs (tags, or classes).
    filters : tuple of int, default=(64, 128, 128, 128)
        Output channels of each convolution; its length is the number of
        convolutional blocks.
    pool_sizes : tuple of (int, int), default=((2, 2), (3, 3), (4, 4), (4, 4))
        ``(freq, time)`` max-pooling window after each convolution.
    gru_units : int, default=32
        Hidden units of each GRU layer.
    gru_layers : int, default=2
        Stacked GRU layers.
    dropout : float, default=0.1
        Dropout probability after each convolutional block, and before the
        output layer unless ``gru_dropout`` is given.
    gru_dropout : float or None, default=None
        Dropout probability between the GRU and the output layer; None means
        ``dropout``. Choi's code uses 0.3.
    input_norm : {"frequency", "time"}, default="frequency"
        Axis of the input batch normalisation: one mean and scale per mel
        bin (as the paper describes), or per frame (``axis=time_axis`` in
        Choi's Keras code, which needs a fixed number of frames).

    Notes
    -----
    Input batches have shape ``(batch, channels, n_mels, n_frames)`` (also
    ``(batch, n_mels, n_frames)`` for one channel); the output is logits of
    shape ``(batch, n_classes)``: apply a sigmoid for tag probabilities.

    References
    ----------
    .. [1] K. Choi, G. Fazekas, M. Sandler, K. Cho, "Convolutional Recurrent
       Neural Networks for Music Classification", ICASSP 2017.

    Examples
    --------
    >>> import torch
    >>> from skfma.nn import ChoiCRNNModule
    >>> net = ChoiCRNNModule()
    >>> sum(p.numel() for p in net.parameters() if p.requires_grad)
    394290
    >>> net.time_steps
    15
    >>> ChoiCRNNModule(input_shape=(1, 32, 100), n_classes=5)(torch.randn(2, 1, 32, 100)).shape
    torch.Size([2, 5])
    """

    @names_its_errors
    def __init__(
        self,
        *,
        input_shape=(1, 96, 1366),
        n_classes=50,
        filters=(64, 128, 128, 128),
        pool_sizes=((2, 2), (3, 3), (4, 4), (4, 4)),
        gru_units=32,
        gru_layers=2,
        dropout=0.1,
        gru_dropout=None,
        input_norm="frequency",
    ):
        super().__init__()
        channels, height, width = _image_shape(input_shape)
        filters = check_sizes("filters", filters)
        pools = _check_pool_sizes(pool_sizes, len(filters))
        gru_units = check_int("gru_units", gru_units)
        gru_layers = check_int("gru_layers", gru_layers)
        dropout = check_dropout(dropout)
        gru_dropout = dropout if gru_dropout is None else check_dropout(gru_dropout, "gru_dropout")
        self.norm_axis = check_choice("input_norm", input_norm, ("frequency", "time"))
        self.channels = channels
        self.input_norm = nn.BatchNorm1d(channels * height if input_norm == "frequency" else width)
        blocks = []
        for index, (n_out, (pool_freq, pool_time)) in enumerate(zip(filters, pools, strict=True)):
            last = index == len(filters) - 1
            pool = (height if last else min(pool_freq, height), min(pool_time, width))
            blocks += [
                nn.Conv2d(channels, n_out, 3, padding=1),
                nn.BatchNorm2d(n_out),
                nn.MaxPool2d(pool, ceil_mode=True),  # then the ELU: the same, on fewer values
                ELU(),
                Dropout(dropout),
            ]
            channels = n_out
            height, width = math.ceil(height / pool[0]), math.ceil(width / pool[1])
        self.conv = NormPoolSequential(*blocks)
        #: Time steps the GRU runs over.
        self.time_steps = width
        self.gru = nn.GRU(channels, gru_units, num_layers=gru_layers, batch_first=True)
        self.dropout = Dropout(gru_dropout)
        self.output = nn.Linear(gru_units, check_int("n_classes", n_classes))

    def forward(self, x):
        """Tag (or class) logits.

        Parameters
        ----------
        x : Tensor, shape (batch, channels, n_mels, n_frames)
            Log-mel spectrograms (also ``(batch, n_mels, n_frames)`` for one
            channel, or ``(batch, n_features)``).

        Returns
        -------
        logits : Tensor, shape (batch, n_classes)
        """
        x = _as_image(x, self.channels)
        batch, channels, height, width = x.shape
        if self.norm_axis == "frequency":
            x = self.input_norm(x.reshape(batch, channels * height, width))
        else:  # one statistic per frame: frames as BatchNorm1d's channels
            x = self.input_norm(x.reshape(batch, channels * height, width).transpose(1, 2))
            x = x.transpose(1, 2)
        x = self.conv(x.reshape(batch, channels, height, width))
        # (batch, filters, 1, steps) -> (batch, steps, filters)
        sequence = x.squeeze(2).transpose(1, 2)
        _, hidden = self.gru(sequence)
        return self.output(self.dropout(hidden[-1]))
