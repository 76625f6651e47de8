"""autocast: the arithmetic of a ``precision``, on the device's autocast backend."""

import contextlib
import warnings

import pytest
import torch

from skfma.exceptions import ParameterError
from skfma.functional import autocast


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_a_cuda_device_autocasts_on_cuda(precision):
    """The CUDA path, built without a GPU: autocast's backend follows the device."""
    with warnings.catch_warnings():  # torch warns that CUDA is not available here
        warnings.simplefilter("ignore", UserWarning)
        context = autocast(precision, torch.device("cuda", 0))
    assert context.device == "cuda" and context.fast_dtype == getattr(torch, precision)
    assert isinstance(autocast("float32", "cuda"), contextlib.nullcontext)


@pytest.mark.parametrize("capability, refused", [((7, 5), True), ((8, 0), False)])
def test_bfloat16_is_refused_on_a_gpu_without_its_products(monkeypatch, capability, refused):
    """A T4 or V100 (7.x) would emulate bfloat16, or fail in cuBLAS without naming precision."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    with warnings.catch_warnings():  # torch warns that CUDA is not available here
        warnings.simplefilter("ignore", UserWarning)
        if refused:
            with pytest.raises(ParameterError, match=r"precision='bfloat16'.*cuda:1 has 7\.5"):
                autocast("bfloat16", "cuda:1")
        else:
            assert autocast("bfloat16", "cuda:1").fast_dtype == torch.bfloat16
        assert autocast("float16", "cuda:1").fast_dtype == torch.float16


def test_bfloat16_products_on_the_cpu_and_float32_left_alone():
    with autocast("bfloat16", "cpu"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with autocast("float32", "cpu"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
