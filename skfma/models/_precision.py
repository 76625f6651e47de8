"""Reduced-precision arithmetic for the nets: float32 outputs, channels-last memory.

The autocast context itself is :func:`skfma.functional.autocast`, shared with musicnn.
"""

import torch

__all__ = ["as_float32", "uses_channels_last"]


def as_float32(output):
    """A module's output in float32 (autocast leaves reduced-precision logits).

    The callers (losses recorded in the history, probabilities turned into
    NumPy arrays, which have no bfloat16) get float32 whatever the
    precision of the arithmetic.
    """
    if isinstance(output, torch.Tensor) and output.is_floating_point():
        return output.float()
    return output


def uses_channels_last(precision, input_shape):
    """Whether a net keeps channels-last memory: reduced precision on 2-D convolutions.

    oneDNN's (CPU) and cuDNN's (GPU) reduced-precision convolutions work on
    channels-last (NHWC) tensors; in NCHW, each convolution reorders its
    input and output (``benchmarks/README.md``). Float32 keeps PyTorch's
    default layout.

    Parameters
    ----------
    precision : str
        One of :data:`skfma.functional.PRECISIONS`.
    input_shape : tuple of int
        One module input without the batch axis: ``(channels, n_bins,
        n_frames)`` for the 2-D convolutional nets.
    """
    return precision != "float32" and len(input_shape) == 3
