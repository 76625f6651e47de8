"""Spectrograms to ImageNet-normalised images (torch functions)."""

import torch
import torch.nn.functional as F

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "IMAGE_SIZE", "spectrograms_to_images"]

#: Per-channel (red, green, blue) mean and standard deviation of ImageNet, as torchvision's
#: pretrained classifiers expect after scaling pixels to [0, 1].
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Height and width of the images given to the networks, in pixels.
IMAGE_SIZE = (224, 224)


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
