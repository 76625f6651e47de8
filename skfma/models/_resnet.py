"""Zhang et al.'s residual CNN on raw audio, as a scikit-learn classifier."""

from ..nn import ZhangResNetModule
from ._neural import NeuralClassifier

__all__ = ["ZhangResNet"]


class ZhangResNet(NeuralClassifier):
    """The residual CNN of Zhang et al. on waveforms, their spectrogram, or both.

    :class:`~skfma.nn.ZhangResNetModule` takes raw waveforms (``AudioLoader``'s
    output) and computes its spectrogram inside (STFT magnitude, n_fft 2048
    with 50% overlap: 1025 bins, a frame every 1024 samples), so
    ``make_pipeline(AudioLoader(), ZhangResNet())`` needs nothing in
    between. ``module__input`` picks the first layer: ``"spectrogram"``,
    ``"waveform"`` (a strided 1-D convolution) or ``"both"`` (half of its
    maps from each); a residual block of two convolutions, global max and
    average pooling and three dense layers follow. Trained with Adam
    (learning rate 5e-4) in batches of 50.

    The reference cuts clips into segments of about 3 s with 50% overlap
    and sums a clip's segment probabilities: ``segment_length`` and
    ``segment_hop`` then count samples, e.g. ``segment_length=66150,
    segment_hop=33075`` at 22,050 Hz; ``segment_aggregate="sum"`` is the
    default (``predict_proba`` then returns summed scores; see
    :class:`NeuralClassifier`).

    Reproducing report 004: its first layer spans 4 frames without padding
    (256 maps of 974 frames from a ``(1025, 977)`` spectrogram, 128 + 128
    with ``module__input="both"``) and dropout 0.2 follows every layer but
    the last::

        ZhangResNet(
            module__first_kernel_size=4,
            module__dropout=0.2,
            module__conv_dropout=0.2,
            # segment_length=..., segment_hop=...: the report's windows, in samples
        )

    With a ``train_split``, the validation loss is that of each song's
    summed prediction, as the report computes it, not of its segments (see
    :meth:`NeuralClassifier.validation_step`).

    A window (a segment, or the whole clip when ``segment_length`` is None)
    of 999,424 to 1,000,447 samples makes the 977 frames. With
    ``module__first_kernel_size=k`` every window needs at least ``k`` frames,
    that is ``(k - 1) * 1024`` samples.

    Parameters
    ----------
    module : torch.nn.Module class, default=ZhangResNetModule
        The network; ``module__input``, ``module__n_fft``,
        ``module__filters``, ``module__first_kernel_size``,
        ``module__dropout``, ``module__conv_dropout``, ... configure it (see
        :class:`~skfma.nn.ZhangResNetModule` for their defaults and
        parameter counts).
    lr : float, default=5e-4
        Adam's learning rate.
    max_epochs : int, default=30
        Passes over the training data.
    batch_size : int, default=50
        Clips (or segments) per batch.
    segment_length : int or None, default=None
        Segment length in samples; ``None`` feeds whole clips.
    segment_hop : int or None, default=None
        Samples between segment starts (half of ``segment_length`` for 50%
        overlap); ``None`` means ``segment_length``.
    segment_aggregate : {"sum", "mean", "max"}, default="sum"
        How a clip's segment probabilities are combined.
    criterion, optimizer, train_split, callbacks, augment, iterator_train__shuffle, \
warm_start, random_state, verbose, device, precision, checkpoint, **kwargs
        As in :class:`NeuralClassifier` (``augment`` needs spectrogram input,
        so it does not apply here).

    Attributes
    ----------
    classes_, n_features_in_, input_shape_, multilabel_, class_prior_, tag_names_, \
module_, history_
        As in :class:`NeuralClassifier`; ``n_features_in_`` is the number of
        samples per clip.

    See Also
    --------
    NeuralClassifier, skfma.audio.AudioLoader, skfma.features.Spectrogram

    References
    ----------
    .. [1] W. Zhang, W. Lei, X. Xu, X. Xing, "Improved Music Genre
       Classification with Convolutional Neural Networks", Interspeech 2016.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skfma import AudioLoader
    >>> from skfma.models import ZhangResNet
    >>> pipe = make_pipeline(
    ...     AudioLoader(sr=22050, duration=29.7),
    ...     ZhangResNet(module__input="both", segment_length=66150, segment_hop=33075),
    ... )
    """

    def __init__(
        self,
        *,
        module=ZhangResNetModule,
        lr=5e-4,
        max_epochs=30,
        batch_size=50,
        segment_aggregate="sum",
        **kwargs,
    ):
        super().__init__(
            module=module,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            segment_aggregate=segment_aggregate,
            **kwargs,
        )
