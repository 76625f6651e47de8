"""autocast: the arithmetic of a ``precision``, on the device's autocast backend."""

import contextlib
import warnings

import pytest
import torch

from skfma.functional import autocast


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_a_cuda_device_autocasts_on_cuda(precision):
    """The CUDA path, built without a GPU: autocast's backend follows the device."""
    with warnings.catch_warnings():  # torch warns that CUDA is not available here
        warnings.simplefilter("ignore", UserWarning)
        context = autocast(precision, torch.device("cuda", 0))
    assert context.device == "cuda" and context.fast_dtype == getattr(torch, precision)
    assert isinstance(autocast("float32", "cuda"), contextlib.nullcontext)


def test_bfloat16_products_on_the_cpu_and_float32_left_alone():
    with autocast("bfloat16", "cpu"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with autocast("float32", "cpu"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
