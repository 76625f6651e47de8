"""Reduced-precision arithmetic for the nets: autocast, gradient scaling, channels-last memory."""

import contextlib

import torch

__all__ = ["PRECISIONS", "autocast", "as_float32", "uses_channels_last"]

#: The values of ``NeuralClassifier(precision=...)`` and the dtype autocast computes in.
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}


def autocast(precision, device):
    """The autocast context of ``precision`` on ``device`` (a no-op for float32).

    Parameters
    ----------
    precision : {"float32", "bfloat16", "float16"}
        Arithmetic of the matrix products and convolutions inside the block;
        the ops that need the range (losses, softmax, normalisation
        statistics) stay in float32, as torch's autocast decides.
    device : str or torch.device
        Where the block runs; its type picks the autocast backend.

    Returns
    -------
    context : context manager
    """
    dtype = PRECISIONS[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)


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
        One of :data:`PRECISIONS`.
    input_shape : tuple of int
        One module input without the batch axis: ``(channels, n_bins,
        n_frames)`` for the 2-D convolutional nets.
    """
    return precision != "float32" and len(input_shape) == 3
