"""The PretrainedCNNFeatures transformer: spectrograms to cut-layer CNN activations."""

import functools
import hashlib
import math
import os

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._batching import map_batches
from ..base import check_spectrograms, validate_parameters
from ..exceptions import ParameterError
from ..utils import check_choice, check_positive, expand_path, names_its_errors, value_check
from ..utils._device import check_device, indexed_device
from ..utils._random import check_seed, torch_seed
from ._backbones import CUT_LAYERS, DEFAULT_LAYERS, cut_network, load_backbone
from ._images import spectrograms_to_images

__all__ = ["PretrainedCNNFeatures"]


#: Every cut layer of every backbone: what ``layer`` may name (the backbone's own, checked
#: with it).
ALL_LAYERS = tuple(dict.fromkeys(layer for layers in CUT_LAYERS.values() for layer in layers))


def _check_weights(weights):
    """Return ``weights`` as ``"imagenet"``, None or a path str; raise if it is none of them."""
    if weights is None or (isinstance(weights, str) and weights == "imagenet"):
        return weights
    if isinstance(weights, str | os.PathLike):
        path = expand_path("weights", weights)
        if os.path.isfile(path):
            return path
        raise ParameterError(f"weights: no state dict file at {path!r}.")
    raise ParameterError(
        f"weights must be 'imagenet', None or the path of a saved state dict; got {weights!r}."
    )


class PretrainedCNNFeatures(TransformerMixin, BaseEstimator):
    """Activations of a frozen ImageNet CNN cut at a named layer, one row per clip.

    Every spectrogram becomes an image as the transfer-learning papers on FMA
    do (:func:`~skfma.transfer.spectrograms_to_images`): scaled to [0, 1] per
    clip, low frequencies at the bottom, resized to 224 x 224 pixels (bilinear),
    three identical channels, ImageNet mean and standard deviation. The image
    goes through a torchvision network truncated after the cut layer (later
    layers are not computed) and the activations are flattened.

    The cut layers carry the Keras names of the papers:

    ==========  =======================  ======================  =========================
    backbone    layer                    output width            torchvision module
    ==========  =======================  ======================  =========================
    vgg16       ``block5_pool``          25088 (512 x 7 x 7)     ``features[30]``
    vgg16       ``fc1``                  4096                    ``classifier[1]`` (ReLU)
    vgg16       ``fc2`` (default)        4096                    ``classifier[4]`` (ReLU)
    resnet50    ``conv5_block1_2_relu``  25088 (512 x 7 x 7)     ``layer4[0]``, ReLU after
                                                                 ``bn2``
    resnet50    ``avg_pool`` (default)   2048                    ``avgpool``
    resnet18    ``avg_pool`` (default)   512                     ``avgpool``
    ==========  =======================  ======================  =========================

    Spatial layers are flattened channel first: column ``c * 49 + y * 7 + x``
    is channel ``c`` at row ``y`` (from the top, the high frequencies) and
    column ``x`` (time), whereas Keras flattens channel last.

    Parameters
    ----------
    backbone : {"resnet50", "vgg16", "resnet18"}, default="resnet50"
        The torchvision ImageNet classifier. ResNet18 is a small, fast one
        (a quarter of ResNet50's multiply-adds).
    layer : str or None, default=None
        The cut layer, one of the table above for ``backbone``; ``None`` takes
        the layer before the ImageNet classifier (``fc2`` or ``avg_pool``).
    weights : {"imagenet"}, str, os.PathLike or None, default="imagenet"
        ``"imagenet"``: torchvision's ``IMAGENET1K_V1`` weights, downloaded on
        the first fit to the torch cache (``torch.hub.get_dir()``, set by
        ``TORCH_HOME``). A path: a state dict of the whole torchvision model,
        saved with ``torch.save(model.state_dict(), path)`` and loaded with
        ``weights_only=True``; a file that is unreadable, empty, not a torch
        file (text, junk, truncated) or not such a state dict raises a
        :class:`~skfma.exceptions.ParameterError` naming it. ``None``: random weights drawn from
        ``random_state`` (for tests, or a random-features baseline).
    batch_size : int or None, default=None
        Images per forward pass. ``None`` picks 8 on a CPU and 64 on a GPU. On
        a CPU the batch size hardly changes the speed
        (``benchmarks/bench_transfer.py``), so the CPU choice bounds memory
        (VGG16's activations take several MB per image) rather than chasing
        speed.
    device : str or torch.device, default="cpu"
        Where the network runs, e.g. ``"cuda"``. The output is a NumPy array.
    random_state : int, RandomState instance or None, default=None
        Seed of the random weights when ``weights=None``; ignored otherwise.

    Attributes
    ----------
    backbone_ : str
        The backbone used.
    layer_ : str
        The cut layer used.
    output_shape_ : tuple of int
        Shape of one clip's activations before flattening, ``(channels, height,
        width)`` or ``(units,)``.
    n_features_out_ : int
        Number of output columns, the product of ``output_shape_``.
    n_features_in_ : int
        Number of bins (rows) of the spectrograms seen in ``fit``.

    See Also
    --------
    skfma.transfer.spectrograms_to_images : the image preparation.
    skfma.features.MelSpectrogram : log-mel spectrograms to feed this transformer.

    Notes
    -----
    The extractor is stateless: ``fit`` only loads the backbone (frozen, eval
    mode) and learns nothing from the data, and ``transform`` works unfitted
    too, so it can run inside :class:`~skfma.AudioFeatures`' workers.
    Inference runs in :func:`torch.inference_mode` batches; memory holds one
    batch of images and the output.

    The network is kept in a per-process cache, not in the extractor: a
    pickled extractor holds how to rebuild it (not the weights), and a
    process builds it on its first ``transform``, from torchvision's cache
    (``"imagenet"``), from the same file (checked by its SHA-256, which must
    not have changed) or from the same random seed.

    Examples
    --------
    >>> import numpy as np
    >>> from skfma.transfer import PretrainedCNNFeatures
    >>> X = np.random.default_rng(0).standard_normal((2, 128, 431)).astype(np.float32)
    >>> extractor = PretrainedCNNFeatures(backbone="resnet18", weights=None, random_state=0)
    >>> extractor.fit_transform(X).shape
    (2, 512)
    >>> extractor.get_feature_names_out()[:2]
    array(['resnet18_avg_pool_0', 'resnet18_avg_pool_1'], dtype=object)
    """

    def __init__(
        self,
        *,
        backbone="resnet50",
        layer=None,
        weights="imagenet",
        batch_size=None,
        device="cpu",
        random_state=None,
    ):
        self.backbone = backbone
        self.layer = layer
        self.weights = weights
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state

    @names_its_errors
    def fit(self, X, y=None):
        """Validate the parameters and load the truncated backbone; nothing is learnt.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins, n_frames)
            Spectrogram-like features, such as :class:`~skfma.MelSpectrogram`'s.
        y : None
            Ignored.

        Returns
        -------
        self : PretrainedCNNFeatures
        """
        backbone, layer, recipe = self._check_model()
        self._check_runtime_params()
        check_spectrograms(self, X, reset=True, dtype=(np.float32, np.float64))
        self._network(backbone, layer, recipe, indexed_device(self.device))  # load it now
        # How to rebuild the network in another process or after unpickling.
        self._weights_recipe = recipe
        self.backbone_ = self.backbone
        self.layer_ = layer
        self.output_shape_ = CUT_LAYERS[self.backbone][layer]
        self.n_features_out_ = math.prod(self.output_shape_)
        return self

    @names_its_errors
    def transform(self, X):
        """Compute the cut layer's activations of every clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins, n_frames)
            Spectrogram-like features (float32 or float64) with the ``n_bins``
            seen in ``fit``; any number of frames.

        Returns
        -------
        features : ndarray of float32, shape (n_clips, n_features_out)
            The flattened activations, one row per clip, in order
            (``n_features_out_`` columns).
        """
        check_is_fitted(self)
        self._check_runtime_params()
        X = check_spectrograms(self, X, reset=False, dtype=(np.float32, np.float64))
        device = indexed_device(self.device)
        backbone, layer, recipe = self._model()  # once: it may checksum a weights file
        network = self._network(backbone, layer, recipe, device)
        batch_size = self.batch_size or (8 if device.type == "cpu" else 64)
        out = np.empty((X.shape[0], math.prod(CUT_LAYERS[backbone][layer])), dtype=np.float32)
        return map_batches(
            lambda batch: network(spectrograms_to_images(batch)).flatten(1),
            X,
            out,
            batch_size=batch_size,
            device=device,
        )

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``{backbone}_{layer}_{unit}`` or ``..._c{c}_y{y}_x{x}``.

        Parameters
        ----------
        input_features : None
            Ignored (the input is 3-D and has no column names).

        Returns
        -------
        feature_names_out : ndarray of str objects, shape (n_features_out,)
            One name per column of :meth:`transform`'s output.
        """
        if hasattr(self, "layer_"):
            backbone, layer = self.backbone_, self.layer_
        else:  # it need not be fitted (requires_fit is False): the names of its parameters
            backbone, layer = self._backbone_and_layer()
        prefix = f"{backbone}_{layer}"
        shape = CUT_LAYERS[backbone][layer]
        if len(shape) == 1:
            names = [f"{prefix}_{unit}" for unit in range(shape[0])]
        else:
            channels, height, width = shape
            names = [
                f"{prefix}_c{c}_y{y}_x{x}"
                for c in range(channels)
                for y in range(height)
                for x in range(width)
            ]
        return np.asarray(names, dtype=object)

    _parameter_checks = {
        "backbone": functools.partial(check_choice, choices=tuple(CUT_LAYERS)),
        "layer": lambda name, layer: layer is None or check_choice(name, layer, ALL_LAYERS),
        "weights": lambda name, weights: _check_weights(weights),
        "batch_size": functools.partial(check_positive, integer=True, allow_none=True),
        "device": value_check(check_device),
        "random_state": value_check(check_seed),
    }

    def _check_runtime_params(self):
        """The parameters that a fitted extractor still reads when it transforms."""
        validate_parameters(self, ("batch_size", "device"))

    def _backbone_and_layer(self):
        """The backbone and the cut layer, checked (``layer=None``: the backbone's default)."""
        validate_parameters(self)
        layer = DEFAULT_LAYERS[self.backbone] if self.layer is None else self.layer
        check_choice(
            f"layer (of backbone={self.backbone!r})", layer, tuple(CUT_LAYERS[self.backbone])
        )
        return self.backbone, layer

    def _check_model(self):
        """The backbone, the cut layer and the weights recipe ``(weights, seed, sha256)``."""
        backbone, layer = self._backbone_and_layer()
        weights = _check_weights(self.weights)
        sha256 = _sha256(weights) if weights not in (None, "imagenet") else None
        return backbone, layer, (weights, torch_seed(self.random_state), sha256)

    def _model(self):
        """``_check_model()``'s triple: the fitted one, or from the parameters when unfitted."""
        if hasattr(self, "layer_"):
            return self.backbone_, self.layer_, self._weights_recipe
        return self._check_model()

    @staticmethod
    def _network(backbone, layer, recipe, device):
        """The truncated network on ``device``, from this process's cache (built on first use)."""
        return _cut_network(backbone, layer, *recipe, _weights_identity(recipe[0]), device)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        # Random weights drawn anew at every fit: outputs no cache can key.
        tags.non_deterministic = self.weights is None and self.random_state is None
        return tags


@functools.lru_cache(maxsize=2)
def _cut_network(backbone, layer, weights, seed, sha256, identity, device):
    """The frozen network cut after ``layer`` on ``device``, built once per process and recipe.

    ``identity`` (a weights file's size and modification time, or the torch
    cache folder of the ImageNet weights) is part of the cache key, so that a
    file replaced since, or another torch cache, is read, and checked, again.
    """
    if sha256 is not None and (identity is None or _sha256(weights) != sha256):
        raise ParameterError(
            f"weights: the state dict file {weights!r} that this extractor was fitted "
            "with is missing or has changed since; fit it again."
        )
    return cut_network(load_backbone(backbone, weights=weights, seed=seed), backbone, layer).to(
        device
    )


def _weights_identity(weights):
    """Where the weights come from: the torch cache folder for ``"imagenet"``, a file's
    ``(size, mtime_ns)`` (None if it is missing), None for random weights."""
    if weights is None:
        return None
    if weights == "imagenet":
        return torch.hub.get_dir()
    try:
        stat = os.stat(weights)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _sha256(path):
    """SHA-256 of a weights file, or a ParameterError naming it if it cannot be read."""
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as error:
        raise ParameterError(f"weights: cannot read {path!r}: {error}") from error
