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
from ..functional import PRECISIONS, autocast
from ..utils import check_choice, check_int, names_its_errors
from ._bits import same_width_integer

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


# ---------------------------------------------------------------------------------------------
# Inference on a CPU: the convolutions lowered to large matrix products.
#
# oneDNN runs the front end's shapes slowly: a single input channel with a 7 x 38 or 7 x 67
# kernel (musicnn's timbral filters) reaches about 54 GFLOP/s in float32 and 70 in bfloat16 on
# one core, and the VGG's first 3 x 3 convolution of one channel 3 to 8, against 85-100 and
# 190-210 for a matrix product of the same work. Here each is an explicit im2col (the patches
# of a few rows of the map copied into a cache-sized buffer) times the filters, followed at
# once by the pooling, so that the full map never reaches memory; the temporal filters, long
# and few, take banded filter matrices instead (:func:`_banded_filters`). The ReLU and batch
# norm come after the pooling (see :meth:`_ConvReLUNorm.max_over_frequency`).
# ---------------------------------------------------------------------------------------------

#: Rows of a lowered matrix product: its operands and result stay in the core's L2 cache.
_ROWS_PER_PRODUCT = 1024


def _lowers(module, x):
    """Whether ``extract`` takes the lowered path: inference without gradients on a CPU."""
    return not module.training and not torch.is_grad_enabled() and x.device.type == "cpu"


def _signs(bn):
    """+1 or -1 per channel: the sign of batch norm's scale (see ``max_over_frequency``)."""
    return torch.where(bn.weight < 0, -1.0, 1.0)


def _affine(bn):
    """``(scale, shift)`` of an eval-mode batch norm: ``bn(x) == x * scale + shift``."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


def _relu_bn(extreme, bn, *, sign=None, bias=None, dtype=torch.float32):
    """``bn(relu(sign * extreme + bias))`` over channel-last ``(..., channels)`` values.

    In three passes over the map, computed in float32 and written in
    ``dtype`` (the next product's operands); ``sign`` and ``bias`` are per
    channel, the convolution's sign flips and bias (none if not given).
    """
    scale, shift = _affine(bn)
    hidden = extreme.float()  # a copy, unless float32 already
    if sign is None:
        hidden = F.relu(hidden)
    elif hidden is extreme:
        hidden = torch.addcmul(bias, hidden, sign).relu_()
    else:  # mixed-dtype addcmul takes a slow path
        hidden = torch.addcmul(bias, hidden, sign, out=hidden).relu_()
    return torch.addcmul(shift, hidden, scale, out=hidden).to(dtype)  # same-dtype ops: fast


#: float32 sums in a 64-byte vector register: the products' outputs come in whole registers.
_SUM_LANES = 16


def _pad_filters(weight):
    """``weight`` (inputs, channels) with zero filters up to a multiple of 16 channels.

    The matrix-product kernels sum the output's channels in float32, 16 to a
    64-byte vector register, whatever the operands' type; a last, partial
    register costs nearly a whole one. One thread, ``(1003, 267)`` times the
    filters, oneDNN's kernels: musicnn's 204 timbral filters take 1.02 of the
    time of 208 in float32, and in bfloat16, padded to 224 (a whole register
    of bfloat16 operands), 1.07 of 208's time. The zero filters' work costs
    less than that.

    Returns
    -------
    weight : Tensor, shape (inputs, padded_channels), contiguous
    """
    channels = weight.shape[1]
    return F.pad(weight, (0, -(-channels // _SUM_LANES) * _SUM_LANES - channels)).contiguous()


def _biased_filters(weight, bias, dtype):
    """The filters with the bias as a last input row, padded (:func:`_pad_filters`).

    Parameters
    ----------
    weight : Tensor, shape (inputs, channels)
    bias : Tensor, shape (channels,)
    dtype : torch.dtype

    Returns
    -------
    weight : Tensor of ``dtype``, shape (inputs + 1, padded_channels)
        Times operand rows that end in a one (:func:`_operand_rows`): the
        convolution with its bias, ``z + bias``.
    """
    return _pad_filters(torch.cat([weight, bias[None]]).to(dtype))


def _filter_product(weight, rows):
    """``operands -> operands @ weight`` on oneDNN's matrix-product kernels where torch has them.

    torch's float32 matrix product on a CPU calls MKL; oneDNN (which runs
    torch's convolutions and bfloat16 products) is faster for these shapes
    once the filters are reordered into its blocked layout. One thread of
    the benchmarks' AMD EPYC, ``(1003, 267)`` times ``(267, 208)``: 100
    GFLOP/s with MKL, 109-110 with oneDNN (a 2048 x 2048 product: 94 and
    110-112); in bfloat16 201 and 215-221. Where torch has no oneDNN, or
    oneDNN no kernel for the dtype on this CPU, it is ``torch.mm``.

    Parameters
    ----------
    weight : Tensor, shape (inputs, channels)
    rows : int
        The operands' usual number of rows, for oneDNN's choice of layout.

    Returns
    -------
    product : callable
        Of operands, shape (n, inputs), contiguous; returns a new
        ``(n, channels)`` tensor of ``weight``'s dtype.
    """

    def reordered(operands):
        return torch.ops.mkldnn._linear_pointwise(operands, packed, None, "none", [], "")

    try:
        packed = torch.ops.mkldnn._reorder_linear_weight(weight.T.contiguous(), rows)
        reordered(weight.new_zeros(1, weight.shape[0]))  # a kernel for this dtype and CPU
    except (AttributeError, RuntimeError, NotImplementedError):  # none: no oneDNN, or no kernel
        return lambda operands: torch.mm(operands, weight)
    return reordered


def _operand_rows(rows, inputs, dtype):
    """A buffer of ``rows`` operand rows of ``inputs`` values, then a column of ones."""
    columns = torch.empty(rows, inputs + 1, dtype=dtype)
    columns[:, inputs] = 1
    return columns


def _complements(bn, width, dtype):
    """Per channel, the bits to flip for the maximum over frequency, padded to ``width``.

    ReLU then batch norm, ``bn(relu(y))``, is largest where ``y`` is (scale
    >= 0) or where it is smallest (scale < 0), so the pooling needs
    ``relu(max y)`` or ``relu(min y)``. A float's bits read as a signed
    integer of its width order the non-negative floats as the floats, and
    put every negative one (and -0) below them. So the ReLU of the float of
    the integer maximum is ``relu(max y)``: the maximum itself if it is
    non-negative, else some negative value, which ReLU makes 0 as it does
    ``max y``; likewise for the minimum. For ``relu(min y)`` the bits are
    complemented before and after the maximum (``max(~k) == ~min(k)``).
    Integer maxima are vectorised at every width, where torch's bfloat16
    maximum runs at a third of float32's speed on a CPU.

    Returns
    -------
    mask : Tensor of ``same_width_integer(dtype)``, shape (width,)
        -1 (every bit) for the channels of negative scale, else 0.
    """
    mask = torch.where(bn.weight < 0, -1, 0).to(same_width_integer(dtype))
    return F.pad(mask, (0, width - len(mask)))


def _lowered_max_over_frequency(block, padded, dtype):
    """``block.max_over_frequency`` of a 2-D convolution as row-blocked matrix products.

    Parameters
    ----------
    block : _ConvReLUNorm
        A convolution of one input channel, kernel ``(kh, kw)`` (time, frequency).
    padded : Tensor of ``dtype``, shape (batch, time + kh - 1, freq), contiguous
        The input map, already padded in time.
    dtype : torch.dtype
        Of the products' operands; they sum in float32.

    Returns
    -------
    pooled : Tensor of float32, shape (batch, time, channels)
        The batch-normalised ReLU of the maximum over frequency (channel last).
    """
    conv = block.conv
    channels, _, kh, kw = conv.weight.shape
    weight = _biased_filters(conv.weight[:, 0].reshape(channels, kh * kw).T, conv.bias, dtype)
    padded_channels = weight.shape[1]
    mask = _complements(block.bn, padded_channels, dtype)
    batch, rows, freq = padded.shape
    time, positions = rows - kh + 1, freq - kw + 1
    s0, s1, s2 = padded.stride()
    patches = padded.as_strided((batch, time, positions, kh, kw), (s0, s1, s2, s1, s2))
    step = max(1, _ROWS_PER_PRODUCT // positions)
    columns = _operand_rows(step * positions, kh * kw, dtype)
    product = _filter_product(weight, step * positions)
    extreme = torch.empty(batch, time, padded_channels, dtype=dtype)
    keys = extreme.view(mask.dtype)
    for b in range(batch):
        for t in range(0, time, step):
            n = min(step, time - t)
            # Rows position-major: the maximum reduces the outer axis (vectorised).
            cols = columns[: n * positions]
            cols[:, :-1].view(positions, n, kh, kw).copy_(patches[b, t : t + n].transpose(0, 1))
            out = product(cols).view(mask.dtype)
            out = out.bitwise_xor_(mask).view(positions, n, padded_channels)
            torch.amax(out, dim=0, out=keys[b, t : t + n])
    keys.bitwise_xor_(mask)
    return _relu_bn(extreme[:, :, :channels], block.bn)


#: Output frames per row of a temporal filter's banded product (:func:`_banded_filters`): its
#: result, ``16 * channels`` wide, fills whole registers of float32 sums whatever the channels.
_FRAMES_PER_ROW = _SUM_LANES

#: Values in a banded product's result: about 1 MB of float32, which stays in the L2 cache.
_RESULT_VALUES = 2**18


def _banded_filters(weight, bias, frames, dtype):
    """A 1-D convolution's filters as one matrix for ``frames`` consecutive outputs.

    Times a row of ``frames + length - 1`` consecutive inputs and a one, the
    matrix gives the convolution (with its bias) at the row's first
    ``frames`` positions, frame-major: a banded (Toeplitz) matrix. Each
    operand row then holds the inputs of ``frames`` outputs at once, where
    an im2col row holds one output's: musicnn's temporal filters (lengths
    128, 64 and 32, 51 channels) read about 10 times less memory, and the
    product's result is ``frames * channels`` wide (816), where one row per
    output gives 51 columns, padded to 64. The zeros of the band cost
    ``(frames - 1) / length`` more work (12-47%), about the 25% the padding
    of 51 channels to 64 costs. The zeros add nothing to the sums: float32
    features came out bit-identical to the im2col product's on the
    benchmark's clips. A non-finite input makes every output of its row NaN
    (zero times it).

    Parameters
    ----------
    weight : Tensor, shape (length, channels)
    bias : Tensor, shape (channels,)
    frames : int
    dtype : torch.dtype

    Returns
    -------
    banded : Tensor of ``dtype``, shape (frames + length, frames * channels), contiguous
        Column ``b * channels + c`` holds filter ``c`` from row ``b``,
        zeros around it, and the bias in the last row.
    """
    length, channels = weight.shape
    shifted = F.pad(weight, (0, 0, frames - 1, frames - 1))
    # band[i, b] = weight[i - b], zero outside the filter.
    band = shifted.unfold(0, frames, 1).flip(-1).transpose(1, 2)
    rows = [band.reshape(frames + length - 1, frames * channels), bias.repeat(frames)[None]]
    return torch.cat(rows).to(dtype)


def _lowered_temporal(blocks, image, dtype):
    """The temporal filters' ``max_over_frequency``, as banded matrix products.

    Each frequency's frames, padded, give operand rows of ``_FRAMES_PER_ROW``
    outputs' inputs (:func:`_banded_filters`); the rows of a few frequencies
    make one product, reduced at once to its maximum over them.

    Parameters
    ----------
    blocks : sequence of _ConvReLUNorm
        Convolutions of kernel ``(length, 1)``, TF's "same" padding in time.
    image : Tensor of float32, shape (batch, time, freq)
    dtype : torch.dtype

    Returns
    -------
    pooled : list of Tensor of float32, shape (batch, time, channels)
    """
    batch, time, freq = image.shape
    frames = _FRAMES_PER_ROW
    row_blocks = -(-time // frames)
    lengths = [block.conv.kernel_size[0] for block in blocks]
    before = max((length - 1) // 2 for length in lengths)
    after = max(length // 2 for length in lengths) + row_blocks * frames - time
    # (batch, freq, before + time + after): each frequency's frames contiguous.
    series = F.pad(image.transpose(1, 2), (before, after)).to(dtype).contiguous()
    s0, s1, s2 = series.stride()
    outputs = []
    for block, length in zip(blocks, lengths, strict=True):
        channels = block.conv.out_channels
        width = frames * channels
        weight = _banded_filters(block.conv.weight[:, 0, :, 0].T, block.conv.bias, frames, dtype)
        mask = _complements(block.bn, channels, dtype).repeat(frames)
        offset = before - (length - 1) // 2
        inputs = frames + length - 1
        rows = series[:, :, offset:].as_strided(
            (batch, freq, row_blocks, inputs), (s0, s1, frames * s2, s2)
        )
        step = max(1, _RESULT_VALUES // (row_blocks * width))  # frequencies per product
        columns = _operand_rows(step * row_blocks, inputs, dtype)
        product = _filter_product(weight, step * row_blocks)
        partial = torch.empty(row_blocks, width, dtype=mask.dtype)
        extreme = torch.empty(batch, row_blocks, width, dtype=dtype)
        keys = extreme.view(mask.dtype)
        for b in range(batch):
            for f in range(0, freq, step):
                n = min(step, freq - f)
                cols = columns[: n * row_blocks]
                cols[:, :-1].view(n, row_blocks, inputs).copy_(rows[b, f : f + n])
                out = product(cols).view(mask.dtype)
                out = out.bitwise_xor_(mask).view(n, row_blocks, width)
                if f == 0:
                    torch.amax(out, dim=0, out=keys[b])
                else:
                    torch.maximum(keys[b], torch.amax(out, dim=0, out=partial), out=keys[b])
        keys.bitwise_xor_(mask)
        pooled = extreme.view(batch, row_blocks * frames, channels)[:, :time]
        outputs.append(_relu_bn(pooled, block.bn))
    return outputs


def _lowered_conv1d_relu_bn(block, frames, dtype):
    """A mid-end block (1-D convolution over time, "same", ReLU, batch norm), channel last.

    The convolution is a sum of ``kernel`` products of time-shifted views:
    the windows laid end to end, padded, give one long matrix whose rows
    ``r + k`` feed output row ``r``; the rows that straddle two windows are
    computed and dropped (6 of 193 for a 187-frame window).

    Parameters
    ----------
    block : _ConvReLUNorm
        Of a ``Conv1d`` with an odd kernel.
    frames : Tensor of float32, shape (batch, time, in_channels)
    dtype : torch.dtype

    Returns
    -------
    out : Tensor of float32, shape (batch, time, out_channels)
    """
    conv = block.conv
    kernel = conv.kernel_size[0]
    batch, time, _ = frames.shape
    padded = F.pad(frames, (0, 0, kernel // 2, kernel // 2)).to(dtype).flatten(0, 1)
    weight = conv.weight.to(dtype)  # (out, in, kernel)
    n_rows = padded.shape[0] - kernel + 1
    out = torch.mm(padded[:n_rows], weight[:, :, 0].T)
    for k in range(1, kernel):
        out.addmm_(padded[k : k + n_rows], weight[:, :, k].T)
    out = F.pad(out, (0, 0, 0, kernel - 1)).view(batch, time + kernel - 1, -1)[:, :time]
    return _relu_bn(out, block.bn, sign=torch.ones_like(conv.bias), bias=conv.bias)


def _max_pool_channel_last(maps, pool, stride):
    """``F.max_pool2d`` of channel-last maps, as elementwise maxima of strided views.

    torch's pooling of a channel-last view costs more here than the
    convolution before it; the maximum of ``kh * kw`` strided views keeps the
    channels contiguous and vectorised.

    Parameters
    ----------
    maps : Tensor, shape (batch, height, width, channels)
    pool, stride : tuple of int
        Window and stride (height, width); no padding, floor mode.

    Returns
    -------
    pooled : Tensor, shape (batch, height', width', channels)
    """
    (kh, kw), (sh, sw) = pool, stride
    height = (maps.shape[1] - kh) // sh + 1
    width = (maps.shape[2] - kw) // sw + 1
    views = [
        maps[:, i : i + (height - 1) * sh + 1 : sh, j : j + (width - 1) * sw + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    pooled = views[0].clone() if len(views) == 1 else torch.maximum(views[0], views[1])
    for view in views[2:]:
        torch.maximum(pooled, view, out=pooled)
    return pooled


def _lowered_first_vgg_block(block, image, pool, stride, dtype, *, out_dtype=torch.float32):
    """The VGG's first block (3 x 3 convolution of one channel, "same") and its max pooling.

    A pooling window one band wide with a frequency stride reads only every
    ``stride``-th band of the map (every other one for musicnn's 4 x 1
    pooling, stride 2 x 2), so only those bands are computed.

    Parameters
    ----------
    block : _ConvReLUNorm
    image : Tensor of float32, shape (batch, time, freq)
    pool, stride : tuple of int
        The max pooling after it (time, frequency).
    dtype : torch.dtype

    Returns
    -------
    pooled : Tensor of float32, shape (batch, time', freq', channels)
        Batch-normalised ReLU of the pooled maps, channel last.
    """
    conv = block.conv
    channels, _, kh, kw = conv.weight.shape
    sign = _signs(block.bn)
    weight = (conv.weight[:, 0] * sign[:, None, None]).reshape(channels, kh * kw).T.to(dtype)
    padded = F.pad(image, (kw // 2, kw // 2, kh // 2, kh // 2)).to(dtype).contiguous()
    batch, time, freq = image.shape
    (pool_t, pool_f), (stride_t, stride_f) = pool, stride
    out_t, out_f = (time - pool_t) // stride_t + 1, (freq - pool_f) // stride_f + 1
    time = (out_t - 1) * stride_t + pool_t  # the rows the pooling reads
    if pool_f == 1:  # the bands it reads
        freq, band_step, pool, stride = out_f, stride_f, (pool_t, 1), (stride_t, 1)
    else:
        band_step = 1
    s0, s1, s2 = padded.stride()
    patches = padded.as_strided((batch, time, freq, kh, kw), (s0, s1, band_step * s2, s1, s2))
    columns = torch.empty(time * freq, kh * kw, dtype=dtype)
    product = torch.empty(time * freq, channels, dtype=dtype)
    extreme = torch.empty(batch, out_t, out_f, channels, dtype=dtype)
    for b in range(batch):
        columns.view(time, freq, kh, kw).copy_(patches[b])
        maps = torch.mm(columns, weight, out=product).view(1, time, freq, channels)
        extreme[b] = _max_pool_channel_last(maps, pool, stride)[0]
    return _relu_bn(extreme, block.bn, sign=sign, bias=conv.bias, dtype=out_dtype)


def _lowered_vgg_block(block, hidden, pool, stride, dtype, *, out_dtype=torch.float32):
    """A 3 x 3 convolution of ``channels`` maps ("same"), pooled, then ReLU and batch norm.

    oneDNN's direct convolution on channel-last maps runs at the matrix
    products' rate here (100-110 GFLOP/s in float32, 200-225 in bfloat16 on
    one core); the ReLU and batch norm run on the pooled maps only.

    Parameters
    ----------
    block : _ConvReLUNorm
    hidden : Tensor of float32, shape (batch, time, freq, channels)
    pool, stride : tuple of int
    dtype : torch.dtype

    Returns
    -------
    pooled : Tensor of float32, shape (batch, time', freq', channels)
    """
    conv = block.conv
    sign = _signs(block.bn)
    weight = (conv.weight * sign[:, None, None, None]).to(dtype)
    weight = weight.contiguous(memory_format=torch.channels_last)
    maps = F.conv2d(hidden.to(dtype).permute(0, 3, 1, 2), weight, padding=conv.padding)
    extreme = _max_pool_channel_last(maps.permute(0, 2, 3, 1), pool, stride)
    return _relu_bn(extreme, block.bn, sign=sign, bias=conv.bias, dtype=out_dtype)


def _check_precision(precision):
    """The operand dtype of ``precision``, one of :attr:`_Tagger.precisions`."""
    return PRECISIONS[check_choice("precision", precision, _Tagger.precisions)]


class _Tagger(nn.Module):
    """A tagging network whose ``extract(x, layer)`` returns any of its layers."""

    #: The values of ``extract``'s ``precision``: the operands of its products (float32 sums).
    precisions = ("float32", "bfloat16")

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

    def _lowered_frame_features(self, x, dtype):
        """``_frame_features`` as matrix products (eval, no grad, CPU), channel last.

        Returns
        -------
        frames : Tensor of float32, shape (batch, n_frames, 753)
        """
        _check_patches(x, self.n_mels)
        image = self.input_bn(x.transpose(1, 2).unsqueeze(1))[:, 0]  # (batch, time, freq)
        timbral_input = F.pad(image, (0, 0, 3, 3)).to(dtype)
        features = [
            _lowered_max_over_frequency(block, timbral_input, dtype) for block in self.timbral
        ]
        features += _lowered_temporal(self.temporal, image, dtype)
        outputs = [torch.cat(features, dim=2)]  # (batch, time, 561)
        hidden = _lowered_conv1d_relu_bn(self.midend[0], outputs[0], dtype)
        outputs.append(hidden)
        for block in self.midend[1:]:
            hidden = _lowered_conv1d_relu_bn(block, hidden, dtype).add_(hidden)
            outputs.append(hidden)
        return torch.cat(outputs, dim=2)

    def extract(self, x, layer="taggram", *, precision="float32"):
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

        precision : {"float32", "bfloat16"}, default="float32"
            Operands of the convolutions (the front and mid end; the dense
            layers stay in float32). bfloat16 keeps 8 significant bits, so
            each product's operands are rounded by up to 2**-9 relative; the
            sums are float32. In inference without gradients on a CPU the
            convolutions run as blocked matrix products (oneDNN's direct
            convolution for the VGG's 128-map layers); elsewhere as
            convolutions, under ``torch.autocast`` for bfloat16.

        Returns
        -------
        activations : Tensor of float32, shape (batch, layer_widths[layer]), or a tuple of them
            A tuple, in the order asked, when ``layer`` is a sequence.
        """
        names = _check_layers(layer, self.layer_widths)
        dtype = _check_precision(precision)
        if _lowers(self, x):
            frames = self._lowered_frame_features(x, dtype).transpose(1, 2)
        else:
            with autocast(precision, x.device):
                frames = self._frame_features(x)
            frames = frames.float()
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

    def extract(self, x, layer="taggram", *, precision="float32"):
        """Named layers' activations, from one pass.

        Parameters
        ----------
        x : Tensor, shape (batch, n_mels, n_frames)
            Log-mel patches.
        layer : str or sequence of str, default="taggram"
            Any of ``"taggram"`` (the tag probabilities, sigmoid of the
            logits), ``"logits"`` and ``"pool5"`` (the last pooling,
            flattened time first, then maps).

        precision : {"float32", "bfloat16"}, default="float32"
            Operands of the convolutions (the front and mid end; the dense
            layers stay in float32). bfloat16 keeps 8 significant bits, so
            each product's operands are rounded by up to 2**-9 relative; the
            sums are float32. In inference without gradients on a CPU the
            convolutions run as blocked matrix products (oneDNN's direct
            convolution for the VGG's 128-map layers); elsewhere as
            convolutions, under ``torch.autocast`` for bfloat16.

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
        dtype = _check_precision(precision)
        hidden = self.input_bn(x.transpose(1, 2).unsqueeze(1))  # (batch, 1, time, freq)
        if _lowers(self, x):
            (pool, stride), *pools = self.POOLS
            hidden = _lowered_first_vgg_block(
                self.blocks[0], hidden[:, 0], pool, stride, dtype, out_dtype=dtype
            )
            for i, (pool, stride) in enumerate(pools, start=1):
                out_dtype = dtype if i < len(pools) else torch.float32
                hidden = _lowered_vgg_block(
                    self.blocks[i], hidden, pool, stride, dtype, out_dtype=out_dtype
                )
            pool5 = hidden.flatten(1)  # channel last: TF's (time, freq, maps) order
        else:
            with autocast(precision, x.device):
                for block, (pool, stride) in zip(self.blocks, self.POOLS, strict=True):
                    hidden = F.max_pool2d(block(hidden), pool, stride)
            pool5 = hidden.permute(0, 2, 3, 1).flatten(1).float()  # TF's (time, freq, maps)
        out = {"pool5": pool5}
        if {"logits", "taggram"} & set(names):
            out["logits"] = self.output(out["pool5"])
            out["taggram"] = torch.sigmoid(out["logits"])
        return out[layer] if isinstance(layer, str) else tuple(out[name] for name in names)
