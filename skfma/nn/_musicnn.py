"""The musicnn tagger and its VGG baseline (Pons and Serra, 2019) as torch modules.

Both take batches of log-mel patches of shape ``(batch, n_mels, n_frames)``
(96 mel bands and 187 frames, 3 s at 16 kHz with hop 256, for the published
models) and return tag logits; :meth:`extract` returns a named intermediate
layer instead. The layers mirror the TensorFlow graphs of the ``musicnn``
package (TF's "same" padding, batch normalisation after the ReLU, epsilon
1e-3), so that :mod:`skfma.transfer` can load its converted checkpoints.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ..exceptions import ParameterError
from ..utils import check_choice, check_int, names_its_errors

__all__ = ["MusicnnModule", "MusicnnVGGModule"]

#: Batch normalisation epsilon of ``tf.compat.v1.layers.batch_normalization`` (the graphs' value).
TF_BN_EPSILON = 1e-3


def _check_patches(x, n_mels):
    if x.dim() != 3 or x.shape[1] != n_mels:
        raise ParameterError(
            f"Expected log-mel patches of shape (batch, {n_mels}, n_frames); got {tuple(x.shape)}."
        )


def _check_layers(layer, widths):
    """``layer`` (a name or a sequence of names) as a tuple of names, each one of ``widths``."""
    names = (layer,) if isinstance(layer, str) else tuple(layer)
    if not names:
        raise ParameterError("layer must name at least one layer; got an empty sequence.")
    for name in names:
        check_choice("layer", name, tuple(widths))
    return names


class _ConvReLUNorm(nn.Module):
    """TF's ``conv2d(activation=relu)`` then ``batch_normalization``: conv, ReLU, batch norm."""

    def __init__(self, conv):
        super().__init__()
        self.conv = conv
        self.bn = (nn.BatchNorm2d if isinstance(conv, nn.Conv2d) else nn.BatchNorm1d)(
            conv.out_channels, eps=TF_BN_EPSILON
        )

    def forward(self, x):
        return self.bn(F.relu(self.conv(x), inplace=True))

    def max_over_frequency(self, x):
        """``forward(x).amax(dim=3)``, with ReLU and batch norm on the pooled map only.

        Batch norm in eval mode is ``scale * z + shift`` per channel, and ReLU
        is monotonic, so the maximum over frequency of ``bn(relu(z))`` is
        ``bn(relu(max z))`` where ``scale >= 0``, and ``bn(relu(min z))``
        where ``scale < 0``; ``min z`` is ``-max(-z)``, the maximum of the
        convolution with negated weights. Both are exact in floating point
        (negation is exact, rounding is monotonic), and save two passes over
        the full ``(batch, channels, time, freq)`` map.

        Parameters
        ----------
        x : Tensor, shape (batch, 1, time, freq)

        Returns
        -------
        pooled : Tensor, shape (batch, channels, time')
        """
        if self.training:
            return self(x).amax(dim=3)
        sign = torch.where(self.bn.weight < 0, -1.0, 1.0).to(x.dtype)
        weight = self.conv.weight * sign[:, None, None, None]
        bias = self.conv.bias * sign
        if self.conv.kernel_size[1] == 1:  # temporal filters: a matrix product over frames
            frames = x[:, 0].transpose(1, 2).unfold(2, self.conv.kernel_size[0], 1)
            conv = torch.matmul(frames, weight[:, 0, :, 0].T).add_(bias)  # (batch, freq, time, ch)
            extreme = conv.amax(dim=1).transpose(1, 2).mul_(sign[:, None])
        else:
            extreme = F.conv2d(x, weight, bias).amax(dim=3).mul_(sign[:, None])
        return F.batch_norm(
            F.relu(extreme, inplace=True),
            self.bn.running_mean,
            self.bn.running_var,
            self.bn.weight,
            self.bn.bias,
            eps=self.bn.eps,
        )


class _Tagger(nn.Module):
    """A tagging network whose ``extract(x, layer)`` returns any of its layers."""

    def forward(self, x):
        """Tag logits.

        Parameters
        ----------
        x : Tensor, shape (batch, n_mels, n_frames)

        Returns
        -------
        logits : Tensor, shape (batch, n_classes)
        """
        return self.extract(x, "logits")


class MusicnnModule(_Tagger):
    """musicnn: musically motivated CNN front end, dense mid end, temporal pooling back end.

    Front end, on the batch-normalised log-mel patch (time x frequency):
    two timbral convolutions (7 frames x ``0.4 n_mels`` and 7 x ``0.7 n_mels``
    bands, valid in frequency, ``timbral_filters`` each) and three temporal
    ones (128, 64 and 32 frames x 1 band, ``temporal_filters`` each), each
    followed by ReLU, batch normalisation and max pooling over all
    frequencies: ``2 * timbral_filters + 3 * temporal_filters`` features per
    frame (561). Mid end: three 1-D convolutions over time (7 frames,
    ``midend_filters`` each, ReLU, batch normalisation), the second and
    third with residual connections; the front end and the three mid-end
    outputs are concatenated (753 features per frame). Back end: max and
    mean over time (interleaved, 1506 values), batch normalisation, a dense
    layer of ``dense_units`` (ReLU, batch normalisation: the *penultimate*
    layer) and a dense layer to the tag logits.

    Parameters
    ----------
    n_mels : int, default=96
        Mel bands of the input.
    n_classes : int, default=50
        Number of tags.
    timbral_filters : int, default=204
        Filters of each timbral convolution (``int(1.6 * 128)`` in musicnn).
    temporal_filters : int, default=51
        Filters of each temporal convolution (``int(1.6 * 32)``).
    midend_filters : int, default=64
        Filters of each mid-end convolution (512 in ``MSD_musicnn_big``).
    dense_units : int, default=200
        Width of the penultimate layer (500 in ``MSD_musicnn_big``).

    Attributes
    ----------
    layer_widths : dict of str to int
        Width of each layer :meth:`extract` returns: ``taggram`` and
        ``logits`` (``n_classes``), ``penultimate`` (``dense_units``),
        ``mean_pool`` and ``max_pool`` (753 with the defaults).

    See Also
    --------
    MusicnnVGGModule : the VGG baseline of the same paper.
    skfma.transfer.MusicnnFeatures : the pretrained models as a transformer.

    References
    ----------
    .. [1] J. Pons, X. Serra, "musicnn: Pre-trained convolutional neural
       networks for music audio tagging", ISMIR 2019 late-breaking demo.
    .. [2] J. Pons, O. Nieto, M. Prockup, E. Schmidt, A. Ehmann, X. Serra,
       "End-to-end learning for music audio tagging at scale", ISMIR 2018.

    Examples
    --------
    >>> import torch
    >>> from skfma.nn import MusicnnModule
    >>> net = MusicnnModule().eval()
    >>> x = torch.randn(2, 96, 187)
    >>> net(x).shape
    torch.Size([2, 50])
    >>> net.extract(x, "mean_pool").shape
    torch.Size([2, 753])
    """

    @names_its_errors
    def __init__(
        self,
        *,
        n_mels=96,
        n_classes=50,
        timbral_filters=204,
        temporal_filters=51,
        midend_filters=64,
        dense_units=200,
    ):
        super().__init__()
        self.n_mels = check_int("n_mels", n_mels)
        if int(0.4 * self.n_mels) < 1:
            raise ParameterError(f"n_mels must be at least 3; got {n_mels!r}.")
        n_classes = check_int("n_classes", n_classes)
        timbral = check_int("timbral_filters", timbral_filters)
        temporal = check_int("temporal_filters", temporal_filters)
        midend = check_int("midend_filters", midend_filters)
        dense_units = check_int("dense_units", dense_units)
        self.input_bn = nn.BatchNorm2d(1, eps=TF_BN_EPSILON)
        self.timbral = nn.ModuleList(
            _ConvReLUNorm(nn.Conv2d(1, timbral, (7, int(share * self.n_mels))))
            for share in (0.4, 0.7)
        )
        self.temporal = nn.ModuleList(
            _ConvReLUNorm(nn.Conv2d(1, temporal, (length, 1))) for length in (128, 64, 32)
        )
        frontend_width = 2 * timbral + 3 * temporal
        self.midend = nn.ModuleList(
            _ConvReLUNorm(nn.Conv1d(width, midend, 7)) for width in (frontend_width, midend, midend)
        )
        pooled_width = frontend_width + 3 * midend
        self.pool_bn = nn.BatchNorm1d(2 * pooled_width, eps=TF_BN_EPSILON)
        self.dense = nn.Linear(2 * pooled_width, dense_units)
        self.dense_bn = nn.BatchNorm1d(dense_units, eps=TF_BN_EPSILON)
        self.output = nn.Linear(dense_units, n_classes)
        self.layer_widths = {
            "taggram": n_classes,
            "logits": n_classes,
            "penultimate": dense_units,
            "mean_pool": pooled_width,
            "max_pool": pooled_width,
        }

    def _frame_features(self, x):
        """Front and mid end: ``(batch, n_mels, n_frames)`` -> ``(batch, 753, n_frames)``."""
        _check_patches(x, self.n_mels)
        image = self.input_bn(x.transpose(1, 2).unsqueeze(1))  # (batch, 1, time, freq)
        timbral_input = F.pad(image, (0, 0, 3, 3))
        features = [block.max_over_frequency(timbral_input) for block in self.timbral]
        for block in self.temporal:
            length = block.conv.kernel_size[0]
            # TF's "same" padding: the extra row of an even kernel goes after.
            padded = F.pad(image, (0, 0, (length - 1) // 2, length // 2))
            features.append(block.max_over_frequency(padded))
        frontend = torch.cat(features, dim=1)  # (batch, 561, time)
        outputs = [frontend]
        hidden = self.midend[0](F.pad(frontend, (3, 3)))
        outputs.append(hidden)
        for block in self.midend[1:]:
            hidden = block(F.pad(hidden, (3, 3))) + hidden
            outputs.append(hidden)
        return torch.cat(outputs, dim=1)

    def extract(self, x, layer="taggram"):
        """Named layers' activations, from one pass; the layers after them are not computed.

        Parameters
        ----------
        x : Tensor, shape (batch, n_mels, n_frames)
            Log-mel patches (``n_frames >= 1``; the published models saw 187).
        layer : str or sequence of str, default="taggram"
            Any of ``"taggram"`` (the tag probabilities, sigmoid of the
            logits), ``"logits"``, ``"penultimate"`` (the batch-normalised
            dense layer before the output), ``"mean_pool"`` and
            ``"max_pool"`` (the mean and the maximum over time of the
            concatenated front- and mid-end features).

        Returns
        -------
        activations : Tensor of shape (batch, layer_widths[layer]), or a tuple of them
            A tuple, in the order asked, when ``layer`` is a sequence.
        """
        names = _check_layers(layer, self.layer_widths)
        frames = self._frame_features(x)
        out = {"mean_pool": frames.mean(dim=2), "max_pool": frames.amax(dim=2)}
        if {"penultimate", "logits", "taggram"} & set(names):
            # TF flattens the (features, [max, mean]) pair: max and mean interleaved.
            pooled = torch.stack([out["max_pool"], out["mean_pool"]], dim=2).flatten(1)
            out["penultimate"] = self.dense_bn(F.relu(self.dense(self.pool_bn(pooled))))
            out["logits"] = self.output(out["penultimate"])
            out["taggram"] = torch.sigmoid(out["logits"])
        return out[layer] if isinstance(layer, str) else tuple(out[name] for name in names)


class MusicnnVGGModule(_Tagger):
    """The VGG-like baseline of musicnn: five 3 x 3 convolutions of ``filters`` maps.

    On the batch-normalised log-mel patch (time x frequency), five blocks of a
    3 x 3 convolution ("same" padding), ReLU and batch normalisation, each
    followed by max pooling: 4 x 1 (time x frequency) with stride 2 x 2, then
    2 x 2 three times, then 4 x 4 (*pool5*; 2 x 1 positions of 128 maps for
    a 187 x 96 patch, flattened time first then maps: TF's channel-last
    order). A dense layer maps pool5 to the tag logits.

    Parameters
    ----------
    n_mels : int, default=96
        Mel bands of the input (at least 63).
    n_frames : int, default=187
        Frames per patch: the dense layer is sized for it (at least 66).
    n_classes : int, default=50
        Number of tags.
    filters : int, default=128
        Maps of each convolution.

    Attributes
    ----------
    layer_widths : dict of str to int
        Width of each layer :meth:`extract` returns: ``taggram`` and
        ``logits`` (``n_classes``), ``pool5`` (256 with the defaults).

    See Also
    --------
    MusicnnModule, skfma.transfer.MusicnnFeatures

    Examples
    --------
    >>> import torch
    >>> from skfma.nn import MusicnnVGGModule
    >>> net = MusicnnVGGModule().eval()
    >>> x = torch.randn(2, 96, 187)
    >>> net(x).shape, net.extract(x, "pool5").shape
    (torch.Size([2, 50]), torch.Size([2, 256]))
    """

    #: Max-pooling window and stride (time, frequency) after each convolution.
    POOLS = (
        ((4, 1), (2, 2)),
        ((2, 2), (2, 2)),
        ((2, 2), (2, 2)),
        ((2, 2), (2, 2)),
        ((4, 4), (4, 4)),
    )

    @names_its_errors
    def __init__(self, *, n_mels=96, n_frames=187, n_classes=50, filters=128):
        super().__init__()
        self.n_mels = check_int("n_mels", n_mels)
        self.n_frames = check_int("n_frames", n_frames)
        n_classes = check_int("n_classes", n_classes)
        filters = check_int("filters", filters)
        height, width = self.n_frames, self.n_mels
        for (pool_h, pool_w), (stride_h, stride_w) in self.POOLS:
            height, width = (height - pool_h) // stride_h + 1, (width - pool_w) // stride_w + 1
        if height < 1 or width < 1:
            raise ParameterError(
                f"n_frames and n_mels must be at least 66 and 63 for five poolings; got "
                f"n_frames={n_frames!r}, n_mels={n_mels!r}."
            )
        self.input_bn = nn.BatchNorm2d(1, eps=TF_BN_EPSILON)
        self.blocks = nn.ModuleList(
            _ConvReLUNorm(nn.Conv2d(1 if i == 0 else filters, filters, 3, padding=1))
            for i in range(len(self.POOLS))
        )
        self.output = nn.Linear(filters * height * width, n_classes)
        self.layer_widths = {
            "taggram": n_classes,
            "logits": n_classes,
            "pool5": filters * height * width,
        }

    def extract(self, x, layer="taggram"):
        """Named layers' activations, from one pass.

        Parameters
        ----------
        x : Tensor, shape (batch, n_mels, n_frames)
            Log-mel patches.
        layer : str or sequence of str, default="taggram"
            Any of ``"taggram"`` (the tag probabilities, sigmoid of the
            logits), ``"logits"`` and ``"pool5"`` (the last pooling,
            flattened time first, then maps).

        Returns
        -------
        activations : Tensor of shape (batch, layer_widths[layer]), or a tuple of them
            A tuple, in the order asked, when ``layer`` is a sequence.
        """
        names = _check_layers(layer, self.layer_widths)
        _check_patches(x, self.n_mels)
        if x.shape[2] != self.n_frames:
            raise ParameterError(
                f"Expected patches of {self.n_frames} frames; got {x.shape[2]} (shape "
                f"{tuple(x.shape)})."
            )
        hidden = self.input_bn(x.transpose(1, 2).unsqueeze(1))  # (batch, 1, time, freq)
        for block, (pool, stride) in zip(self.blocks, self.POOLS, strict=True):
            hidden = F.max_pool2d(block(hidden), pool, stride)
        out = {"pool5": hidden.permute(0, 2, 3, 1).flatten(1)}  # TF's (time, freq, maps) order
        if {"logits", "taggram"} & set(names):
            out["logits"] = self.output(out["pool5"])
            out["taggram"] = torch.sigmoid(out["logits"])
        return out[layer] if isinstance(layer, str) else tuple(out[name] for name in names)
