"""ELU whose forward pass on a CPU costs a float32 exponential instead of ``expm1``."""

import torch
from torch import nn

__all__ = ["ELU"]


class ELU(nn.ELU):
    """``torch.nn.ELU``, faster on a CPU, forward and backward.

    torch's CPU ELU computes ``expm1`` and keeps its input for a backward
    pass that takes another exponential. Here the forward pass is
    ``alpha * (exp(min(x, 0)) - 1) + max(x, 0)`` with torch's ``exp``, in
    float32 (bfloat16 and float16 inputs are converted, and the output
    rounded to their type), and the backward pass uses the output,
    ``grad * (y + alpha)`` where ``x <= 0`` (torch's ``elu_backward`` on the
    result). ``exp(x) - 1`` differs from ``expm1(x)`` by at most about
    ``2**-23`` (an ulp of 1), float32 round-off of activations of order
    one. Forward and backward of a (16, 64, 96, 1366) float32 map on one
    core of the benchmarks' machine: 1.72 s with torch's ELU, 0.83 s with
    this one; a (50, 64, 1300) bfloat16 map: 41 ms with torch's, 12 ms with
    this one. torch's ``expm1`` (and so its ELU) runs several times faster
    once a bfloat16 ``tanh`` has run in the process, as in a bfloat16 GRU
    (the cause is not known, ``benchmarks/README.md``); torch's ELU is then
    the faster: 10.5 against 13.2 ms for that bfloat16 map, 0.31 against
    0.39 s for the float32 one. On other devices, or in place, it is
    torch's own.

    Parameters
    ----------
    alpha : float, default=1.0
        The negative saturation value, ``-alpha``; positive.
    inplace : bool, default=False
        Compute in place (torch's ELU then).

    Examples
    --------
    >>> import torch
    >>> from skfma.nn import ELU
    >>> ELU()(torch.tensor([-20.0, -1.0, 0.0, 2.0]))
    tensor([-1.0000, -0.6321,  0.0000,  2.0000])
    """

    def forward(self, x):
        """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

        Parameters
        ----------
        x : Tensor, any shape

        Returns
        -------
        Tensor, the dtype, shape and memory format of ``x``
        """
        if (
            self.inplace
            or x.device.type != "cpu"
            or x.dtype not in (torch.float32, torch.bfloat16, torch.float16)
            or self.alpha <= 0
        ):
            return super().forward(x)
        return _ExponentialLinear.apply(x, float(self.alpha))


class _ExponentialLinear(torch.autograd.Function):
    """The ELU's forward pass with ``exp`` in float32; its backward pass from the output."""

    @staticmethod
    def forward(ctx, x, alpha):
        x32 = x.float()  # x itself if float32
        y = torch.clamp_max(x32, 0.0).exp_().sub_(1.0)
        if alpha != 1.0:
            y.mul_(alpha)
        y = y.add_(torch.clamp_min(x32, 0.0)).to(x.dtype)
        ctx.alpha = alpha
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return torch.ops.aten.elu_backward(grad, ctx.alpha, 1.0, 1.0, True, y), None
