"""Transfer features: pretrained networks as feature extractors.

- :class:`MusicnnFeatures` and :func:`predict_musicnn_tags`: the music-tagging
  networks of musicnn, whose converted weights ship with skfma (torch only,
  nothing to download).
- :class:`PretrainedCNNFeatures`: activations of ImageNet CNNs cut at a named
  layer. It needs torchvision, the optional extra ``pip install
  "skfma[transfer]"``, imported when an extractor is fitted, never at
  ``import skfma``.
"""

from ._backbones import CUT_LAYERS
from ._images import spectrograms_to_images
from ._musicnn import MUSICNN_LAYERS, MUSICNN_TAGS, MusicnnFeatures, predict_musicnn_tags
from ._pretrained import PretrainedCNNFeatures

__all__ = [
    "CUT_LAYERS",
    "MUSICNN_LAYERS",
    "MUSICNN_TAGS",
    "MusicnnFeatures",
    "PretrainedCNNFeatures",
    "predict_musicnn_tags",
    "spectrograms_to_images",
]
