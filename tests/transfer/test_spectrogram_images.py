"""spectrograms_to_images (skfma/transfer/_images.py): the inputs it refuses, and how.

Its images themselves are checked in test_pretrained.py, beside the networks they feed
(those tests need torchvision; these do not).
"""

import numpy as np
import pytest
import torch

from skfma.exceptions import ParameterError
from skfma.transfer import spectrograms_to_images

SHAPE = r"\(n_clips, n_bins, n_frames\)"


@pytest.mark.parametrize(
    ("spectrograms", "got"),
    [
        (np.zeros((2, 8, 8), np.float32), r"ndarray of float32 of shape \(2, 8, 8\) \(convert"),
        (np.zeros((4, 5)), r"ndarray of float64 of shape \(4, 5\) \(convert"),
        ([[[0.0]]], r"list\.$"),
        ("abc", r"str\.$"),
        (None, r"NoneType\.$"),
        (torch.zeros((2, 8, 8), dtype=torch.int64), r"Tensor of torch\.int64 of shape"),
    ],
    ids=["numpy-3d", "numpy-2d", "list", "str", "none", "int-tensor"],
)
def test_what_is_not_a_float_tensor_is_named_with_the_expected_shape(spectrograms, got):
    with pytest.raises(
        TypeError,
        match=rf"^spectrograms_to_images: spectrograms must be a floating-point torch\.Tensor "
        rf"of shape {SHAPE}; got {got}",
    ):
        spectrograms_to_images(spectrograms)


@pytest.mark.parametrize("shape", [(4, 5), (2, 1, 8, 8), (8,), (2, 0, 8), (2, 8, 0)])
def test_a_tensor_of_the_wrong_shape_is_named(shape):
    with pytest.raises(
        ValueError, match=rf"^spectrograms_to_images: spectrograms must have shape {SHAPE}"
    ):
        spectrograms_to_images(torch.zeros(shape))


@pytest.mark.parametrize("size", [None, 224, (224,), (0, 224), (224, 2.5), "ab"])
def test_a_bad_size_is_named(size):
    with pytest.raises(ParameterError, match=r"^spectrograms_to_images: size must be"):
        spectrograms_to_images(torch.zeros((1, 8, 8)), size=size)


def test_an_empty_batch_gives_no_images():
    assert spectrograms_to_images(torch.zeros((0, 8, 8)), size=(4, 4)).shape == (0, 3, 4, 4)
