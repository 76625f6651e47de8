"""Transfer features: activations of ImageNet CNNs cut at a named layer.

Needs torchvision, the optional extra ``pip install "skfma[transfer]"``; it is
imported when an extractor is fitted, never at ``import skfma``.
"""

from ._backbones import CUT_LAYERS
from ._images import spectrograms_to_images
from ._pretrained import PretrainedCNNFeatures

__all__ = ["CUT_LAYERS", "PretrainedCNNFeatures", "spectrograms_to_images"]
