"""Dropout: torch's inverted dropout, with a CPU mask drawn from 15 random bits per element."""

import math

import pytest
import torch

from skfma.nn import ChoiCRNNModule, Dropout, KostrzewaCNNModule, ZhangResNetModule


def dropped_fraction(p, n=1_000_000, seed=0):
    torch.manual_seed(seed)
    return float((Dropout(p)(torch.ones(n)) == 0).double().mean())


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5, 0.9])
def test_elements_are_dropped_with_probability_p(p):
    # Six standard deviations of the binomial fraction, plus the rounding of p to 2**-15.
    tolerance = 6 * math.sqrt(p * (1 - p) / 1_000_000) + 2**-16
    assert abs(dropped_fraction(p) - p) < tolerance


def test_kept_elements_are_scaled_and_the_gradient_follows_the_mask():
    torch.manual_seed(0)
    x = torch.randn(64, 300, requires_grad=True)
    y = Dropout(0.25)(x)
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept] / 0.75, rtol=2**-23, atol=0)
    y.sum().backward()
    torch.testing.assert_close(x.grad, kept.float() / 0.75, rtol=2**-23, atol=0)


def test_the_seed_decides_the_mask():
    x = torch.ones(10_000)
    masks = []
    for seed in (0, 0, 1):
        torch.manual_seed(seed)
        masks.append(Dropout(0.5)(x) == 0)
    assert torch.equal(masks[0], masks[1]) and not torch.equal(masks[0], masks[2])


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16, torch.float64])
def test_channels_last_maps_keep_their_layout_and_dtype(dtype):
    x = torch.randn(2, 3, 8, 10, dtype=dtype).to(memory_format=torch.channels_last)
    y = Dropout(0.3)(x)
    assert y.dtype == dtype and y.is_contiguous(memory_format=torch.channels_last)
    kept = y != 0
    torch.testing.assert_close(y[kept], (x[kept].float() / 0.7).to(dtype))


def test_what_it_does_not_draw_itself_is_torchs_dropout():
    x = torch.randn(40, 50)
    layer = Dropout(0.5).eval()
    assert torch.equal(layer(x), x)
    layer.train()
    strided = x.t()[::2]  # neither contiguous nor channels-last: torch's own
    torch.manual_seed(3)
    ours = layer(strided)
    torch.manual_seed(3)
    assert torch.equal(ours, torch.nn.functional.dropout(strided, 0.5))
    assert torch.equal(Dropout(0.0)(x), x) and not Dropout(1.0)(x).any()


@pytest.mark.parametrize("module", [KostrzewaCNNModule, ChoiCRNNModule, ZhangResNetModule])
def test_the_nets_use_it(module):
    dropouts = [m for m in module().modules() if isinstance(m, torch.nn.Dropout)]
    assert dropouts and all(type(m) is Dropout for m in dropouts)
