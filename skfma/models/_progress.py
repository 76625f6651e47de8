"""A callback that records how fast a net trains and how long its fit has left."""

import time

from skorch.callbacks import Callback

__all__ = ["TrainingSpeed"]


class TrainingSpeed(Callback):
    """Record each epoch's training speed and the time the fit has left.

    After every epoch, two numbers go into the net's ``history_`` and so
    into skorch's epoch table (``verbose=1``), from the first epoch on:

    - ``clips_per_s``: training clips per second of the epoch's training
      pass (from the epoch's start to the end of its last training batch:
      loading, forward and backward passes, optimiser steps; validation and
      scoring excluded). The clips are those the net trains on (the rows of
      ``X`` that ``train_split`` leaves for training); each counts once,
      whatever number of windows (``segment_length``) or augmented copies
      (``augment_copies``) it trains as.
    - ``time_left``: seconds the fit has left, estimated as the epochs left
      times the mean time of this fit's epochs so far (validation, scoring
      and the callbacks included). The epochs are those the training call
      runs: ``max_epochs`` for ``fit`` and ``partial_fit``, ``k`` for
      ``partial_fit(..., epochs=k)`` (the searches of
      :mod:`skfma.model_selection` make such calls), those left for a fit
      resumed from a ``checkpoint``; an early stop (``EarlyStopping``) ends
      it sooner. The clocks are the running process's: a resumed fit's
      estimate starts from its first epoch.

    The time per epoch is skorch's own ``dur`` column, in seconds.

    Examples
    --------
    >>> import numpy as np
    >>> from skfma.models import NeuralClassifier, TrainingSpeed
    >>> from skfma.nn import DNNModule
    >>> X = np.random.default_rng(0).standard_normal((40, 5))
    >>> y = np.where(X[:, 0] > 0, "loud", "quiet")
    >>> net = NeuralClassifier(module=DNNModule, max_epochs=3, random_state=0,
    ...                        callbacks=[("speed", TrainingSpeed())]).fit(X, y)
    >>> net.history_[:, "time_left"][-1]
    0.0
    >>> net.history_[-1, "clips_per_s"] > 0
    True
    """

    #: The clocks, which belong to the process that runs the fit (see ``__getstate__``).
    _CLOCKS = ("fit_start_", "n_epochs_", "epoch_start_", "training_end_")

    def __getstate__(self):
        # A callback restored from a checkpoint (a resumed fit, which does not begin its
        # callbacks again) or unpickled elsewhere starts its clocks afresh at its next epoch.
        return {name: value for name, value in vars(self).items() if name not in self._CLOCKS}

    def on_train_begin(self, net, **kwargs):
        """Start the fit's clock; count the epochs from here."""
        self._start_clock()

    def on_epoch_begin(self, net, **kwargs):
        """Start the epoch's clock (and the fit's, in a fit resumed from a checkpoint)."""
        if not hasattr(self, "fit_start_"):
            self._start_clock()
        self.epoch_start_ = time.perf_counter()
        self.training_end_ = self.epoch_start_

    def _start_clock(self):
        self.fit_start_ = time.perf_counter()
        self.n_epochs_ = 0

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        """Note the end of each training batch: the last one ends the training pass."""
        if training:
            self.training_end_ = time.perf_counter()

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        """Record ``clips_per_s`` and ``time_left`` in the epoch's row of the history."""
        self.n_epochs_ += 1
        seconds_per_epoch = (time.perf_counter() - self.fit_start_) / self.n_epochs_
        training_seconds = self.training_end_ - self.epoch_start_
        n_clips = 0 if dataset_train is None else len(dataset_train)
        net.history.record(
            "clips_per_s", n_clips / training_seconds if training_seconds > 0 else float("nan")
        )
        # The epochs of this training call, as skfma's nets note them (a partial_fit's
        # epochs=k, a resumed fit's epochs left); max_epochs for other skorch nets.
        epochs = getattr(net, "epochs_in_call_", net.max_epochs)
        net.history.record("time_left", max(epochs - self.n_epochs_, 0) * seconds_per_epoch)
