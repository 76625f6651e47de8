"""Dropout whose mask, on a CPU, costs a quarter of a random draw per element."""

import torch
from torch import nn

__all__ = ["Dropout"]

#: Random bits that decide each element on a CPU: the drop probability is a multiple of
#: ``2**-MASK_BITS`` (so within ``2**-17`` of ``p``).
MASK_BITS = 16


class Dropout(nn.Dropout):
    """``torch.nn.Dropout``, with a mask drawn about 3.6 times faster on a CPU.

    torch's CPU dropout draws each element's Bernoulli variable on its own
    (``bernoulli_``, about 9 ns an element on one core: 7-13% of a training
    step of ChoiCRNN or ZhangResNet; ``benchmarks/README.md``).
    Here one 64-bit draw from torch's generator gives four elements 16 bits
    each, compared with a threshold: the same inverted dropout (an element is
    zeroed with probability ``p``, the others scaled by ``1 / (1 - p)``), with
    ``p`` rounded to a multiple of ``2**-16``. On other devices (CUDA's
    dropout is fused), in evaluation mode, in place, or for a tensor that is
    neither contiguous nor channels-last, it is torch's own.

    Parameters
    ----------
    p : float, default=0.5
        Probability of an element being zeroed.
    inplace : bool, default=False
        Zero in place (torch's dropout then).

    Examples
    --------
    >>> import torch
    >>> from skfma.nn import Dropout
    >>> _ = torch.manual_seed(0)
    >>> y = Dropout(0.25)(torch.ones(100_000))
    >>> round(float((y == 0).float().mean()), 2), round(float(y.max()), 4)
    (0.25, 1.3333)
    """

    def forward(self, x):
        """Zero each element with probability ``p`` and scale the others (training only).

        Parameters
        ----------
        x : Tensor, any shape

        Returns
        -------
        Tensor, the shape and memory format of ``x``
        """
        if (
            not self.training
            or self.inplace
            or x.device.type != "cpu"
            or self.p in (0, 1)
            or not _is_dense(x)
        ):
            return super().forward(x)
        levels = 2**MASK_BITS
        # Signed 16-bit lanes of full-range 64-bit words: uniform over [-2**15, 2**15).
        words = torch.empty((x.numel() + 3) // 4, dtype=torch.int64).random_(-(2**63), None)
        lanes = words.view(torch.int16)[: x.numel()].as_strided(x.shape, x.stride())
        keep = lanes >= round(self.p * levels) - levels // 2
        return torch.where(keep, x, 0.0).mul_(1.0 / (1.0 - self.p))


def _is_dense(x):
    """Whether ``x`` fills its storage in row-major or channels-last order (as_strided-safe)."""
    return x.is_contiguous() or (
        x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
    )
