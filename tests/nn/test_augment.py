"""SpecAugment masks."""

import numpy as np
import pytest
import torch

from skfma.exceptions import ParameterError
from skfma.nn import SpecAugment


def test_identity_in_eval_mode():
    x = torch.randn(4, 1, 32, 48)
    assert torch.equal(SpecAugment(freq_mask=8, time_mask=10).eval()(x), x)


def test_masks_are_whole_bands_and_spans_filled_with_the_mean():
    torch.manual_seed(0)
    x = torch.randn(16, 1, 32, 48)
    out = SpecAugment(freq_mask=6, time_mask=8, n_masks=1).train()(x)
    changed = out != x
    assert changed.any()
    for i in range(16):
        mean = x[i].mean()
        assert torch.allclose(out[i][changed[i]], mean.expand(int(changed[i].sum())))
        cells = changed[i, 0]
        rows = cells.all(dim=1)  # frequency bands: whole rows
        cols = cells.all(dim=0)  # time spans: whole columns
        assert torch.equal(cells, rows[:, None] | cols[None, :])
        assert int(rows.sum()) <= 6 and int(cols.sum()) <= 8


def test_a_constant_fill_as_the_milano_bicocca_report():
    torch.manual_seed(0)
    x = torch.randn(8, 1, 32, 48) - 40.0  # decibels, far from 0
    out = SpecAugment(freq_mask=6, time_mask=8, n_masks=1, fill=0.0).train()(x)
    changed = out != x
    assert changed.any() and torch.equal(out[changed], torch.zeros(int(changed.sum())))
    assert "fill=0.0" in repr(SpecAugment(fill=0.0))


def test_p_bounds_the_time_masks():
    torch.manual_seed(0)
    x = torch.randn(64, 20, 40)
    out = SpecAugment(freq_mask=0, time_mask=40, n_masks=1, p=0.1).train()(x)
    spans = (out != x).all(dim=1).sum(dim=1)
    assert int(spans.max()) <= 4 and int(spans.max()) > 0


def test_examples_get_independent_masks():
    torch.manual_seed(0)
    x = torch.randn(8, 1, 32, 32).expand(8, 1, 32, 32).clone()
    x[:] = x[0]
    out = SpecAugment(freq_mask=10, time_mask=10).train()(x)
    assert not all(torch.equal(out[0], out[i]) for i in range(1, 8))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"freq_mask": -1}, "freq_mask"),
        ({"n_masks": 1.5}, "n_masks"),
        ({"p": 2.0}, "p"),
        ({"fill": "median"}, "fill"),
        ({"fill": float("nan")}, "fill"),
    ],
)
def test_invalid_arguments(kwargs, name):
    with pytest.raises(ParameterError, match=name):
        SpecAugment(**kwargs)


def test_needs_spectrogram_batches():
    with pytest.raises(ValueError, match="spectrograms"):
        SpecAugment().train()(torch.randn(4, 10))


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_a_numpy_array_is_refused_naming_the_tensor_it_takes(mode):
    augment = getattr(SpecAugment(), mode)()
    with pytest.raises(
        TypeError, match=r"^SpecAugment takes x as a torch\.Tensor .*numpy\.ndarray"
    ):
        augment(np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(TypeError, match=r"got builtins\.list\.$"):
        augment([[[0.0]]])
