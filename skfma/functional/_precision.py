"""The arithmetic of a computation, by name: ``"float32"``, ``"bfloat16"``, ``"float16"``."""

import contextlib
import functools

import torch

from ..exceptions import ParameterError
from ..utils import check_choice, validate_arguments

__all__ = ["PRECISIONS", "autocast"]

#: Each ``precision`` of skfma's nets and embeddings -> the dtype of its products' operands.
PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

#: The first CUDA compute capability with bfloat16 matrix products (Ampere); torch's autocast
#: would emulate them below it, or fail inside cuBLAS without naming ``precision``.
BFLOAT16_CUDA_CAPABILITY = (8, 0)


def _check_torch_device(name, value):
    """``value`` as a ``torch.device``, which need not exist on this machine."""
    try:
        return torch.device(value)
    except (RuntimeError, TypeError):
        raise ParameterError(
            f"{name} must be a torch device or its name, such as 'cpu' or 'cuda'; got {value!r}."
        ) from None


@validate_arguments(
    {
        "precision": functools.partial(check_choice, choices=tuple(PRECISIONS)),
        "device": _check_torch_device,
    }
)
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

    Raises
    ------
    ParameterError
        For ``"bfloat16"`` on a GPU older than compute capability 8.0.

    Examples
    --------
    >>> import torch
    >>> from skfma.functional import autocast
    >>> with autocast("bfloat16", "cpu"):
    ...     (torch.ones(2, 2) @ torch.ones(2, 2)).dtype
    torch.bfloat16
    """
    dtype = PRECISIONS[precision]
    if dtype == torch.float32:
        return contextlib.nullcontext()
    if dtype == torch.bfloat16 and device.type == "cuda" and torch.cuda.is_available():
        capability = torch.cuda.get_device_capability(device)
        if capability < BFLOAT16_CUDA_CAPABILITY:
            raise ParameterError(
                f"precision='bfloat16' needs a GPU of compute capability 8.0 or more (Ampere); "
                f"{device} has {capability[0]}.{capability[1]}: use precision='float16'."
            )
    return torch.autocast(device.type, dtype=dtype)
