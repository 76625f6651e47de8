"""torchvision backbones: loading their weights and cutting them at a named layer."""

import os

import torch
from torch import nn

from ..exceptions import ParameterError
from ..utils._random import seeded_generators

__all__ = [
    "CUT_LAYERS",
    "DEFAULT_LAYERS",
    "import_torchvision",
    "load_backbone",
    "read_state_dict",
    "cut_network",
]

#: Cut layers of every backbone (Keras application layer names, as in the papers) -> the shape
#: of one clip's activations at 224 x 224 pixels, (channels, height, width) or (units,).
CUT_LAYERS = {
    "vgg16": {"block5_pool": (512, 7, 7), "fc1": (4096,), "fc2": (4096,)},
    "resnet50": {"conv5_block1_2_relu": (512, 7, 7), "avg_pool": (2048,)},
    "resnet18": {"avg_pool": (512,)},
}

#: The layer used when ``layer=None``: the one before the ImageNet classifier.
DEFAULT_LAYERS = {"vgg16": "fc2", "resnet50": "avg_pool", "resnet18": "avg_pool"}


def import_torchvision():
    """Import torchvision, or raise an ImportError that says how to install it."""
    try:
        import torchvision
    except ImportError as error:
        raise ImportError(
            'skfma.transfer needs torchvision, an optional extra: pip install "skfma[transfer]" '
            f"(or pip install torchvision matching your torch {torch.__version__})."
        ) from error
    return torchvision


def load_backbone(backbone, *, weights, seed):
    """Build a torchvision classifier with its weights, frozen and in eval mode.

    Parameters
    ----------
    backbone : str
        A key of ``CUT_LAYERS``, which is also torchvision's model name.
    weights : {"imagenet"}, str or None
        ``"imagenet"``: torchvision's ``IMAGENET1K_V1`` weights (downloaded once
        to the torch cache, ``torch.hub.get_dir()``). A path: a state dict saved
        with ``torch.save(model.state_dict(), path)``, loaded with
        ``weights_only=True``. ``None``: random initialisation from ``seed``.
    seed : int
        Seed of the random initialisation (used whatever ``weights`` is, so
        that the global torch random state is never touched).

    Returns
    -------
    network : torch.nn.Module
        The whole classifier, on the CPU.
    """
    models = import_torchvision().models
    with seeded_generators(seed):
        if weights == "imagenet":
            enum = models.get_model_weights(backbone).IMAGENET1K_V1
            try:
                network = models.get_model(backbone, weights=enum)
            except OSError as error:
                cache = os.path.join(torch.hub.get_dir(), "checkpoints")
                raise OSError(
                    f"Could not get torchvision's ImageNet weights of {backbone} from {enum.url} "
                    f"into {cache}: {error}. Without internet access, copy that file there, or "
                    "pass weights=PATH of a saved state dict."
                ) from error
        else:
            network = models.get_model(backbone, weights=None)
    if weights not in (None, "imagenet"):
        state_dict = read_state_dict(weights)
        try:
            network.load_state_dict(state_dict)
        except (RuntimeError, TypeError) as error:
            raise ParameterError(
                f"weights={weights!r} is not a state dict of torchvision's {backbone} (save one "
                f"with torch.save(model.state_dict(), path)): {error}"
            ) from error
    return network.eval().requires_grad_(False)


def read_state_dict(path):
    """Read a file saved with ``torch.save``, with ``weights_only=True``.

    Parameters
    ----------
    path : str
        The file.

    Returns
    -------
    state_dict : object
        What the file holds: tensors, in containers (a state dict, if the
        file is what it should be).

    Raises
    ------
    ParameterError
        Naming ``weights`` and the file, if it is empty or is not a torch file
        that holds only tensors (text, junk, truncated or corrupt data, or a
        pickle of other objects).
    """
    if os.path.getsize(path) == 0:
        raise ParameterError(f"weights: the state dict file {path!r} is empty.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        # Text, junk, truncated or corrupt files end in RuntimeError, OSError, EOFError,
        # KeyError, UnicodeDecodeError, AssertionError or an UnpicklingError, by where they break.
        detail = (str(error).strip().splitlines() or ["no detail"])[0]
        detail = detail if len(detail) <= 200 else detail[:200] + "..."
        raise ParameterError(
            f"weights: cannot read {path!r} as a torch state dict (save one with "
            f"torch.save(model.state_dict(), path)): {type(error).__name__}: {detail}"
        ) from error


def cut_network(network, backbone, layer):
    """The part of ``network`` that computes ``layer``'s activations, and nothing after it.

    The returned module shares its submodules (and weights) with ``network``.

    Parameters
    ----------
    network : torch.nn.Module
        A torchvision VGG or ResNet.
    backbone, layer : str
        The model name and a cut layer of ``CUT_LAYERS[backbone]``.

    Returns
    -------
    truncated : torch.nn.Module
        Maps ``(n, 3, 224, 224)`` images to ``(n, *CUT_LAYERS[backbone][layer])``.
    """
    if backbone.startswith("vgg"):
        if layer == "block5_pool":
            return network.features
        # classifier: Linear, ReLU (fc1), Dropout, Linear, ReLU (fc2), Dropout, Linear.
        head = network.classifier[: {"fc1": 2, "fc2": 5}[layer]]
        return nn.Sequential(network.features, network.avgpool, nn.Flatten(), head)
    stem = [network.conv1, network.bn1, network.relu, network.maxpool]
    stem += [network.layer1, network.layer2, network.layer3]
    if layer == "avg_pool":
        return nn.Sequential(*stem, network.layer4, network.avgpool, nn.Flatten())
    return nn.Sequential(*stem, _BottleneckHead(network.layer4[0]))


class _BottleneckHead(nn.Module):
    """A torchvision ``Bottleneck`` up to the ReLU after its second (3 x 3) convolution.

    That ReLU is Keras' ``conv5_block1_2_relu`` when the block is ``layer4[0]``.
    torchvision's ResNet50 (v1.5) strides the 3 x 3 convolution where Keras (v1)
    strides the first 1 x 1 one; both give 7 x 7 x 512 at 224 x 224 pixels.
    """

    def __init__(self, block):
        super().__init__()
        self.conv1, self.bn1 = block.conv1, block.bn1
        self.conv2, self.bn2 = block.conv2, block.bn2
        self.relu = block.relu

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(x)))
