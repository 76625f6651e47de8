"""Spectrograms to ImageNet-normalised images (torch functions)."""

import numpy as np
import torch
import torch.nn.functional as F

from ..exceptions import ParameterError
from ..utils import check_sizes, names_its_errors

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "IMAGE_SIZE", "spectrograms_to_images"]

#: Per-channel (red, green, blue) mean and standard deviation of ImageNet, as torchvision's
#: pretrained classifiers expect after scaling pixels to [0, 1].
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Height and width of the images given to the networks, in pixels.
IMAGE_SIZE = (224, 224)


@names_its_errors
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
    if not isinstance(spectrograms, torch.Tensor) or not spectrograms.is_floating_point():
        what = type(spectrograms).__name__
        if isinstance(spectrograms, torch.Tensor | np.ndarray):
            what = f"{what} of {spectrograms.dtype} of shape {tuple(spectrograms.shape)}"
        raise TypeError(
            "spectrograms_to_images: spectrograms must be a floating-point torch.Tensor of "
            f"shape (n_clips, n_bins, n_frames); got {what}"
            + (
                " (convert it with torch.from_numpy)."
                if isinstance(spectrograms, np.ndarray)
                else "."
            )
        )
    if spectrograms.dim() != 3 or 0 in spectrograms.shape[1:]:
        raise ValueError(
            "spectrograms_to_images: spectrograms must have shape (n_clips, n_bins, n_frames) "
            f"with at least one bin and frame; got shape {tuple(spectrograms.shape)}."
        )
    sizes = tuple(size) if isinstance(size, list | tuple) else None
    if sizes is None or len(sizes) != 2:
        raise ParameterError(f"size must be (height, width) in pixels; got {size!r}.")
    size = check_sizes("size", sizes)
    low = spectrograms.amin(dim=(1, 2), keepdim=True)
    span = spectrograms.amax(dim=(1, 2), keepdim=True) - low
    scaled = (spectrograms - low) / torch.where(span > 0, span, torch.ones_like(span))
    gray = F.interpolate(
        scaled.flip(1)[:, None], size=size, mode="bilinear", align_corners=False, antialias=True
    )
    mean = torch.tensor(IMAGENET_MEAN, dtype=gray.dtype, device=gray.device)[:, None, None]
    std = torch.tensor(IMAGENET_STD, dtype=gray.dtype, device=gray.device)[:, None, None]
    return (gray - mean) / std
