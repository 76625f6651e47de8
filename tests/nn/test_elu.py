"""ELU: torch's ELU in float32 with exp instead of expm1, and a backward pass from the output."""

import pytest
import torch
import torch.nn.functional as F

from skfma.nn import ELU, ChoiCRNNModule, ZhangResNetModule

#: exp rounds within an ulp of its result (below 1 for x <= 0) and subtracting 1 adds at most
#: half an ulp of 1: a few 2**-24 absolute; the rest of the range is exact or relative round-off.
FLOAT32 = {"rtol": 2**-22, "atol": 2**-22}


def values(dtype=torch.float32, shape=(4, 3, 16, 20)):
    """Normal values, scaled to reach the exponential's saturation, with zeros and extremes."""
    x = 4 * torch.randn(shape, generator=torch.Generator().manual_seed(0))
    x.view(-1)[:4] = torch.tensor([0.0, -0.0, -100.0, 1e-6])
    return x.to(dtype)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_values_and_gradients_are_torchs_elu(alpha):
    x = values().requires_grad_()
    reference = values().requires_grad_()
    y, want = ELU(alpha)(x), F.elu(reference, alpha)
    torch.testing.assert_close(y, want, **FLOAT32)
    grad = torch.randn_like(y)
    y.backward(grad)
    want.backward(grad)
    torch.testing.assert_close(x.grad, reference.grad, **FLOAT32)


def test_channels_last_is_kept():
    x = values().to(memory_format=torch.channels_last).requires_grad_()
    y = ELU()(x)
    assert y.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y, F.elu(x.detach()), **FLOAT32)
    y.backward(torch.ones_like(y))
    torch.testing.assert_close(x.grad, torch.where(x > 0, 1.0, x.detach().exp()), **FLOAT32)


@pytest.mark.parametrize(("dtype", "bits"), [(torch.bfloat16, 8), (torch.float16, 11)])
def test_reduced_precision_is_computed_in_float32_and_rounded(dtype, bits):
    x = values(dtype).requires_grad_()
    reference = x.detach().clone().requires_grad_()
    y, want = ELU()(x), F.elu(reference)
    assert y.dtype == dtype
    # Both round a float32 result once (an ulp apart at most, 2**(1 - bits) relative); the
    # float32 results differ by a few 2**-24 absolute (exp(x) - 1 against expm1(x)).
    torch.testing.assert_close(y, want, rtol=2.0 ** (1 - bits), atol=2**-22)
    grad = torch.randn_like(y)
    y.backward(grad)
    want.backward(grad)
    # The backward pass takes y + 1 from the rounded output: its error, half an ulp of 1
    # (2**-bits), times the gradient, besides the rounding of the product.
    bound = 2.0**-bits * grad.float().abs() + 2.0 ** (1 - bits) * reference.grad.float().abs()
    assert ((x.grad.float() - reference.grad.float()).abs() <= bound).all()


def test_in_place_is_torchs_elu():
    x = values()
    expected = F.elu(x)
    out = ELU(inplace=True)(x)
    assert out is x and torch.equal(out, expected)


def test_under_autocast_it_follows_the_input():
    x = values()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert ELU()(x).dtype == torch.float32
        assert ELU()(x.bfloat16()).dtype == torch.bfloat16


@pytest.mark.parametrize("module", [ChoiCRNNModule, ZhangResNetModule])
def test_the_nets_use_it(module):
    elus = [m for m in module().modules() if isinstance(m, torch.nn.ELU)]
    assert elus and all(type(m) is ELU for m in elus)
