"""Choi et al.'s CRNN as a scikit-learn tagger (multi-label) or genre classifier."""

from ..nn import ChoiCRNNModule
from ._neural import NeuralClassifier

__all__ = ["ChoiCRNN"]


class ChoiCRNN(NeuralClassifier):
    """The convolutional recurrent network of Choi et al. for music tagging.

    :class:`~skfma.nn.ChoiCRNNModule`: four 3 x 3 convolutions (64, 128, 128,
    128 channels; batch normalisation, ELU, max pooling (2, 2), (3, 3),
    (4, 4), (4, 4)) over a log-mel spectrogram, a two-layer GRU of 32 units
    over the remaining time steps, dropout 0.1 and a linear output: 394,290
    trainable parameters for the reference 96-mel x 1366-frame input and 50
    tags. Pooling adapts to other input sizes.

    Fit it on a 2-D 0/1 tag matrix (a pandas DataFrame keeps the tag names,
    in ``tag_names_``) to train a multi-label tagger (sigmoid outputs, binary
    cross-entropy), and score it with ROC-AUC as the tagging literature does
    (``sklearn.metrics.roc_auc_score(Y, clf.predict_proba(X))`` for the macro
    average, ``average=None`` per tag); :func:`predict_tags` lists each clip's
    top tags. A 1-D target trains a single-label genre classifier.

    Choi's own code differs from the paper in three places, all available:
    ``module__gru_dropout=0.3`` (dropout after the GRU),
    ``module__input_norm="time"`` (the input batch normalisation along time,
    Keras ``axis=time_axis``), and the log of the *squared* mel power
    (``logamplitude(melspectrogram(...) ** 2)``, 80 dB range), which is twice
    ``MelSpectrogram(top_db=40)``: append
    ``FunctionTransformer(functools.partial(np.multiply, 2.0))`` to the front
    end.

    Parameters
    ----------
    module : torch.nn.Module class, default=ChoiCRNNModule
        The network; ``module__filters``, ``module__pool_sizes``,
        ``module__gru_units``, ``module__dropout``, ... configure it.
    lr : float, default=1e-3
        Adam's learning rate.
    max_epochs : int, default=30
        Passes over the training data.
    batch_size : int, default=32
        Clips (or windows) per batch.
    criterion, optimizer, train_split, callbacks, segment_length, segment_hop, n_segments, \
segment_aggregate, augment, iterator_train__shuffle, warm_start, random_state, verbose, \
device, precision, checkpoint, **kwargs
        As in :class:`NeuralClassifier`.

    Attributes
    ----------
    classes_, n_features_in_, input_shape_, multilabel_, class_prior_, tag_names_, \
module_, history_
        As in :class:`NeuralClassifier`.

    See Also
    --------
    NeuralClassifier, predict_tags, skfma.features.MelSpectrogram

    Notes
    -----
    Memory: the activations of the full-resolution first block (64 maps of
    every mel band and frame, kept for the backward pass) dominate, so a
    training batch needs memory in proportion to its clips. For the
    reference 96 x 1,366 input they take about 200 MiB per clip of a batch
    in float32 and 115 MiB in ``precision="bfloat16"``: peak resident memory
    of a one-epoch fit with the C heap handing freed memory back (the
    process's own peak), 1.7, 2.6, 4.2 and 7.2 GB at ``batch_size`` 4, 8, 16
    and 32 in float32, 1.3, 1.8, 2.7 and 4.6 GB in bfloat16, about 0.9 GB of
    it for the process (Python, torch, the module and optimizer). On a CPU
    with glibc, training keeps freed memory for the next batch instead (see
    :class:`NeuralClassifier`: a third of the CPU time went to the kernel
    otherwise), and the heap's peak is about twice that: 390 MiB per clip in
    float32 (3.6 and 6.8 GB at batch sizes 8 and 16) and 190 MiB in
    bfloat16 (2.1 and 3.7 GB). The per-clip figure scales with mel bands x
    frames; pick ``batch_size`` no larger than the free memory (less the
    data held) over it.

    References
    ----------
    .. [1] K. Choi, G. Fazekas, M. Sandler, K. Cho, "Convolutional Recurrent
       Neural Networks for Music Classification", ICASSP 2017.

    Examples
    --------
    The reference front end: 29.12 s at 12 kHz, 96 mel bands, hop 256, which
    gives 1 + 349,440 // 256 = 1,366 centred frames (Choi's own code cuts
    29.12 s).

    >>> from sklearn.pipeline import make_pipeline
    >>> from skfma import AudioLoader, MelSpectrogram
    >>> from skfma.models import ChoiCRNN
    >>> pipe = make_pipeline(
    ...     AudioLoader(sr=12000, duration=29.12),
    ...     MelSpectrogram(sr=12000, n_fft=512, hop_length=256, n_mels=96),
    ...     ChoiCRNN(random_state=0),
    ... )
    """

    def __init__(
        self,
        *,
        module=ChoiCRNNModule,
        max_epochs=30,
        **kwargs,
    ):
        super().__init__(
            module=module,
            max_epochs=max_epochs,
            **kwargs,
        )
