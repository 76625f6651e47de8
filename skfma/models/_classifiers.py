"""The published FMA networks as scikit-learn classifiers."""

from ..nn import DNNModule, KostrzewaCNNModule, UNetEncoderCNNModule
from ._callbacks import OneCycleSchedule
from ._neural import NeuralClassifier

__all__ = ["DNNClassifier", "KostrzewaCNN", "UNetEncoderCNN"]


class DNNClassifier(NeuralClassifier):
    """Feature MLP of the FMA coursework reports, for FMA features or pooled features.

    :class:`~skfma.nn.DNNModule` (hidden layers of 512 and 256 units, batch
    normalisation, leaky ReLU, dropout 0.2) trained with Adam (learning rate
    1e-4, batches of 32). Standardise the features first (``StandardScaler``).
    Hidden sizes and dropout are ``module__hidden_layer_sizes`` and
    ``module__dropout``.

    Parameters
    ----------
    module : torch.nn.Module class, default=DNNModule
        The network.
    lr : float, default=1e-4
        Adam's learning rate.
    max_epochs : int, default=100
        Passes over the training data.
    batch_size : int, default=32
        Clips per batch.
    segment_length : int or None, default=None
        Windows of spectrogram input (see :class:`NeuralClassifier`).
    criterion, optimizer, train_split, callbacks, segment_hop, n_segments, segment_aggregate, \
augment, iterator_train__shuffle, warm_start, random_state, verbose, device, precision, \
checkpoint, **kwargs
        As in :class:`NeuralClassifier`.

    Attributes
    ----------
    classes_, n_features_in_, input_shape_, multilabel_, module_, history_
        As in :class:`NeuralClassifier`.

    See Also
    --------
    NeuralClassifier, KostrzewaCNN, skfma.features.TemporalStatistics

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skfma import MelSpectrogram, TemporalStatistics
    >>> from skfma.models import DNNClassifier
    >>> pipe = make_pipeline(MelSpectrogram(n_mels=64), TemporalStatistics(), StandardScaler(),
    ...                      DNNClassifier(module__hidden_layer_sizes=(128,), random_state=0))
    """

    def __init__(
        self,
        *,
        module=DNNModule,
        lr=1e-4,
        max_epochs=100,
        **kwargs,
    ):
        super().__init__(
            module=module,
            lr=lr,
            max_epochs=max_epochs,
            **kwargs,
        )


class KostrzewaCNN(NeuralClassifier):
    """The four-layer CNN of Kostrzewa et al. on mel spectrograms.

    :class:`~skfma.nn.KostrzewaCNNModule`: four convolutions (64, 64, 128, 128
    kernels of 5 x 5), each followed by ReLU, batch normalisation and 2 x 2
    max pooling, dropout 0.2 and one linear layer (735,944 trainable
    parameters for 128 x 128 inputs and 8 genres). The tuned settings are
    ``module__filters``, ``module__kernel_size`` and ``module__dropout``.

    Parameters
    ----------
    module : torch.nn.Module class, default=KostrzewaCNNModule
        The network.
    lr : float, default=1e-3
        Adam's learning rate.
    max_epochs : int, default=30
        Passes over the training data.
    batch_size : int, default=32
        Clips (or windows) per batch.
    segment_length : int or None, default=None
        Train on windows of this many frames (e.g. 128) and predict a clip
        from its windows; ``None`` feeds whole clips.
    criterion, optimizer, train_split, callbacks, segment_hop, n_segments, segment_aggregate, \
augment, iterator_train__shuffle, warm_start, random_state, verbose, device, precision, \
checkpoint, **kwargs
        As in :class:`NeuralClassifier`.

    Attributes
    ----------
    classes_, n_features_in_, input_shape_, multilabel_, module_, history_
        As in :class:`NeuralClassifier`.

    See Also
    --------
    NeuralClassifier, UNetEncoderCNN, skfma.features.MelSpectrogram

    References
    ----------
    .. [1] D. Kostrzewa, P. Kaminski, R. Brzeski, "Music Genre Classification:
       Looking for the Perfect Network", ICCS 2021.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skfma import AudioLoader, KostrzewaCNN, MelSpectrogram
    >>> pipe = make_pipeline(AudioLoader(duration=29.7), MelSpectrogram(n_mels=128),
    ...                      KostrzewaCNN(segment_length=128, random_state=0))
    """

    def __init__(
        self,
        *,
        module=KostrzewaCNNModule,
        max_epochs=30,
        **kwargs,
    ):
        super().__init__(
            module=module,
            max_epochs=max_epochs,
            **kwargs,
        )


class UNetEncoderCNN(NeuralClassifier):
    """The encoder half of U-Net as a genre classifier, trained on spectrogram tiles.

    :class:`~skfma.nn.UNetEncoderCNNModule`: four double-convolution blocks (3 x 3
    convolution, batch normalisation and ReLU, twice), each followed by 2 x 2
    max pooling and dropout, then a linear layer; Xavier initialisation. It is
    trained on 128-frame tiles of each clip (``segment_length=128``; a clip's
    prediction averages its tiles) with Adam and a one-cycle learning-rate
    schedule peaking at ``lr`` (the ``one_cycle`` callback, a
    :class:`OneCycleSchedule`; ``callbacks__one_cycle=None`` turns it off).

    Parameters
    ----------
    module : torch.nn.Module class, default=UNetEncoderCNNModule
        The network.
    lr : float, default=1e-3
        Peak learning rate of the one-cycle schedule.
    max_epochs : int, default=30
        Passes over the training data (the length of the cycle).
    batch_size : int, default=42
        Tiles per batch.
    segment_length : int or None, default=128
        Tile length in frames; ``None`` feeds whole clips.
    criterion, optimizer, train_split, callbacks, segment_hop, n_segments, segment_aggregate, \
augment, iterator_train__shuffle, warm_start, random_state, verbose, device, precision, \
checkpoint, **kwargs
        As in :class:`NeuralClassifier`.

    Attributes
    ----------
    classes_, n_features_in_, input_shape_, multilabel_, module_, history_
        As in :class:`NeuralClassifier`.

    See Also
    --------
    NeuralClassifier, KostrzewaCNN, OneCycleSchedule

    References
    ----------
    .. [1] O. Ronneberger, P. Fischer, T. Brox, "U-Net: Convolutional Networks
       for Biomedical Image Segmentation", MICCAI 2015.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skfma import AudioLoader, MelSpectrogram
    >>> from skfma.models import UNetEncoderCNN
    >>> pipe = make_pipeline(AudioLoader(duration=29.7), MelSpectrogram(n_mels=128),
    ...                      UNetEncoderCNN(random_state=0))
    """

    def __init__(
        self,
        *,
        module=UNetEncoderCNNModule,
        max_epochs=30,
        batch_size=42,
        segment_length=128,
        **kwargs,
    ):
        super().__init__(
            module=module,
            max_epochs=max_epochs,
            batch_size=batch_size,
            segment_length=segment_length,
            **kwargs,
        )

    @property
    def _default_callbacks(self):
        return [*super()._default_callbacks, ("one_cycle", OneCycleSchedule())]
