"""Batch normalisation then max pooling in training, with the pooling first."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair

__all__ = ["NormPoolSequential"]


class _BatchNormThenMaxPool(torch.autograd.Function):
    """``max_pool2d(batch_norm(x))`` in training mode, pooling ``x`` itself.

    Batch norm is, per channel, ``x * scale + shift`` with the batch's own
    statistics; where ``scale >= 0`` it is non-decreasing, so the maximum of
    its outputs over a window is its output at the window's maximum (where
    ``scale < 0``, at the minimum). So the forward pass reads the full map
    twice (the statistics, the pooling) and normalises the pooled map only,
    where ``batch_norm`` then ``max_pool2d`` read it three times and write a
    normalised copy, which autograd also keeps. The backward pass is
    theirs: the pooling's backward (to the element each window picked),
    then batch norm's, on the same full map.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps, kernel, ceil):
        mean, var = torch.batch_norm_update_stats(x, running_mean, running_var, momentum)
        flip = (weight < 0).any()
        if flip:  # the minimum where the scale is negative: the maximum of -x
            sign = torch.where(weight < 0, -1.0, 1.0).to(x.dtype)[:, None, None]
            pooled, picked = F.max_pool2d(x * sign, kernel, ceil_mode=ceil, return_indices=True)
            pooled = pooled * sign
        else:
            pooled, picked = F.max_pool2d(x, kernel, ceil_mode=ceil, return_indices=True)
        invstd = torch.rsqrt(var + eps)
        ctx.save_for_backward(x, picked, weight, mean, invstd)
        ctx.kernel, ctx.ceil, ctx.eps = kernel, ceil, eps
        # Evaluation mode's batch norm with the batch's statistics: the same affine map.
        return F.batch_norm(pooled, mean, var, weight, bias, False, 0.0, eps)

    @staticmethod
    def backward(ctx, grad):
        x, picked, weight, mean, invstd = ctx.saved_tensors
        grad_normed = torch.ops.aten.max_pool2d_with_indices_backward(
            grad.to(x.dtype), x, ctx.kernel, ctx.kernel, [0, 0], [1, 1], ctx.ceil, picked
        )
        grad_x, grad_weight, grad_bias = torch.ops.aten.native_batch_norm_backward(
            grad_normed, x, weight, None, None, mean, invstd, True, ctx.eps, [True, True, True]
        )
        return grad_x, grad_weight, grad_bias, None, None, None, None, None, None


def _fuses(norm, pool, x):
    """Whether ``pool(norm(x))`` may run as :class:`_BatchNormThenMaxPool`.

    Not where a hook would see the modules' calls (a forward or backward
    hook of theirs, or a global one): the fused step calls neither module.
    (Nor under ``torch.compile``, which :meth:`NormPoolSequential.forward`
    checks itself.) On a CPU only, where it was measured (other devices
    run the modules, cuDNN's batch norm on CUDA; the meta device has no
    kernel for the statistics). Not for input that ``norm`` itself rejects
    (a channel count other than its own, one value per channel, a
    non-positive ``eps``), so that its own error is raised before any
    running statistic changes (the fused statistics check none of these
    and would write past the buffers or divide by zero), nor for an empty
    batch or a batch norm without a bias.
    """
    return (
        type(norm) is nn.BatchNorm2d
        and type(pool) is nn.MaxPool2d
        and norm.training
        and norm.affine
        and norm.bias is not None
        and norm.track_running_stats
        and norm.eps > 0
        and not pool.return_indices
        and _pair(pool.stride) == _pair(pool.kernel_size)
        and _pair(pool.padding) == (0, 0)
        and _pair(pool.dilation) == (1, 1)
        and not _hooked(norm)
        and not _hooked(pool)
        and x.device.type == "cpu"
        and x.dim() == 4
        and x.shape[1] == norm.num_features
        and x.numel() > x.shape[1]
    )


def _hooked(module):
    """Whether calling ``module``, or back-propagating through it, runs a hook."""
    hooks = nn.modules.module
    return bool(
        module._forward_hooks
        or module._forward_pre_hooks
        or module._backward_hooks
        or module._backward_pre_hooks
        or hooks._global_forward_hooks
        or hooks._global_forward_pre_hooks
        or hooks._global_backward_hooks
        or hooks._global_backward_pre_hooks
    )


def _batch_norm_then_max_pool(norm, pool, x):
    """``pool(norm(x))`` for a training-mode ``BatchNorm2d`` and a ``MaxPool2d``.

    The running statistics and ``num_batches_tracked`` are updated as
    ``norm(x)`` updates them.
    """
    norm.num_batches_tracked.add_(1)
    if norm.momentum is None:  # a cumulative moving average
        momentum = 1.0 / float(norm.num_batches_tracked)
    else:
        momentum = norm.momentum
    return _BatchNormThenMaxPool.apply(
        x,
        norm.weight,
        norm.bias,
        norm.running_mean,
        norm.running_var,
        momentum,
        norm.eps,
        list(_pair(pool.kernel_size)),
        pool.ceil_mode,
    )


class NormPoolSequential(nn.Sequential):
    """``torch.nn.Sequential`` that, in training, pools before normalising where it may.

    Each ``BatchNorm2d`` directly followed by a ``MaxPool2d`` (stride equal
    to the window, no padding) runs, in training mode on a CPU, as one step that
    takes the statistics of the full map, pools the map itself and
    normalises the pooled map only (the maximum of a per-channel affine map
    is the map at the maximum, or at the minimum where the scale is
    negative). Same outputs and running statistics, one pass less over the
    full map in the forward pass and no normalised copy of it kept for the
    backward pass. KostrzewaCNN, UNetEncoderCNN and ChoiCRNN use it: on one
    core, their training ran up to 1.08 times as fast (1.00 for some nets
    and precisions), and a ChoiCRNN step at batch 16 peaked at 0.87 of the
    memory (``benchmarks/README.md``).

    The gradients are the modules' own except where a window's normalised
    values tie while its inputs do not: torch's pooling sends the gradient
    to the first of the tied elements, this step to the input's maximum.
    That happens for a channel whose weight is 0 (its output is constant)
    and, under ``torch.autocast`` to bfloat16, where nearby values round to
    the same bfloat16 (a few windows in a thousand for a normally
    distributed map and biases of a few units): there the gradient goes to
    another element of the window, whose output is the same.

    Elsewhere (evaluation mode, other devices, other modules, hooks) it is
    ``nn.Sequential``, with the same modules and ``state_dict``. In
    training mode its choice of path is Python control flow on the input,
    which ``torch.fx`` symbolic tracing and TorchScript cannot follow.
    """

    def forward(self, x):
        # Under torch.compile, the modules (inductor fuses them by itself). Checked here, not in
        # _fuses: Dynamo runs a call it cannot trace whole (as _fuses) eagerly, where
        # is_compiling() is False, and would then trace the fused step.
        if torch.compiler.is_compiling():
            return super().forward(x)
        modules = list(self)
        index = 0
        while index < len(modules):
            module = modules[index]
            following = modules[index + 1] if index + 1 < len(modules) else None
            if _fuses(module, following, x):
                x = _batch_norm_then_max_pool(module, following, x)
                index += 2
            else:
                x = module(x)
                index += 1
        return x
