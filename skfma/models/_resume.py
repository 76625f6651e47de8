"""Resuming a fit after a crash: the whole training state, saved after every epoch."""

import contextlib
import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from ..exceptions import CheckpointError
from ..utils import ensure_writable_folder, expand_path

__all__ = ["TrainingCheckpoint", "data_fingerprint"]

#: Bumped whenever the saved state changes, so that an old file is refused by name.
FORMAT = 1


def data_fingerprint(X, y):
    """A short digest of a training set: its shapes, its labels, and three of its clips.

    Cheap on a memory-mapped store (three rows are read), and different for
    another split, another subset or other labels.

    Parameters
    ----------
    X : ndarray, shape (n_clips, ...)
    y : ndarray, shape (n_clips,) or (n_clips, n_tags)

    Returns
    -------
    digest : str
        Hexadecimal, 32 characters.
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((X.shape, str(X.dtype), np.shape(y))).encode())
    digest.update(np.asarray(y).astype(str).tobytes())
    for row in sorted({0, len(X) // 2, len(X) - 1}):
        digest.update(np.ascontiguousarray(X[row]).tobytes())
    return digest.hexdigest()


class TrainingCheckpoint:
    """The file ``checkpoint.pt`` in a folder: one fit's state after its last finished epoch.

    The state is one pickle of the modules, optimizers, callbacks (a
    learning-rate schedule and its optimizer stay linked), history, gradient
    scaler and random generators, written to a temporary file and renamed
    over the previous one, so that a crash while saving leaves the last
    epoch's checkpoint intact. Load only checkpoints you wrote: unpickling
    runs code.

    Parameters
    ----------
    folder : str or os.PathLike
        Where the checkpoint lives; ``~`` is expanded, the folder created.
    """

    FILE_NAME = "checkpoint.pt"

    def __init__(self, folder):
        self.folder = Path(expand_path("checkpoint", folder))
        self.file = self.folder / self.FILE_NAME

    @contextlib.contextmanager
    def _named_errors(self, doing):
        try:
            yield
        except CheckpointError:
            raise
        except Exception as error:
            raise CheckpointError(
                f"cannot {doing} the training checkpoint {os.fspath(self.file)!r}: "
                f"{type(error).__name__}: {error}"
            ) from error

    def check_writable(self):
        """Create the folder and write a file in it, before the first epoch trains.

        Raises
        ------
        CheckpointError
            Naming the file, if the folder cannot be created or written.
        """
        with self._named_errors("write"):
            ensure_writable_folder(self.folder)

    def save(self, state):
        """Write ``state`` (a dict of picklable objects) atomically.

        Raises
        ------
        CheckpointError
            Naming the file and the cause (disk, permissions, an object that
            cannot be pickled).
        """
        partial = self.file.with_name(f".{self.FILE_NAME}.{os.getpid()}.partial")
        with self._named_errors("write"):
            try:
                torch.save({"format": FORMAT, **state}, partial)
                os.replace(partial, self.file)
            finally:
                partial.unlink(missing_ok=True)

    def load(self, map_location):
        """The saved state, or None if the folder holds no checkpoint.

        Parameters
        ----------
        map_location : str or torch.device
            Where the tensors go (the net's device).

        Raises
        ------
        CheckpointError
            Naming the file, if it cannot be read or was written by another
            version of skfma.
        """
        if not self.file.exists():
            return None
        with self._named_errors("read"):
            state = torch.load(self.file, map_location=map_location, weights_only=False)
            if not isinstance(state, dict) or state.get("format") != FORMAT:
                raise ValueError(
                    f"not a checkpoint of this version of skfma (format {FORMAT}); delete it "
                    "to train from the start"
                )
        return state
