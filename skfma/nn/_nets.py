"""Published FMA architectures as plain torch modules.

Every argument is keyword-only with a default. ``input_shape`` and
``n_classes`` are sized from the data by :class:`skfma.models.NeuralClassifier`;
the modules return logits (no softmax), shape ``(batch, n_classes)``.

Image nets take batches of shape ``(batch, channels, n_bins, n_frames)``; a
``(batch, n_features)`` batch is read as one-channel images of ``n_features``
bins and one frame. Kernels and pooling windows larger than the feature map
they meet are shrunk to its size, so that a net builds for any input size; on
inputs large enough (e.g. 128 x 128) the architectures are exactly the
published ones.
"""

import math

from torch import nn

from ..exceptions import ParameterError
from ..utils import (
    check_bool,
    check_choice,
    check_dropout,
    check_int,
    check_sizes,
    is_int,
    names_its_errors,
)
from ._dropout import Dropout
from ._norm_pool import NormPoolSequential

__all__ = ["DNNModule", "KostrzewaCNNModule", "UNetEncoderCNNModule"]


def _image_shape(input_shape):
    """``(n_features,)``, ``(n_bins, n_frames)`` or ``(channels, n_bins, n_frames)`` -> 3-tuple."""
    shape = tuple(input_shape) if isinstance(input_shape, list | tuple) else ()
    if not (1 <= len(shape) <= 3) or not all(is_int(s) and s > 0 for s in shape):
        raise ParameterError(
            "input_shape must be (n_features,), (n_bins, n_frames) or "
            f"(channels, n_bins, n_frames) of positive ints; got {input_shape!r}."
        )
    shape = tuple(int(s) for s in shape)
    if len(shape) == 1:
        return (1, shape[0], 1)
    if len(shape) == 2:
        return (1, *shape)
    return shape


def _as_image(x, channels):
    """View a ``(batch, n_features)`` or ``(batch, n_bins, n_frames)`` batch as 4-D images."""
    if x.dim() == 2:
        return x[:, None, :, None]
    if x.dim() == 3 and channels == 1:
        return x[:, None]
    return x


def _pool(height, width):
    """2 x 2 max pooling, shrunk to ``(height, width)`` where the map is smaller.

    Returns
    -------
    pool : torch.nn.MaxPool2d
    height, width : int
        The size of the pooled map.
    """
    kernel = (min(2, height), min(2, width))
    return nn.MaxPool2d(kernel), height // kernel[0], width // kernel[1]


#: The hidden activations of DNNModule (leaky ReLU takes its negative_slope).
ACTIVATIONS = {"leaky_relu": nn.LeakyReLU, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class DNNModule(nn.Module):
    """Multi-layer perceptron for feature vectors (the "DNN" of FMA reports).

    Each hidden layer is linear, batch normalisation, the activation and
    dropout; a last linear layer gives the class logits. Inputs of any shape
    are flattened, so pooled features and small spectrograms both work. The
    FMA reports used sigmoid units (report 000, sections 6.1 and 8) and
    leaky ReLUs (section 7.1), and counted parameters without batch
    normalisation (report 001, Table 1): ``(512, 256)`` hidden units on the
    518 features and 8 classes make 399,112 parameters without it, 400,648
    with it.

    Parameters
    ----------
    input_shape : tuple of int, default=(518,)
        Shape of one example without the batch axis, e.g. ``(n_features,)``
        (518 for the FMA features) or ``(n_bins, n_frames)``.
    n_classes : int, default=8
        Number of outputs.
    hidden_layer_sizes : tuple of int, default=(512, 256)
        Width of each hidden layer.
    dropout : float, default=0.2
        Dropout probability after each hidden layer.
    negative_slope : float, default=0.01
        Slope of the leaky ReLU for negative inputs.
    activation : {"leaky_relu", "relu", "sigmoid", "tanh"}, default="leaky_relu"
        The hidden layers' non-linearity.
    batch_norm : bool, default=True
        Batch-normalise each hidden layer before its activation.

    Examples
    --------
    >>> import torch
    >>> from skfma.nn import DNNModule
    >>> DNNModule(input_shape=(518,), n_classes=8)(torch.randn(4, 518)).shape
    torch.Size([4, 8])
    """

    @names_its_errors
    def __init__(
        self,
        *,
        input_shape=(518,),
        n_classes=8,
        hidden_layer_sizes=(512, 256),
        dropout=0.2,
        negative_slope=0.01,
        activation="leaky_relu",
        batch_norm=True,
    ):
        super().__init__()
        hidden = check_sizes("hidden_layer_sizes", hidden_layer_sizes, allow_empty=True)
        dropout = check_dropout(dropout)
        check_choice("activation", activation, tuple(ACTIVATIONS))
        check_bool("batch_norm", batch_norm)
        n_features = math.prod(_image_shape(input_shape))
        self.input_shape = tuple(input_shape)
        self.n_features = n_features
        layers = [nn.Flatten()]
        for width_in, width_out in zip((n_features, *hidden), hidden, strict=False):
            layers.append(nn.Linear(width_in, width_out))
            if batch_norm:
                layers.append(nn.BatchNorm1d(width_out))
            layers.append(
                nn.LeakyReLU(negative_slope)
                if activation == "leaky_relu"
                else ACTIVATIONS[activation]()
            )
            if dropout:
                layers.append(Dropout(dropout))
        layers.append(
            nn.Linear(hidden[-1] if hidden else n_features, check_int("n_classes", n_classes))
        )
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        """Class logits.

        Parameters
        ----------
        x : Tensor, shape (batch, ...)
            Examples of shape ``input_shape``, flattened by the first layer.

        Returns
        -------
        logits : Tensor, shape (batch, n_classes)

        Raises
        ------
        ValueError
            If an example of ``x`` does not hold the ``prod(input_shape)``
            values the first layer was built for.
        """
        got = math.prod(x.shape[1:]) if x.dim() >= 2 else None
        if got != self.n_features:
            raise ValueError(
                f"DNNModule was built for examples of input_shape={self.input_shape} "
                f"({self.n_features} values each); got a batch of shape {tuple(x.shape)} ("
                + ("no batch axis)." if got is None else f"{got} values per example).")
            )
        return self.layers(x)


class _SpectrogramCNN(nn.Module):
    """A CNN over spectrogram images: ``layers`` applied to ``channels``-channel images."""

    def forward(self, x):
        """Class logits.

        Parameters
        ----------
        x : Tensor, shape (batch, channels, n_bins, n_frames)
            Also ``(batch, n_bins, n_frames)`` for one channel, or
            ``(batch, n_features)``.

        Returns
        -------
        logits : Tensor, shape (batch, n_classes)
        """
        return self.layers(_as_image(x, self.channels))


class KostrzewaCNNModule(_SpectrogramCNN):
    """The four-layer CNN of Kostrzewa et al. for mel spectrograms.

    Each convolution (no padding) is followed by ReLU, batch normalisation and
    2 x 2 max pooling; then dropout and one linear layer to the classes. With
    the defaults, a 1 x 128 x 128 input and 8 classes it has 735,944
    trainable parameters, the figure of the reference implementation.

    Parameters
    ----------
    input_shape : tuple of int, default=(1, 128, 128)
        ``(channels, n_bins, n_frames)`` of one example (``(n_bins, n_frames)``
        means one channel).
    n_classes : int, default=8
        Number of outputs.
    filters : tuple of int, default=(64, 64, 128, 128)
        Output channels of each convolution; its length is the number of
        convolutional layers.
    kernel_size : int, default=5
        Side of the square convolution kernels.
    dropout : float, default=0.2
        Dropout probability before the linear layer.

    References
    ----------
    .. [1] D. Kostrzewa, P. Kaminski, R. Brzeski, "Music Genre Classification:
       Looking for the Perfect Network", ICCS 2021.

    Examples
    --------
    >>> import torch
    >>> from skfma.nn import KostrzewaCNNModule
    >>> net = KostrzewaCNNModule()
    >>> sum(p.numel() for p in net.parameters() if p.requires_grad)
    735944
    >>> net(torch.randn(2, 1, 128, 128)).shape
    torch.Size([2, 8])
    """

    @names_its_errors
    def __init__(
        self,
        *,
        input_shape=(1, 128, 128),
        n_classes=8,
        filters=(64, 64, 128, 128),
        kernel_size=5,
        dropout=0.2,
    ):
        super().__init__()
        channels, height, width = _image_shape(input_shape)
        filters = check_sizes("filters", filters)
        kernel_size = check_int("kernel_size", kernel_size)
        self.channels = channels
        layers = []
        for n_out in filters:
            kernel = (min(kernel_size, height), min(kernel_size, width))
            height, width = height - kernel[0] + 1, width - kernel[1] + 1
            pool, height, width = _pool(height, width)
            layers += [
                nn.Conv2d(channels, n_out, kernel),
                nn.ReLU(),
                nn.BatchNorm2d(n_out),
                pool,
            ]
            channels = n_out
        layers += [
            Dropout(check_dropout(dropout)),
            nn.Flatten(),
            nn.Linear(channels * height * width, check_int("n_classes", n_classes)),
        ]
        self.layers = NormPoolSequential(*layers)


class UNetEncoderCNNModule(_SpectrogramCNN):
    """The encoder half of U-Net as a spectrogram classifier.

    Four double-convolution blocks (3 x 3 convolution with padding 1, batch
    normalisation and ReLU, twice), each followed by 2 x 2 max pooling and
    dropout; then a linear layer to the classes. Weights are initialised with
    Xavier (Glorot) uniform and biases with zeros.

    Each block pools before its second ReLU: ReLU is non-decreasing, so the
    maximum of its outputs is its output at the maximum, and the block
    computes U-Net's function, gradients included, with that ReLU on a map
    four times smaller. Training a net at 128 x 128, batch 42, one core,
    that made a step 1.09 times faster in bfloat16 and 1.02 times in float32
    (``benchmarks/README.md``).

    Parameters
    ----------
    input_shape : tuple of int, default=(1, 128, 128)
        ``(channels, n_bins, n_frames)`` of one example (``(n_bins, n_frames)``
        means one channel): 128 x 128 tiles in the reference work.
    n_classes : int, default=8
        Number of outputs.
    filters : tuple of int, default=(64, 128, 256, 512)
        Output channels of each block; its length is the number of blocks.
    dropout : float, default=0.2
        Dropout probability after each block.

    References
    ----------
    .. [1] O. Ronneberger, P. Fischer, T. Brox, "U-Net: Convolutional Networks
       for Biomedical Image Segmentation", MICCAI 2015.

    Examples
    --------
    >>> import torch
    >>> from skfma.nn import UNetEncoderCNNModule
    >>> net = UNetEncoderCNNModule(input_shape=(1, 64, 64), n_classes=4, filters=(8, 16, 32, 64))
    >>> net(torch.randn(2, 1, 64, 64)).shape
    torch.Size([2, 4])
    """

    @names_its_errors
    def __init__(
        self,
        *,
        input_shape=(1, 128, 128),
        n_classes=8,
        filters=(64, 128, 256, 512),
        dropout=0.2,
    ):
        super().__init__()
        channels, height, width = _image_shape(input_shape)
        filters = check_sizes("filters", filters)
        dropout = check_dropout(dropout)
        self.channels = channels
        layers = []
        for n_out in filters:
            pool, height, width = _pool(height, width)
            layers += [
                nn.Conv2d(channels, n_out, 3, padding=1),
                nn.BatchNorm2d(n_out),
                nn.ReLU(),
                nn.Conv2d(n_out, n_out, 3, padding=1),
                nn.BatchNorm2d(n_out),
                pool,  # then the ReLU: the same, on fewer values
                nn.ReLU(),
                Dropout(dropout),
            ]
            channels = n_out
        layers += [
            nn.Flatten(),
            nn.Linear(channels * height * width, check_int("n_classes", n_classes)),
        ]
        self.layers = NormPoolSequential(*layers)
        for layer in self.modules():
            if isinstance(layer, nn.Conv2d | nn.Linear):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
