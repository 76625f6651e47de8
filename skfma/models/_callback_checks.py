"""Callbacks that would fail after an epoch, or save nothing without a word, refused up front."""

import os

from skorch.callbacks import Checkpoint, TrainEndCheckpoint

from ..exceptions import CheckpointError, ParameterError
from ..utils import ensure_writable_folder

__all__ = ["check_callbacks"]


def check_callbacks(net):
    """Check a net's initialized callbacks before its first epoch trains.

    - A skorch ``Checkpoint`` (or ``TrainEndCheckpoint``) writes its files
      after epochs, and when it cannot, skorch says so only with ``verbose``:
      each folder it writes into is created and written to now.
    - A callback that monitors a validation score (``EarlyStopping``'s
      ``valid_loss``, ``Checkpoint``'s ``valid_loss_best``, a scheduler's
      ``monitor``) ends the first epoch in a ``KeyError`` when
      ``train_split=None`` holds no clips out.

    Parameters
    ----------
    net : NeuralClassifier
        Initialized (``callbacks_`` set).

    Raises
    ------
    CheckpointError
        Naming the callback and the folder it cannot write.
    ParameterError
        Naming the callback and the score it monitors, if no validation split
        records it.
    """
    for name, callback in net.callbacks_:
        monitor = getattr(callback, "monitor", None)
        if net.train_split is None and isinstance(monitor, str) and monitor.startswith("valid_"):
            raise ParameterError(
                f"callbacks: {name!r} ({type(callback).__name__}) monitors {monitor!r}, a "
                "validation score, but train_split=None holds no clips out: give train_split "
                "(e.g. skorch.dataset.ValidSplit(5)), or monitor a training score such as "
                "'train_loss'."
            )
        writer = getattr(callback, "checkpoint_", callback)  # TrainEndCheckpoint's inner one
        if isinstance(callback, Checkpoint | TrainEndCheckpoint) and isinstance(writer, Checkpoint):
            for folder in _checkpoint_folders(writer):
                _check_writable(name, callback, folder)


def _checkpoint_folders(checkpoint):
    """The folders a skorch ``Checkpoint`` writes its files into (those named by a path)."""
    folders = set()
    for attribute, target in vars(checkpoint).items():
        if attribute.startswith("f_") and isinstance(target, str | os.PathLike):
            path = os.path.join(checkpoint.dirname, checkpoint.fn_prefix + os.fspath(target))
            folder = os.path.dirname(path) or os.curdir
            if "{" not in folder:  # a folder formatted from the history is known only then
                folders.add(folder)
    return sorted(folders)


def _check_writable(name, callback, folder):
    try:
        ensure_writable_folder(folder)
    except OSError as error:
        raise CheckpointError(
            f"callbacks: {name!r} ({type(callback).__name__}) cannot write its files into "
            f"{folder!r}: {type(error).__name__}: {error}"
        ) from error
