"""Dropout whose mask, on a CPU, costs a quarter of a random draw per element."""

import torch
from torch import nn

from ._bits import same_width_integer

__all__ = ["Dropout"]

#: Random bits that decide each element on a CPU: the drop probability is a multiple of
#: ``2**-MASK_BITS`` (so within ``2**-16`` of ``p``).
MASK_BITS = 15


class Dropout(nn.Dropout):
    """``torch.nn.Dropout``, forward and backward 2.7-3.7 times as fast on a CPU.

    torch's CPU dropout draws each element's Bernoulli variable on its own
    (``bernoulli_``, about 9 ns an element on one core: 7-13% of a training
    step of ChoiCRNN or ZhangResNet; ``benchmarks/README.md``). Here one
    64-bit draw from torch's generator gives four elements 16 bits each, of
    which 15 decide, compared with a threshold by integer operations that
    build the mask in the input's own type (the bits of 1 where kept, 0
    where dropped): the input times the mask, times ``1 / (1 - p)``. The
    same inverted dropout (an element is zeroed with probability ``p``, the
    others scaled by ``1 / (1 - p)``), with ``p`` rounded to a multiple of
    ``2**-15``. A boolean mask would cost more than the draw: selecting by
    one (``torch.where``) runs at about 2 ns an element on a CPU, a product
    at a tenth of that, and the backward pass is a product too. One thread,
    a float32 or bfloat16 map of 5.5 million elements, forward and backward:
    18 or 13 ms, against 49 or 47 for torch's (``benchmarks/README.md``).
    On other devices (CUDA's dropout is fused), in evaluation mode, in
    place, or for a tensor that is neither contiguous nor channels-last, it
    is torch's own.

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
            or not x.is_floating_point()
            or not _is_dense(x)
        ):
            return super().forward(x)
        return (x * self._mask(x)).mul_(1.0 / (1.0 - self.p))

    def _mask(self, x):
        """1 where an element is kept, 0 where it is dropped: ``x``'s type and layout."""
        levels = 2**MASK_BITS
        words = torch.empty((x.numel() + 3) // 4, dtype=torch.int64).random_(-(2**63), None)
        # Signed 16-bit lanes of full-range 64-bit words, halved: uniform over [-2**14, 2**14),
        # so that their difference from a threshold in that range fits 16 bits.
        lanes = words.view(torch.int16)[: x.numel()].as_strided(x.shape, x.stride())
        margin = lanes.bitwise_right_shift(1).sub_(round(self.p * levels) - levels // 2)
        keep = margin.bitwise_right_shift_(15).bitwise_not_()  # every bit where margin >= 0
        bits = same_width_integer(x.dtype)
        one = torch.ones((), dtype=x.dtype).view(bits)
        return keep.to(bits).bitwise_and_(one).view(x.dtype)


def _is_dense(x):
    """Whether ``x`` fills its storage in row-major or channels-last order (as_strided-safe)."""
    return x.is_contiguous() or (
        x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
    )
