"""NeuralClassifier: the skorch base class that makes torch modules scikit-learn classifiers."""

import contextlib
import copy
import functools
import inspect
import itertools
import os
import signal
import threading
from numbers import Number

import numpy as np
import pandas as pd
import torch
from sklearn.base import ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d, validate_data
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping, EpochScoring, PrintLog
from skorch.dataset import Dataset, unpack_data

from .._memory import reuse_freed_memory
from ..base import validate_parameters
from ..exceptions import ParameterError
from ..functional import PRECISIONS, autocast
from ..utils import (
    check_choice,
    check_int,
    check_positive,
    expand_path,
    names_its_errors,
    value_check,
)
from ..utils._device import check_device
from ..utils._random import check_seed, seeded_generators, torch_seed
from ..utils._warnings import warn_user
from ._augment_copies import AugmentedCopies
from ._callback_checks import check_callbacks
from ._mapped_data import WorkerDataset, collate_examples
from ._precision import as_float32, uses_channels_last
from ._progress import TrainingSpeed
from ._resume import TrainingCheckpoint, data_fingerprint, params_fingerprint
from ._segments import (
    AGGREGATES,
    ClipWindows,
    aggregate_windows,
    cut_windows,
    probability_aggregate,
    window_starts,
)
from ._skorch_params import SKORCH_PARAMETER_CHECKS

__all__ = ["NeuralClassifier"]

#: The most augmented copies of each clip a fit takes: each is a pass over the training set.
MAX_AUGMENT_COPIES = 100

#: The largest learning rate accepted. Adam moves each weight by about ``lr`` per step, SGD by
#: ``lr`` times its gradient: 1000 is far past any rate that trains (the FMA reports use 1e-4
#: to 1e-2), and rates beyond float32's range (3.4e38) overflow inside the optimizers.
MAX_LR = 1e3

#: The parameters a fit resumed from a checkpoint may change: how long it trains, where and
#: how it computes, what it reports, and what only prediction or validation batches use.
#: Any other (the module's, the optimizer's, ``lr``, ``batch_size``, ``precision``, ...) makes
#: it another run, whose checkpoint is refused.
RESUMABLE_CHANGES = frozenset(
    {
        "checkpoint",
        "max_epochs",
        "device",
        "compile",
        "verbose",
        "callbacks",
        "warm_start",
        "iterator_valid",
        "predict_nonlinearity",
        "segment_aggregate",
        "use_caching",
        "torch_load_kwargs",
        "iterator_train__num_workers",
        "iterator_train__pin_memory",
        "iterator_train__persistent_workers",
        "iterator_train__prefetch_factor",
        "iterator_train__multiprocessing_context",
    }
)


def _may_change_on_resume(name):
    """Whether parameter ``name`` may differ between a fit and the checkpoint it resumes."""
    return (
        name in RESUMABLE_CHANGES
        or name.startswith("callbacks__")
        or name.startswith("iterator_valid__")
    )


def _refuse_sample_weight(fit_params):
    """Refuse ``sample_weight``, which skorch would pass on to the module's ``forward``."""
    if "sample_weight" in fit_params:
        raise ParameterError(
            "sample_weight is not supported: every clip weighs the same in training. Weight the "
            "classes with criterion__weight (a float tensor of one weight per class), or repeat "
            "clips."
        )


@contextlib.contextmanager
def _interruptible():
    """Let a Ctrl-C during a fit reach the caller.

    skorch's ``partial_fit`` swallows every KeyboardInterrupt: those its
    callbacks raise to end training (``EarlyStopping``) and a user's Ctrl-C
    alike. In the main thread, a SIGINT handler wrapping Python's notes the
    signal, and the KeyboardInterrupt is raised again once skorch has ended
    the fit. Where SIGINT is ignored, or off the main thread, skorch's
    behaviour is kept.
    """
    received = []
    previous = None
    if threading.current_thread() is threading.main_thread():
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):

            def note(signum, frame):
                received.append(signum)
                handler(signum, frame)

            previous = handler
            signal.signal(signal.SIGINT, note)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt("the fit was interrupted; fit again to resume from checkpoint=")


class NeuralClassifier(ClassifierMixin, NeuralNet):
    """A torch module trained with skorch, as a scikit-learn classifier.

    ``NeuralClassifier`` is skorch's ``NeuralNet`` made to behave like any
    scikit-learn classifier inside a ``Pipeline`` and ``GridSearchCV``:

    - ``X`` is cast to float32; labels of any type (strings included) are
      encoded with a ``LabelEncoder``, and ``predict`` returns labels;
    - ``classes_`` and ``n_features_in_`` are set by ``fit``;
    - the module is built in ``initialize_module`` with ``input_shape`` and
      ``n_classes`` taken from the data (where its constructor accepts them);
    - a 1-D target trains a softmax classifier (cross-entropy); a 2-D 0/1
      indicator matrix trains a multi-label tagger (sigmoid, binary
      cross-entropy): ``predict_proba`` gives one probability per tag and
      ``predict`` thresholds it at 0.5;
    - ``random_state`` seeds torch for the fit, so that the same seed gives the
      same predictions on a CPU, without touching the caller's random state;
    - no data are held out unless ``train_split`` asks for it;
    - while it trains or predicts, freed memory stays in the process for the
      next batch (glibc's heap; ``skfma._memory.reuse_freed_memory``) and is
      given back when the call returns: each batch's activations were
      otherwise mapped and zeroed again by the kernel, a third of a CNN's
      CPU time. The heap keeps its peak while the call runs, and fragments:
      about twice the memory of a batch's activations (``ChoiCRNN``'s Notes,
      ``benchmarks/README.md``).

    skorch's machinery stays: callbacks (``EarlyStopping``, ``LRScheduler``,
    ``Checkpoint``, ...), ``history_``, the epoch table (``verbose=1``),
    ``module__*``, ``optimizer__*``, ``callbacks__*`` and ``iterator_*__*``
    parameters, ``warm_start`` and ``partial_fit``.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=None
        The network; it must return logits of shape ``(batch, n_classes)``.
        Given as a class, it is built with the ``module__*`` parameters plus
        ``input_shape`` and ``n_classes`` from the data when its constructor
        has those arguments; given as an instance, it is used as it is (its
        input and output sizes must fit the data). Required.
    criterion : torch loss class or None, default=None
        ``None`` picks ``CrossEntropyLoss`` for a 1-D target and
        ``BCEWithLogitsLoss`` for a multi-label target.
    optimizer : torch.optim.Optimizer class, default=torch.optim.Adam
        Configured through ``optimizer__*`` parameters.
    lr : float, default=1e-3
        Learning rate, a finite number in ``(0, 1000]``: Adam moves each
        weight by about ``lr`` per step, so larger rates are typing mistakes
        that only diverge (and beyond float32's range, overflow in torch).
    max_epochs : int, default=10
        Passes over the training data per ``fit``.
    batch_size : int, default=32
        Examples (clips, or windows with ``segment_length``) per batch. A
        module whose batch norm would see one value per channel (after dense
        layers, say) cannot train on batches of one example: ``batch_size=1``,
        or a ``train_split`` leaving one training example, then raises a
        :class:`~skfma.exceptions.ParameterError` naming it. Before training,
        a batch runs through the module on torch's ``meta`` device (nothing
        allocated): if its layers' outputs, which the backward pass keeps,
        with the weights and their gradients exceed the device's memory, a
        ``ParameterError`` names ``batch_size`` and the ``module__*`` sizes.
    train_split : callable or None, default=None
        skorch's validation split, e.g. ``skorch.dataset.ValidSplit(5)`` to
        hold out 20% of the clips and report ``valid_loss`` and ``valid_acc``
        (``valid_roc_auc`` for a multi-label target); ``None`` trains on
        everything. With segments, clips are split before windowing, so a
        clip's windows never sit on both sides.
    callbacks : list of (name, callback) or None, default=None
        Extra skorch callbacks, added to the default ones; ``"disable"`` turns
        every callback off. ``skorch.callbacks.EpochScoring`` takes any
        scikit-learn scorer (``"accuracy"``, ``"f1_macro"``,
        ``"neg_log_loss"``, ``"roc_auc"`` for tags, ...): it scores the
        clips (training or validation ones, ``on_train``) and their labels
        with :meth:`predict` or :meth:`predict_proba` after each epoch.
    use_caching : False, default=False
        skorch's caching of the training pass's outputs for scoring callbacks
        is off: those outputs are of windows (with segments), shuffled and
        made in training mode, while the scorers need each clip's prediction.
        Scoring callbacks predict afresh instead, one more pass over the
        scored clips per callback and epoch.
    segment_length : int or None, default=None
        Cut each clip into windows of this many frames along its last axis
        (samples, for 2-D waveform input): training sees every window with
        its clip's label, and a clip's prediction aggregates its windows.
        Clips shorter than a window are padded at the end with silence: each
        row's minimum for spectrograms (decibels), zeros for waveforms.
    segment_hop : int or None, default=None
        Frames (or samples) between window starts; ``None`` means
        ``segment_length`` (no overlap). Trailing frames that do not fill a
        window are not used.
    n_segments : int or None, default=None
        Cut each clip into exactly this many windows instead, spread evenly
        from its first frame to its last (overlapping, or with gaps, as the
        clip's length requires), e.g. the U-Net report's 3 tiles of 128
        frames; excludes ``segment_hop``. :meth:`predict_segments` and
        :meth:`score_segments` give every window's prediction.
    segment_aggregate : {"mean", "max", "sum"}, default="mean"
        How a clip's window probabilities are combined. ``"sum"`` is the rule
        of Zhang et al.: ``predict_proba`` then returns scores from 0 to the
        number of windows instead of probabilities, while predictions and
        rankings (ROC-AUC) are those of ``"mean"``, every clip having the
        same number of windows.
    augment : torch.nn.Module or None, default=None
        Applied to training batches only, e.g.
        :class:`~skfma.nn.SpecAugment`; a copy is used, put in evaluation mode
        for validation and prediction. Needs 3-D or 4-D ``X``.
    augment_copies : int or None, default=None
        How ``augment`` is applied. ``None``: on the fly, each training batch
        masked afresh every epoch. An int ``k``: offline, as report 001 did
        (``k=2``): the training set becomes every training clip plus ``k``
        augmented copies of it, drawn once per fit (the same copies every
        epoch; computed when read, so memory holds only the clips), and
        batches are not augmented further. Validation clips are never
        copied.
    iterator_train__shuffle : bool, default=True
        Shuffle the training examples every epoch.
    warm_start : bool, default=False
        Continue training the fitted module on ``fit`` instead of rebuilding it.
    random_state : int, RandomState instance or None, default=None
        Seed of the module's initialisation, shuffling, dropout and
        augmentation. ``None`` uses torch's global generator as it stands.
    verbose : int, default=0
        1 prints skorch's epoch table as training goes, from the first
        epoch on: losses, scores, training clips per second
        (``clips_per_s``), seconds per epoch (``dur``) and the estimated
        seconds the fit has left (``time_left``).
    device : str or torch.device, default="cpu"
        Where to train and predict, e.g. ``"cuda"``.
    precision : {"float32", "bfloat16", "float16"}, default="float32"
        Arithmetic of the module's forward pass, in training and prediction
        (``torch.autocast``; losses, softmax and normalisation statistics stay
        in float32, and so do the weights and the optimizer). ``"bfloat16"``
        is the choice on a CPU with bfloat16 matrix units (AVX-512 BF16,
        AMX) and on recent GPUs: about 1.5-2.5x the training speed of
        float32 (``benchmarks/README.md``), with the same accuracy after the
        same epochs. ``"float16"`` is the choice on older GPUs; its losses
        are scaled (``torch.amp.GradScaler``) so that small gradients do not
        vanish; on a CPU it is slow. With reduced precision, the 2-D
        convolutional nets keep their activations channels-last, the
        layout of fast reduced-precision convolutions. Predictions are
        float32 whatever the precision.
    checkpoint : str, os.PathLike or None, default=None
        A folder where :meth:`fit` saves the whole training state after
        every epoch (weights, optimizer, learning-rate schedule and other
        callbacks, history, random generators), replacing the previous
        epoch's. A :meth:`fit` whose folder holds a checkpoint of the same
        run (same net, module, classes, training data and parameters, but
        for ``max_epochs``, ``device``, ``compile``, ``verbose``, the
        callbacks and what only prediction, validation or the data loader's
        workers use) resumes it after its last saved epoch and trains the
        epochs left to ``max_epochs``; callbacks may be added or left out,
        but a saved one (a schedule, at its saved position) must have the
        same settings, and a checkpoint of more epochs than ``max_epochs``
        is refused. With the same ``random_state`` on a CPU it ends with
        the weights an uninterrupted fit gives. Give each fit its own
        folder (not in a grid search): a checkpoint of another run is
        refused, naming the folder and what differs. ``partial_fit`` and
        warm-started fits save but never resume. A folder that cannot be
        written raises
        :class:`~skfma.exceptions.CheckpointError` before the first epoch.
        Checkpoints are pickles: load only your own. Ctrl-C
        (``KeyboardInterrupt``) stops a fit and reaches the caller, as in
        scikit-learn, where skorch would swallow it and return a half-trained
        net to a script or a search that goes on: run the fit again with the
        same folder to resume it.
    **kwargs
        Other skorch parameters: ``module__*``, ``optimizer__*``,
        ``criterion__*``, ``callbacks__*``, ``iterator_train__*``,
        ``iterator_valid__*``, ``dataset``, ``predict_nonlinearity``, ...

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        The labels; for a multi-label target, the tag indices
        ``0 .. n_tags - 1``.
    n_features_in_ : int
        ``X.shape[1]``: the number of features, or of bins (3-D ``X``), or of
        channels (4-D ``X``).
    input_shape_ : tuple of int
        Shape of one training example without the batch axis (a channel axis
        is added to 3-D ``X``): ``(n_features,)`` or
        ``(channels, n_bins, n_frames)``.
    multilabel_ : bool
        Whether the target was a multi-label indicator matrix.
    class_prior_ : ndarray of float64, shape (n_classes,)
        Fraction of the training clips in each class, or carrying each tag,
        counted over every call that trained the module since ``fit`` (or
        the first ``partial_fit``) built it: each chunk of ``partial_fit``
        adds its clips (used by :func:`predict_tags`).
    tag_names_ : ndarray, shape (n_classes,)
        Names of the outputs: the column names of a multi-label ``y`` given
        as a pandas DataFrame, else ``classes_``.
    module_ : torch.nn.Module
        The trained network.
    history_ : skorch.History
        Losses and timings of every epoch and batch.
    epochs_in_call_ : int
        Epochs the last training call ran (or runs): ``max_epochs``, the
        ``epochs`` of a ``partial_fit``, or those a resumed fit had left.

    See Also
    --------
    DNNClassifier, KostrzewaCNN, UNetEncoderCNN

    Notes
    -----
    Input shapes: ``(n_clips, n_features)`` (features, or waveforms
    ``(n_clips, n_samples)``), ``(n_clips, n_bins, n_frames)`` or
    ``(n_clips, channels, n_bins, n_frames)``. The module receives
    ``(batch, n_features)`` or ``(batch, channels, n_bins, n_frames)``
    batches (a channel axis is added to 3-D input).

    Examples
    --------
    >>> import numpy as np
    >>> from skfma.models import NeuralClassifier
    >>> from skfma.nn import DNNModule
    >>> X = np.random.default_rng(0).standard_normal((40, 5))
    >>> y = np.where(X[:, 0] > 0, "loud", "quiet")
    >>> clf = NeuralClassifier(module=DNNModule, module__hidden_layer_sizes=(16,),
    ...                        lr=1e-2, max_epochs=20, random_state=0).fit(X, y)
    >>> clf.classes_
    array(['loud', 'quiet'], dtype='<U5')
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        *,
        module=None,
        criterion=None,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=10,
        batch_size=32,
        train_split=None,
        callbacks=None,
        use_caching=False,
        segment_length=None,
        segment_hop=None,
        n_segments=None,
        segment_aggregate="mean",
        augment=None,
        augment_copies=None,
        iterator_train__shuffle=True,
        warm_start=False,
        random_state=None,
        verbose=0,
        device="cpu",
        precision="float32",
        checkpoint=None,
        **kwargs,
    ):
        self.precision = precision
        self.checkpoint = checkpoint
        self.segment_length = segment_length
        self.segment_hop = segment_hop
        self.n_segments = n_segments
        self.segment_aggregate = segment_aggregate
        self.augment = augment
        self.augment_copies = augment_copies
        self.random_state = random_state
        super().__init__(
            module,
            criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            callbacks=callbacks,
            use_caching=use_caching,
            warm_start=warm_start,
            verbose=verbose,
            device=device,
            iterator_train__shuffle=iterator_train__shuffle,
            **kwargs,
        )

    @names_its_errors
    def set_params(self, **params):
        """Set parameters, skorch-style (``module__*`` and friends included).

        Returns
        -------
        self : NeuralClassifier
        """
        # Plain attributes, read when the net is initialised (at fit): skorch would
        # initialise the callbacks at once, failing on a value not yet validated, and
        # refuses torch modules (``augment``) set outside of its initialize methods.
        new_augment = "augment" in params
        for name in ("augment", "callbacks"):
            if name in params:
                vars(self)[name] = params.pop(name)
        if new_augment and getattr(self, "initialized_", False):
            # A warm-started fit does not re-initialise: swap in the new augmentation now.
            with self._current_init_context("module"):
                self.augment_ = self._copy_augment()
        return super().set_params(**params)

    def _get_param_names(self):
        # skorch lists every public attribute set in __init__ (module__* included);
        # leave out its private bookkeeping, which __init__ rebuilds.
        return [name for name in super()._get_param_names() if not name.startswith("_")]

    # ------------------------------------------------------------------ fitting

    @names_its_errors
    @reuse_freed_memory()
    def fit(self, X, y, **fit_params):
        """Build the module for the data and train it for ``max_epochs``.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features), (n_clips, n_bins, \
n_frames) or (n_clips, channels, n_bins, n_frames)
            Features or spectrograms; cast to float32.
        y : array-like of shape (n_clips,) or (n_clips, n_tags)
            Labels of any type, or a 0/1 indicator matrix for multi-label
            tagging.
        **fit_params : dict
            Passed to skorch (the module's ``forward`` and ``train_split``).
            ``sample_weight`` is refused: every clip weighs the same (weight
            the classes with ``criterion__weight``).

        Returns
        -------
        self : NeuralClassifier
        """
        _refuse_sample_weight(fit_params)
        warm = self.warm_start and self._is_fitted()
        epochs = None
        with self._seeded(resume=warm):
            with self._unchanged_on_error():
                dataset, y = self._validate_training_data(X, y, reset=not warm)
                if not warm:
                    self.initialize()
                self._checkpoint_file = self._training_checkpoint(dataset.X, y)
                if not warm:
                    epochs = self._resume()
            try:
                with _interruptible():
                    super().partial_fit(
                        dataset, y, _routing_method="fit", epochs=epochs, **fit_params
                    )
            finally:
                self._resumed_callbacks = set()
        return self

    @names_its_errors
    @reuse_freed_memory()
    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train for ``max_epochs`` more, building the module on the first call.

        Parameters
        ----------
        X : array-like of shape (n_clips, ...)
            As in :meth:`fit`.
        y : array-like of shape (n_clips,) or (n_clips, n_tags)
            As in :meth:`fit`.
        classes : array-like of shape (n_classes,) or None, default=None
            Every label, needed on the first call when ``y`` lacks some.
        **fit_params : dict
            Passed to skorch.

        Returns
        -------
        self : NeuralClassifier
        """
        _refuse_sample_weight(fit_params)
        first = not self._is_fitted()
        with self._seeded(resume=not first):
            with self._unchanged_on_error():
                dataset, y = self._validate_training_data(X, y, reset=first, classes=classes)
                if first:
                    self.initialize()
                self._checkpoint_file = self._training_checkpoint(dataset.X, y)
            with _interruptible():
                super().partial_fit(dataset, y, **fit_params)
        return self

    def _is_fitted(self):
        return self.initialized_ and hasattr(self, "input_shape_")

    @contextlib.contextmanager
    def _unchanged_on_error(self):
        """Leave the net as it was if the block raises: the checks and set-up before training.

        A refit refused there (labels, a module too large for the memory) used
        to keep its new ``classes_`` beside the old module, whose predictions
        were then named after the new classes.
        """
        state = dict(vars(self))
        try:
            yield
        except BaseException:
            vars(self).clear()
            vars(self).update(state)
            raise

    @contextlib.contextmanager
    def _seeded(self, *, resume=False):
        """Seed torch from ``random_state`` for the block; restore the global state after.

        With ``resume`` (a ``partial_fit`` or warm-started ``fit`` continuing
        the training), torch's generators continue from where the previous
        training call of this ``random_state`` left them, so that chunks and
        epochs draw new shuffles and dropout masks instead of the first
        call's again.
        """
        validate_parameters(self, ("random_state", "device"))  # before the data's checks
        if self.random_state is None:
            yield
            return
        seed = torch_seed(self.random_state)
        device = self._torch_device()
        devices = []
        if device.type == "cuda":
            devices = [device.index if device.index is not None else torch.cuda.current_device()]
        saved = getattr(self, "_torch_rng", None)
        restore = resume and saved is not None and saved[0] == seed
        with seeded_generators(None if restore else seed, devices):
            if restore:
                torch.set_rng_state(saved[1])
                for index, state in zip(devices, saved[2], strict=False):
                    torch.cuda.set_rng_state(state, index)
            yield
            states = [torch.cuda.get_rng_state(index) for index in devices]
            self._torch_rng = (seed, torch.get_rng_state(), states)

    def _torch_device(self):
        """The device the module computes on: ``device``, or the CPU where it is None."""
        return torch.device("cpu" if self.device is None else self.device)

    # ------------------------------------------------------------- checkpoints

    def _training_checkpoint(self, X, y):
        """The checkpoint of this fit (its folder checked writable), or None without one."""
        if self.checkpoint is None:
            return None
        checkpoint = TrainingCheckpoint(self.checkpoint)
        checkpoint.check_writable()
        self._fingerprint = self._run_fingerprint(X, y)
        return checkpoint

    def _run_fingerprint(self, X, y):
        """What identifies a training run: the net, its module, its settings and its data."""
        module = self.module if isinstance(self.module, type) else type(self.module)
        settings = {
            name: value
            for name, value in self.get_params(deep=False).items()
            if not _may_change_on_resume(name)
        }
        return {
            "estimator": type(self).__qualname__,
            "module": f"{module.__module__}.{module.__qualname__}",
            "classes": [str(label) for label in self.classes_],
            "input_shape": tuple(self.input_shape_),
            "data": data_fingerprint(X, y),
            "params": params_fingerprint(settings),
        }

    def _resume(self):
        """Restore the training state saved in ``checkpoint``; return the epochs left.

        Returns
        -------
        epochs : int or None
            ``max_epochs`` less the epochs the checkpoint holds, or None (all
            of them) when there is no checkpoint to resume from.
        """
        state = None
        if self._checkpoint_file is not None:
            state = self._checkpoint_file.load(map_location=self._torch_device())
        if state is None:
            return None
        run = state["run"]
        differ = [
            key for key, value in self._fingerprint.items() if key != "params" and run[key] != value
        ]
        params = self._fingerprint["params"]
        differ += sorted(
            name
            for name in params.keys() | run["params"].keys()
            if params.get(name) != run["params"].get(name)
        )
        # A saved callback resumes in place of this fit's (a schedule's position): its settings
        # must be this fit's. Callbacks may be added or left out.
        saved = dict(state["callbacks_"])
        differ += [
            f"callbacks__{name}"
            for name, callback in self.callbacks_
            if type(saved.get(name)) is type(callback)
            and hasattr(callback, "get_params")
            and params_fingerprint(callback.get_params(deep=False))
            != params_fingerprint(saved[name].get_params(deep=False))
        ]
        if differ:
            raise ParameterError(
                f"checkpoint={os.fspath(self.checkpoint)!r} holds a checkpoint of another training "
                f"run (its {', '.join(differ)} {'differs' if len(differ) == 1 else 'differ'} "
                "from this fit's): give each fit a folder of its own, or delete the folder to "
                "train from the start."
            )
        done = len(state["history_"])
        if done > self.max_epochs:
            raise ParameterError(
                f"checkpoint={os.fspath(self.checkpoint)!r} holds {done} epochs of this run, more "
                f"than max_epochs={self.max_epochs}: give a folder of its own to train "
                f"{self.max_epochs} epochs, or max_epochs >= {done} to load or go on."
            )
        for name in (*self._modules, *self._criteria):
            setattr(self, name + "_", self.torch_compile(state["objects"][name], name=name))
        for name in self._optimizers:
            setattr(self, name + "_", state["objects"][name])
        # The callbacks set now, each replaced by its saved state where the checkpoint has it;
        # the epoch table's printer has none, and prints its header again.
        self.callbacks_ = [
            (
                name,
                saved[name]
                if type(saved.get(name)) is type(callback) and not isinstance(callback, PrintLog)
                else callback,
            )
            for name, callback in self.callbacks_
        ]
        self._resumed_callbacks = {
            name for name, callback in self.callbacks_ if callback is saved.get(name)
        }
        self.history_ = state["history_"]
        self.grad_scaler_.load_state_dict(state["grad_scaler"])
        self._copies_seed = state["copies_seed"]
        if self.random_state is not None:  # the run's own generators, inside _seeded's fork
            # A run begun on the CPU has no GPU state: its GPU generator stays seeded.
            torch.set_rng_state(torch.from_numpy(state["torch_rng"]))
            if self._torch_device().type == "cuda" and state["cuda_rng"] is not None:
                torch.cuda.set_rng_state(torch.from_numpy(state["cuda_rng"]), self._torch_device())
        # A run that early stopping ended is over: its stop is part of the saved state.
        stopped = any(
            isinstance(callback, EarlyStopping) and callback.misses_ >= callback.patience
            for name, callback in self.callbacks_
            if name in self._resumed_callbacks
        )
        if self.verbose:
            print(
                f"Resuming from {os.fspath(self._checkpoint_file.file)!r} after epoch {done}"
                + (", where early stopping ended it." if stopped else ".")
            )
        return 0 if stopped else max(0, self.max_epochs - done)

    def _save_checkpoint(self):
        """Save the training state after an epoch, in one pickle (references stay shared)."""
        device = self._torch_device()
        # Compiled modules are saved as the modules they wrap (and compiled again on resume).
        objects = {
            name: getattr(getattr(self, name + "_"), "_orig_mod", getattr(self, name + "_"))
            for name in (*self._modules, *self._criteria, *self._optimizers)
        }
        self._checkpoint_file.save(
            {
                "run": self._fingerprint,
                "objects": objects,
                "callbacks_": self.callbacks_,
                "history_": self.history_,
                "grad_scaler": self.grad_scaler_.state_dict(),
                "copies_seed": self._copies_seed,
                # As NumPy arrays, which ``map_location`` leaves on the CPU, where torch sets
                # generators from (it moves tensors to the device of the resuming fit).
                "torch_rng": torch.get_rng_state().numpy(),
                "cuda_rng": (
                    torch.cuda.get_rng_state(device).numpy() if device.type == "cuda" else None
                ),
            }
        )

    def notify(self, method_name, **cb_kwargs):
        """skorch's callback dispatch; saves the checkpoint after every epoch's callbacks.

        An epoch's callbacks all run when ``EarlyStopping`` ends the training
        (skorch would skip those after it); the checkpoint then holds the
        stop.

        A resumed fit does not begin again the callbacks restored from the
        checkpoint: they continue mid-training (a learning-rate schedule,
        early stopping's patience and best scores go on where they stopped).
        Those with an ``on_resume(net)`` method are told instead.
        """
        resumed = getattr(self, "_resumed_callbacks", set())
        if method_name == "on_train_begin" and resumed:
            self.on_train_begin(self, **cb_kwargs)
            for name, callback in self.callbacks_:
                if name not in resumed:
                    callback.on_train_begin(self, **cb_kwargs)
                elif hasattr(callback, "on_resume"):
                    callback.on_resume(self)
            return
        if method_name != "on_epoch_end":
            super().notify(method_name, **cb_kwargs)
            return
        # Early stopping ends the training by raising KeyboardInterrupt: the callbacks after
        # it (the epoch table's printer among them) still see the epoch, which is saved with
        # the stop, so that a rerun does not train it again.
        self.on_epoch_end(self, **cb_kwargs)
        stop = None
        for _, callback in self.callbacks_:
            try:
                callback.on_epoch_end(self, **cb_kwargs)
            except KeyboardInterrupt as interrupt:
                if not isinstance(callback, EarlyStopping):
                    raise
                stop = interrupt
        if getattr(self, "_checkpoint_file", None) is not None:
            self._save_checkpoint()
        if stop is not None:
            raise stop

    _parameter_checks = {
        **SKORCH_PARAMETER_CHECKS,
        "lr": functools.partial(check_positive, maximum=MAX_LR),
        "max_epochs": functools.partial(check_int, minimum=0),
        "batch_size": lambda name, size: size == -1 or check_int(name, size),
        "verbose": functools.partial(check_int, minimum=0),
        "device": value_check(check_device, allow_none=True),
        "use_caching": lambda name, caching: _check_no_caching(caching),
        "precision": functools.partial(check_choice, choices=tuple(PRECISIONS)),
        "random_state": value_check(check_seed),
        "segment_length": functools.partial(check_positive, allow_none=True, integer=True),
        "segment_hop": functools.partial(check_positive, allow_none=True, integer=True),
        "n_segments": functools.partial(check_positive, allow_none=True, integer=True),
        "segment_aggregate": functools.partial(check_choice, choices=AGGREGATES),
        "augment": lambda name, augment: _check_augment(augment),
        "augment_copies": lambda name, copies: _check_augment_copies(copies),
        "checkpoint": functools.partial(expand_path, allow_none=True),
    }

    def _check_params(self):
        if self.module is None:
            raise ParameterError("module is required (a torch module class or instance); got None.")
        validate_parameters(self)
        if self.n_segments is not None and self.segment_hop is not None:
            raise ParameterError(
                f"give segment_hop or n_segments, not both; got segment_hop={self.segment_hop!r} "
                f"and n_segments={self.n_segments!r}."
            )
        if self.augment_copies is not None and self.augment is None:
            raise ParameterError(
                f"augment_copies={self.augment_copies!r} needs an augment module to make the "
                "copies (e.g. augment=SpecAugment()); got augment=None."
            )

    def _validate_training_data(self, X, y, *, reset, classes=None):
        """Check X and y; on ``reset`` learn the classes and the input shape; count the classes.

        Returns
        -------
        dataset : Dataset
            The checked clips and labels (what scoring callbacks read), whose
            items are the module's inputs (float32, with a channel axis for
            3-D ``X``) and targets (int64 codes, or float32 tags).
        y : ndarray, shape (n_clips,) or (n_clips, n_tags)
            The checked labels, for the validation split.
        """
        self._check_params()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        # NaN is the one label unequal to itself, pandas' NA cannot be compared; sorting any
        # of them among labels fails.
        labels = np.asarray(y)
        if labels.dtype == object and any(
            label is None or label is pd.NA or label != label for label in labels.flat
        ):
            raise ValueError(
                f"y contains missing labels (None, NaN or NA): {type(self).__name__} needs a "
                "label for every clip."
            )
        self._check_label_types("y", labels)
        if classes is not None:
            self._check_label_types("classes", np.asarray(classes))
        columns = getattr(y, "columns", None)
        X, y = validate_data(
            self, X, y, reset=reset, dtype=np.float32, allow_nd=True, multi_output=True
        )
        inputs = self._check_input_shape(X, reset=reset)
        if X.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 training samples (batch normalisation "
                f"cannot train on one); got 1 sample."
            )
        target_type = type_of_target(y)
        if reset:
            self.multilabel_ = target_type == "multilabel-indicator"
        if self.multilabel_:
            if target_type != "multilabel-indicator" or (
                not reset and y.shape[1] != len(self.classes_)
            ):
                raise ValueError(
                    "y must be a 0/1 indicator matrix with one column per tag seen in the "
                    f"first fit; got target type {target_type!r}, shape {y.shape}."
                )
            if reset:
                self.classes_ = np.arange(y.shape[1])
                self.tag_names_ = self.classes_ if columns is None else np.asarray(columns)
                self._label_dtype = y.dtype
            self._count_classes(np.asarray(y, dtype=np.float64).sum(axis=0), len(y), reset=reset)
            targets = np.asarray(y, dtype=np.float32)
            return _Clips(X, y, self.get_dataset(inputs, targets)), y
        if y.ndim == 2:
            if y.shape[1] != 1:
                raise ValueError(
                    f"{type(self).__name__} supports 1-D labels or a 0/1 multi-label indicator "
                    f"matrix; got target type {target_type!r}."
                )
            warn_user(
                "A column-vector y was passed when a 1d array was expected. Please change the "
                "shape of y to (n_samples,), for example using ravel().",
                DataConversionWarning,
            )
            y = y[:, 0]
        check_classification_targets(y)
        if reset:
            encoder = LabelEncoder().fit(y if classes is None else classes)
            if len(encoder.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes in y (or classes); got 1 "
                    f"class: {encoder.classes_[0]!r}."
                )
            self._label_encoder = encoder
            self.classes_ = self.tag_names_ = self._label_encoder.classes_
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={np.unique(classes).tolist()!r} differs from the classes of the first "
                f"fit, {self.classes_.tolist()!r}: a fitted net's outputs cannot change."
            )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            where = "classes" if reset and classes is not None else "the first fit"
            raise ValueError(f"y contains labels not in {where}: {unknown!r}.")
        codes = self._label_encoder.transform(y).astype(np.int64)
        self._count_classes(np.bincount(codes, minlength=len(self.classes_)), len(y), reset=reset)
        return _Clips(X, y, self.get_dataset(inputs, codes)), y

    def _check_label_types(self, name, labels):
        """Raise a ValueError naming ``name`` if its labels mix strings and numbers.

        Such labels (an object array or a pandas Series such as ``[1, "a",
        2.5]``) cannot be sorted into classes; scikit-learn calls their type
        ``"unknown"``.
        """
        if labels.dtype != object:
            return
        kinds = {}
        for label in labels.flat:
            kind = (
                "string"
                if isinstance(label, str)
                else "number"
                if isinstance(label, Number)
                else type(label).__name__
            )
            kinds.setdefault(kind, set()).add(type(label).__name__)
        if len(kinds) > 1:
            found = ", ".join(sorted(set().union(*kinds.values())))
            raise ValueError(
                f"{name} mixes labels of types {found} ({' and '.join(sorted(kinds))}): "
                f"{type(self).__name__} needs labels that are all strings or all numbers "
                f"(e.g. {name} converted with .astype(str))."
            )

    def _count_classes(self, counts, n_clips, *, reset):
        """Add a training call's class (or tag) counts to the running ones; update the priors."""
        if reset:
            self._class_counts = np.zeros(len(self.classes_))
            self._n_counted = 0
        self._class_counts = self._class_counts + counts
        self._n_counted += n_clips
        self.class_prior_ = self._class_counts / self._n_counted

    def _as_fitted_rank(self, X):
        """Spectrograms of one channel as 3-D or 4-D, whichever ``fit`` was given.

        ``(n, 1, n_bins, n_frames)`` and ``(n, n_bins, n_frames)`` are the same
        input (:meth:`_check_input_shape` adds the channel axis); scikit-learn's
        count of features, the second axis, would refuse the other one.
        """
        shape = getattr(X, "shape", ())  # arrays and tensors (np.shape would convert others)
        if len(shape) not in (3, 4) or len(self.input_shape_) != 3 or self.input_shape_[0] != 1:
            return X
        fitted_3d = self.n_features_in_ == self.input_shape_[1]
        if len(shape) == 4 and fitted_3d and shape[1] == 1:
            return np.asarray(X)[:, 0]
        if len(shape) == 3 and not fitted_3d:
            return np.asarray(X)[:, None]
        return X

    def _check_input_shape(self, X, *, reset):
        """Add a channel axis to 3-D input; check the shape against the fitted one.

        2-D ``X`` is features or waveforms: windows then cut samples.
        """
        if X.ndim not in (2, 3, 4):
            raise ValueError(
                f"X must be 2-D (n_clips, n_features), 3-D (n_clips, n_bins, n_frames) or 4-D "
                f"(n_clips, channels, n_bins, n_frames); got shape {X.shape}."
            )
        if X.ndim == 3:
            X = X[:, None]
        segmented = self.segment_length is not None
        if X.ndim == 2 and self.augment is not None:
            raise ParameterError(
                f"augment needs spectrogram-like X (3-D or 4-D); got 2-D X of shape {X.shape}."
            )
        if reset:
            self.input_shape_ = X.shape[1:]
            return X
        expected, got = self.input_shape_, X.shape[1:]
        if len(got) != len(expected) or (got[:-1] if segmented else got) != (
            expected[:-1] if segmented else expected
        ):
            raise ValueError(
                f"X has examples of shape {got} (after adding a channel axis to 3-D input), but "
                f"{type(self).__name__} was fitted on examples of shape {expected}"
                + (" (any number of frames)." if segmented else ".")
            )
        return X

    # ---------------------------------------------------------- skorch overrides

    def initialize_module(self):
        """Build the module (sized from the data) and the training-only augmentation."""
        kwargs = self.get_params_for("module")
        # Only a class is sized from the data: an instance is used as the user built it.
        given = dict(kwargs)
        if isinstance(self.module, type) and hasattr(self, "input_shape_"):
            accepted = _accepted_arguments(self.module)
            sizes = {"input_shape": self._window_shape(), "n_classes": len(self.classes_)}
            kwargs.update({key: value for key, value in sizes.items() if key in accepted})
        if isinstance(self.module, type):
            self._check_module_size(kwargs, given)
        self.module_ = self.initialized_instance(self.module, kwargs)
        if hasattr(self, "input_shape_") and uses_channels_last(
            self.precision, self._window_shape()
        ):
            self.module_ = self.module_.to(memory_format=torch.channels_last)
        # A copy, registered by skorch as a module: moved to the device, and put in
        # training mode only for training batches.
        self.augment_ = self._copy_augment()
        # The offline copies' seed, drawn when a fit first needs them (get_iterator).
        self._copies_seed = None
        return self

    def _check_module_size(self, kwargs, given):
        """Refuse a module class whose weights could not be trained in the device's memory.

        The module is first built on torch's ``meta`` device, which allocates
        nothing, and its weights and buffers counted: training holds every
        weight and its gradient, so twice their bytes must fit in the
        device's memory (the host's RAM, or the GPU's). A size typed with a
        few digits too many (``module__filters=(2**31 - 1,)``) is then named
        here, instead of failing inside torch's allocator or exhausting
        memory. A module that cannot be built on the meta device is not
        checked.

        Once the input shape is known, a training batch (``batch_size``
        windows) is also run through the module on the meta device, and the
        outputs of its layers counted (in the precision's bytes): autograd
        keeps at least these activations for the backward pass, so their
        bytes must fit too. Where the meta device cannot run the module (an
        operator without a meta kernel), that part is not checked.

        Raises
        ------
        ParameterError
            Naming the ``module__*`` parameters given (and ``batch_size``),
            the number of weights or activations, and the memory.
        """
        try:
            with torch.device("meta"):
                probe = self.module(**kwargs)
        except ParameterError:
            raise
        except Exception:  # noqa: BLE001 - the module is built for real, as before
            return
        tensors = list(itertools.chain(probe.parameters(), probe.buffers()))
        weights = sum(tensor.numel() for tensor in tensors)
        needed = 2 * sum(tensor.numel() * tensor.element_size() for tensor in tensors)
        device = self._torch_device()
        memory = _device_memory(device)
        if memory is None:
            return
        sizes = ", ".join(f"module__{key}={value!r}" for key, value in given.items())
        sizes = sizes or "its default sizes"
        if hasattr(self, "input_shape_"):
            sizes += f" for inputs of shape {self._window_shape()}"
        name = getattr(self.module, "__name__", self.module)
        if needed > memory:
            raise ParameterError(
                f"module {name!r} with {sizes} would hold {weights:,} weights: training them "
                f"needs {needed / 2**30:,.1f} GiB (weights and gradients), more than the "
                f"{memory / 2**30:,.1f} GiB of memory of device {str(device)!r}; lower the "
                "module's sizes."
            )
        if not hasattr(self, "input_shape_") or self.batch_size == -1:
            return
        activations = _activation_bytes(probe, (self.batch_size, *self._window_shape()))
        if activations is None:
            return
        activations = activations * PRECISION_BYTES[self.precision] // 4
        if needed + activations > memory:
            raise ParameterError(
                f"module {name!r} with {sizes} and batch_size={self.batch_size} would keep "
                f"{activations / 2**30:,.1f} GiB of activations for each training batch's "
                f"backward pass ({self.precision}), which with its weights and gradients is more "
                f"than the {memory / 2**30:,.1f} GiB of memory of device {str(device)!r}; lower "
                "batch_size or the module's sizes."
            )

    def _copy_augment(self):
        """A private copy of ``augment`` (or None), so that fits never share its state."""
        return None if self.augment is None else copy.deepcopy(self.augment)

    def initialize_criterion(self):
        """Cross-entropy for labels, binary cross-entropy with logits for tags (by default)."""
        criterion = self.criterion
        if criterion is None:
            multilabel = getattr(self, "multilabel_", False)
            criterion = torch.nn.BCEWithLogitsLoss if multilabel else torch.nn.CrossEntropyLoss
        self.criterion_ = self.initialized_instance(criterion, self.get_params_for("criterion"))
        return self

    def initialize(self):
        """skorch's initialisation, and the gradient scaler of ``precision="float16"``.

        Returns
        -------
        self : NeuralClassifier
        """
        super().initialize()
        # Disabled (a pass-through) unless float16, whose small range needs the scaling.
        self.grad_scaler_ = torch.amp.GradScaler(
            self._torch_device().type, enabled=self.precision == "float16"
        )
        return self

    def infer(self, x, **fit_params):
        """Run the module on a batch in ``precision``, augmenting it first in training mode.

        Returns
        -------
        logits : Tensor of float32, shape (batch, n_outputs)
        """
        augment = getattr(self, "augment_", None)
        if augment is not None and augment.training and self.augment_copies is None:
            x = augment(torch.as_tensor(x, device=self.device))
        if (
            isinstance(x, torch.Tensor)
            and x.ndim == 4
            and uses_channels_last(self.precision, x.shape[1:])
        ):
            x = x.to(self.device).contiguous(memory_format=torch.channels_last)
        with autocast(self.precision, self._torch_device()):
            return as_float32(super().infer(x, **fit_params))

    def validation_step(self, batch, **fit_params):
        """skorch's validation step; with segments, the loss of each clip's prediction.

        With segments, the batch holds clips: they are cut into windows, and
        the loss is the criterion on each clip's aggregated probabilities
        (their mean for ``segment_aggregate="sum"``, renormalised for
        ``"max"``), expressed as the logits the criterion takes (the log of
        the probabilities for a softmax, their logit for tags), as Zhang et
        al. score the summed song prediction rather than its segments.
        """
        if self.segment_length is None:
            return super().validation_step(batch, **fit_params)
        self._set_training(False)
        Xi, yi = unpack_data(batch)
        Xi = torch.as_tensor(Xi, device=self.device)
        starts = self._window_starts(Xi.shape[-1])
        with torch.no_grad():
            logits = self.infer(cut_windows(Xi, self.segment_length, starts), **fit_params)
            windows = self._get_predict_nonlinearity()(logits).reshape(len(Xi), len(starts), -1)
            proba = aggregate_windows(windows, probability_aggregate(self.segment_aggregate))
            y_pred = _as_logits(proba, multilabel=self.multilabel_)
            loss = self.get_loss(y_pred, yi, X=Xi, training=False)
        return {"loss": loss, "y_pred": y_pred}

    def train_step_single(self, batch, **fit_params):
        """skorch's training step; a batch norm given a batch of one example names the cause.

        Batch normalisation cannot train on one value per channel: a training
        batch of one example, unless its layer also normalises over frequency
        or time. A last batch of one is dropped (:meth:`get_iterator`), so
        such a batch comes from ``batch_size=1`` or from a ``train_split``
        that leaves one training example.

        With ``precision="float16"``, the loss is scaled before the backward
        pass and the gradients unscaled after it (so that callbacks such as
        gradient clipping see the true gradients).

        Raises
        ------
        ParameterError
            Naming ``batch_size`` (or ``iterator_train__batch_size``) or
            ``train_split``, instead of torch's batch-norm ``ValueError``.
        """
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        try:
            y_pred = self.infer(Xi, **fit_params)
        except ValueError as error:
            if "more than 1 value per channel" not in str(error):
                raise
            raise ParameterError(self._one_example_batch_cause()) from error
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self.grad_scaler_.scale(loss).backward()
        for name in self._optimizers:
            self.grad_scaler_.unscale_(getattr(self, name + "_"))
        return {"loss": loss, "y_pred": y_pred}

    def _step_optimizer(self, step_fn):
        """Step the optimizers; through the gradient scaler with ``precision="float16"``.

        The scaler skips a step whose gradients overflowed, and cannot take
        an optimizer closure: the step function runs once, then each
        optimizer steps.
        """
        if not self.grad_scaler_.is_enabled():
            return super()._step_optimizer(step_fn)
        step_fn()
        for name in self._optimizers:
            self.grad_scaler_.step(getattr(self, name + "_"))
        self.grad_scaler_.update()

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """skorch's training loop; notes the epochs it runs in ``epochs_in_call_``.

        :class:`TrainingSpeed` estimates the time left from it. Before the
        first epoch, callbacks that would fail or save nothing silently are
        refused (:func:`~skfma.models._callback_checks.check_callbacks`).

        Returns
        -------
        self : NeuralClassifier
        """
        check_callbacks(self)
        self.epochs_in_call_ = self.max_epochs if epochs is None else epochs
        return super().fit_loop(X, y, epochs=epochs, **fit_params)

    def _one_example_batch_cause(self):
        """Why a training batch held one example, in words naming the parameter."""
        params = self.get_params_for("iterator_train")
        name = "iterator_train__batch_size" if "batch_size" in params else "batch_size"
        if params.get("batch_size", self.batch_size) == 1:
            return (
                f"{name}=1 makes training batches of one example, on which the module's batch "
                f"normalisation cannot train (it needs more than one value per channel); use "
                f"{name} >= 2."
            )
        split = self.train_split
        split = type(split).__name__ + (f"(cv={split.cv!r})" if hasattr(split, "cv") else "")
        return (
            f"train_split={split} leaves one training example, on which the "
            "module's batch normalisation cannot train (it needs more than one value per "
            "channel); hold out fewer clips, or train on more."
        )

    def get_iterator(self, dataset, training=False):
        """A DataLoader over examples: a dataset's clips, or their windows with segments.

        The training and validation datasets hold clips (so that scoring
        callbacks score clips). With segments, training clips are cut into
        windows here; validation batches stay clips, about ``batch_size``
        windows' worth, which :meth:`validation_step` cuts, so that the
        validation loss is each clip's. In training, a last batch of one
        example is dropped (batch norm). Numpy examples are stacked by numpy
        (:func:`~skfma.models._mapped_data.collate_examples`: read-only stores
        without torch's warning), and worker processes receive memory-mapped
        arrays as references to their files
        (:class:`~skfma.models._mapped_data.WorkerDataset`), not copies.
        """
        if training and self.augment_copies is not None:
            if self._copies_seed is None:  # from the seeded generator, once per fit
                self._copies_seed = int(torch.randint(2**62, ()))
            dataset = AugmentedCopies(
                dataset, self.augment_, self.augment_copies, self._copies_seed
            )
        windows_per_clip = 1
        if self.segment_length is not None and not isinstance(dataset, ClipWindows):
            windows = self._windows(dataset, unpack_data(dataset[0])[0].shape[-1])
            if training:
                dataset = windows
            else:
                windows_per_clip = windows.n_windows
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)  # every clip (with all its windows) at once
        else:
            kwargs["batch_size"] = max(1, kwargs["batch_size"] // windows_per_clip)
        if training and "drop_last" not in kwargs and len(dataset) % kwargs["batch_size"] == 1:
            kwargs["drop_last"] = len(dataset) > 1
        kwargs.setdefault("collate_fn", collate_examples)
        if kwargs.get("num_workers", 0) > 0:
            dataset = WorkerDataset(dataset)  # memory-mapped stores reach workers unpickled
        return getattr(self, prefix)(dataset, **kwargs)

    @property
    def _default_callbacks(self):
        """skorch's, with validation accuracy (ROC-AUC for tags) and the training speed.

        The score is recorded whenever ``train_split`` holds clips out; the
        speed (``clips_per_s``) and the estimate of the time left
        (``time_left``, seconds) after every epoch (:class:`TrainingSpeed`).
        """
        if getattr(self, "multilabel_", False):
            name, scoring = "valid_roc_auc", _macro_roc_auc
        else:
            name, scoring = "valid_acc", "accuracy"
        score = (name, EpochScoring(scoring, name=name, lower_is_better=False))
        callbacks = super()._default_callbacks
        at = [name for name, _ in callbacks].index("print_log")
        return [*callbacks[:at], score, ("training_speed", TrainingSpeed()), *callbacks[at:]]

    def _get_predict_nonlinearity(self):
        if self.predict_nonlinearity != "auto":
            return super()._get_predict_nonlinearity()
        if self.multilabel_:
            return torch.sigmoid
        return _softmax

    # --------------------------------------------------------------- predicting

    @names_its_errors
    def predict_proba(self, X):
        """Class (or tag) probabilities of each clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, ...)
            As in :meth:`fit`; with ``segment_length``, spectrograms may have
            any number of frames (waveforms keep the training length).

        Returns
        -------
        proba : ndarray of float32, shape (n_clips, n_classes) or (n_clips, n_tags)
            Softmax probabilities (rows sum to 1), or independent tag
            probabilities for a multi-label target. With segments, the
            ``segment_aggregate`` of the clip's window probabilities (for
            ``"sum"``, scores up to the number of windows).
        """
        return aggregate_windows(self._window_proba(X), self.segment_aggregate)

    @reuse_freed_memory()
    def _window_proba(self, X):
        """Probabilities of every window of every clip.

        Returns
        -------
        proba : ndarray of float32, shape (n_clips, n_windows, n_outputs)
            ``n_windows`` is 1 without segments.
        """
        self.check_is_fitted(["module_", "input_shape_"])
        self._check_params()
        X = validate_data(
            self, self._as_fitted_rank(X), reset=False, dtype=np.float32, allow_nd=True
        )
        X = self._check_input_shape(X, reset=False)
        data, n_windows = X, 1
        if self.segment_length is not None:
            data = self._windows(self.get_dataset(X), X.shape[-1])
            n_windows = data.n_windows
        return super().predict_proba(data).reshape(X.shape[0], n_windows, -1)

    @names_its_errors
    def predict(self, X):
        """Predicted label of each clip, or tags (0/1) for a multi-label target.

        Parameters
        ----------
        X : array-like of shape (n_clips, ...)
            As in :meth:`fit`.

        Returns
        -------
        y_pred : ndarray, shape (n_clips,) or (n_clips, n_tags)
            Labels from ``classes_``, or the indicator matrix of the tags whose
            probability is at least 0.5 (same dtype as the training target).
        """
        windows = self._window_proba(X)
        if self.multilabel_:
            proba = aggregate_windows(windows, probability_aggregate(self.segment_aggregate))
            return (proba >= 0.5).astype(self._label_dtype)
        return self.classes_[aggregate_windows(windows, self.segment_aggregate).argmax(axis=1)]

    @names_its_errors
    def predict_segments(self, X):
        """The prediction of every window (segment, tile) of every clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, ...)
            As in :meth:`fit`.

        Returns
        -------
        y_pred : ndarray, shape (n_clips, n_windows) or (n_clips, n_windows, n_tags)
            Each window's label (or 0/1 tags), as if it were a clip;
            ``n_windows`` is 1 without segments.
        """
        windows = self._window_proba(X)
        if self.multilabel_:
            return (windows >= 0.5).astype(self._label_dtype)
        return self.classes_[windows.argmax(axis=2)]

    @names_its_errors
    def score_segments(self, X, y):
        """Accuracy over every window of every clip, each carrying its clip's label.

        The report of the U-Net encoder scores its 2,400 test tiles (3 per
        clip) this way; :meth:`score` scores the clips.

        Parameters
        ----------
        X : array-like of shape (n_clips, ...)
        y : array-like of shape (n_clips,)
            Labels (a single-label target).

        Returns
        -------
        accuracy : float
            Fraction of windows whose prediction is their clip's label.
        """
        if self.multilabel_:
            raise ValueError("score_segments scores labels; this net was fitted on tags.")
        y = column_or_1d(y)  # a column of labels too, as score takes
        predictions = self.predict_segments(X)
        if len(y) != len(predictions):
            raise ValueError(f"y has {len(y)} labels for the {len(predictions)} clips of X.")
        return float(np.mean(predictions == y[:, None]))

    # ------------------------------------------------------------------ helpers

    def _window_starts(self, n_frames):
        """First frames of the windows of a clip of ``n_frames`` frames."""
        return window_starts(
            n_frames, self.segment_length, hop=self.segment_hop, n_segments=self.n_segments
        )

    def _windows(self, dataset, n_frames):
        """The windows of every clip of ``dataset`` (clips of ``n_frames`` frames)."""
        return ClipWindows(dataset, n_frames, self.segment_length, self._window_starts(n_frames))

    def _window_shape(self):
        """Shape of one module input: the clip shape, or a window's with segments."""
        if self.segment_length is None:
            return tuple(self.input_shape_)
        return (*self.input_shape_[:-1], self.segment_length)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_label = True
        return tags


class _Clips(Dataset):
    """Clips and labels as checked, whose items are the module's inputs and targets.

    skorch's scoring callbacks read a dataset's ``X`` and ``y`` and pass them
    to the scorer, which calls ``predict``: they see clips and labels, not
    channel axes, windows or class codes.

    Parameters
    ----------
    X : ndarray, shape (n_clips, ...)
        The clips.
    y : ndarray, shape (n_clips,) or (n_clips, n_tags)
        Their labels.
    inputs : Dataset
        Yields the module's ``(input, target)`` of each clip.
    """

    def __init__(self, X, y, inputs):
        super().__init__(X, y)
        self.inputs = inputs

    def __getitem__(self, index):
        return self.inputs[index]


def _macro_roc_auc(net, X, y):
    """Mean ROC-AUC of the tags that some clips of ``y`` carry and others not (NaN if none).

    A tag carried by all or none of the scored clips has no ROC-AUC: a small
    validation split often lacks rare tags.
    """
    y = np.asarray(y)
    defined = np.flatnonzero(y.min(axis=0) != y.max(axis=0))
    if not defined.size:
        return np.nan
    proba = net.predict_proba(X)
    return float(np.mean([roc_auc_score(y[:, tag], proba[:, tag]) for tag in defined]))


def _as_logits(proba, *, multilabel):
    """Probabilities as the logits that give them back: logit for tags, log for a softmax.

    Parameters
    ----------
    proba : Tensor, shape (batch, n_outputs)
        Tag probabilities, or class probabilities (renormalised to sum to 1).

    Returns
    -------
    Tensor, shape (batch, n_outputs)
        Finite logits; probabilities are clipped to float32's tiny value first.
    """
    tiny = torch.finfo(proba.dtype).tiny
    if multilabel:
        proba = proba.clamp(tiny, 1.0 - torch.finfo(proba.dtype).eps)
        return torch.log(proba) - torch.log1p(-proba)
    return torch.log((proba / proba.sum(dim=-1, keepdim=True)).clamp_min(tiny))


def _check_no_caching(use_caching):
    if use_caching is not False:
        raise ParameterError(
            "use_caching must be False: scoring callbacks score each clip's prediction, "
            "which skorch's cache (outputs of the training pass) does not hold; got "
            f"{use_caching!r}."
        )


def _check_augment(augment):
    if augment is not None and not callable(augment):
        raise ParameterError(
            f"augment must be None or a torch module such as SpecAugment; got {augment!r}."
        )


def _check_augment_copies(copies):
    check_positive("augment_copies", copies, allow_none=True, integer=True)
    if copies is not None and copies > MAX_AUGMENT_COPIES:
        raise ParameterError(
            f"augment_copies must be at most {MAX_AUGMENT_COPIES} (each copy adds an epoch's "
            f"worth of training on the whole set); got {copies!r}."
        )


#: Bytes of an activation in each precision (autocast keeps reduced-precision outputs).
PRECISION_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


def _activation_bytes(module, batch_shape):
    """Bytes of the outputs of ``module``'s layers for a float32 batch, or None if unknown.

    The batch runs on the meta device (nothing is allocated); every leaf
    module's output counts once (not an in-place layer's, which is its
    input), what autograd keeps at least for the backward pass.

    Parameters
    ----------
    module : torch.nn.Module
        Built on the meta device.
    batch_shape : tuple of int
        ``(batch_size, *window_shape)``.

    Returns
    -------
    int or None
        None where the meta device cannot run the module.
    """
    total = [0]

    def count(_, inputs, output):
        for tensor in output if isinstance(output, tuple) else (output,):
            # An in-place layer (ReLU(inplace=True)) returns its input: no new memory.
            if isinstance(tensor, torch.Tensor) and not any(tensor is x for x in inputs):
                total[0] += tensor.numel() * tensor.element_size()

    leaves = [layer for layer in module.modules() if not list(layer.children())]
    handles = [layer.register_forward_hook(count) for layer in leaves]
    try:
        module.train()(torch.empty(batch_shape, device="meta"))
    except Exception:  # noqa: BLE001 - an operator without a meta kernel: not checked
        return None
    finally:
        for handle in handles:
            handle.remove()
    return total[0]


def _device_memory(device):
    """Bytes of memory of a torch device (a GPU's, else the host's), or None if unknown."""
    try:
        if device.type == "cuda":
            index = device.index if device.index is not None else torch.cuda.current_device()
            return torch.cuda.get_device_properties(index).total_memory
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError, RuntimeError):
        return None


def _softmax(logits):
    return torch.softmax(logits, dim=-1)


def _accepted_arguments(cls):
    """Names of the constructor arguments of a module class."""
    parameters = inspect.signature(cls).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return {"input_shape", "n_classes"}
    return {p.name for p in parameters}
