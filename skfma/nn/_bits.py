"""Floats read as integers of the same width, for bitwise work on their values."""

import torch

#: Bytes of a value -> the signed integer type of that width.
_INTEGER_OF_WIDTH = {2: torch.int16, 4: torch.int32, 8: torch.int64}


def same_width_integer(dtype):
    """The signed integer type as wide as ``dtype`` (``tensor.view`` of it keeps the shape).

    Parameters
    ----------
    dtype : torch.dtype
        A 2-, 4- or 8-byte type, e.g. ``torch.bfloat16`` -> ``torch.int16``.

    Returns
    -------
    torch.dtype
    """
    return _INTEGER_OF_WIDTH[dtype.itemsize]
