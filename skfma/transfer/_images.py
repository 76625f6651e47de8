"""Spectrograms to ImageNet-normalised images (torch functions)."""

import numpy as np
import torch
import torch.nn.functional as F

from ..exceptions import ParameterError
from ..utils import check_sizes, validate_arguments

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "IMAGE_SIZE", "spectrograms_to_images"]

#: Per-channel (red, green, blue) mean and standard deviation of ImageNet, as torchvision's
#: pretrained classifiers expect after scaling pixels to [0, 1].
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Height and width of the images given to the networks, in pixels.
IMAGE_SIZE = (224, 224)


def _check_spectrograms(name, value):
    """A floating tensor (n_clips, n_bins, n_frames) with at least one bin and frame."""
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        what = type(value).__name__
        if isinstance(value, torch.Tensor | np.ndarray):
            what = f"{what} of {value.dtype} of shape {tuple(value.shape)}"
        advice = " (convert it with torch.from_numpy)" if isinstance(value, np.ndarray) else ""
        raise TypeError(
            f"spectrograms_to_images: {name} must be a floating-point torch.Tensor of shape "
            f"(n_clips, n_bins, n_frames); got {what}{advice}."
        )
    if value.dim() != 3 or 0 in value.shape[1:]:
        raise ValueError(
            f"spectrograms_to_images: {name} must have shape (n_clips, n_bins, n_frames) with "
            f"at least one bin and frame; got shape {tuple(value.shape)}."
        )
    return value


def _check_size(name, value):
    """``(height, width)`` in pixels, as a tuple of two positive ints."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ParameterError(f"{name} must be (height, width) in pixels; got {value!r}.")
    return check_sizes(name, value)


@validate_arguments({"spectrograms": _check_spectrograms, "size": _check_size})
def spectrograms_to_images(spectrograms, *, size=IMAGE_SIZE):
    """Turn spectrograms into normalised three-channel images for an ImageNet CNN.

    Each clip is min-max scaled to [0, 1] on its own (its lowest value becomes
    black, its highest white), flipped so that the first bin (the lowest
    frequency) is the bottom row, as a plotted spectrogram, resized to ``size``
    with antialiased bilinear interpolation, repeated on the three colour
    channels and normalised with the ImageNet mean and standard deviation.

    Parameters
    ----------
    spectrograms : torch.Tensor of shape (n_clips, n_bins, n_frames)
        Any spectrogram-like values (decibels, linear power, MFCCs).
    size : tuple of int, default=(224, 224)
        Height and width of the images in pixels.

    Returns
    -------
    images : torch.Tensor of shape (n_clips, 3, height, width)
        Same dtype and device as ``spectrograms``. A constant clip gives a
        uniform black image.

    Raises
    ------
    TypeError
        If ``spectrograms`` is not a floating-point torch tensor (a NumPy
        array included: convert it with ``torch.from_numpy``).
    ValueError
        If ``spectrograms`` is not 3-D with at least one bin and one frame.
    ParameterError
        If ``size`` is not two positive ints.

    Examples
    --------
    >>> import torch
    >>> from skfma.transfer import spectrograms_to_images
    >>> spectrograms_to_images(torch.rand(2, 128, 431)).shape
    torch.Size([2, 3, 224, 224])
    """
    low = spectrograms.amin(dim=(1, 2), keepdim=True)
    span = spectrograms.amax(dim=(1, 2), keepdim=True) - low
    scaled = (spectrograms - low) / torch.where(span > 0, span, torch.ones_like(span))
    gray = F.interpolate(
        scaled.flip(1)[:, None], size=size, mode="bilinear", align_corners=False, antialias=True
    )
    mean = torch.tensor(IMAGENET_MEAN, dtype=gray.dtype, device=gray.device)[:, None, None]
    std = torch.tensor(IMAGENET_STD, dtype=gray.dtype, device=gray.device)[:, None, None]
    return (gray - mean) / std
