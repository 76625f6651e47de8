"""Resuming a fit after a crash: the whole training state, saved after every epoch."""

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from joblib import hash as stable_hash

from ..utils import ensure_writable_folder, expand_path
from ..utils._files import checkpoint_errors
from ..utils._fingerprint import describe

__all__ = ["TrainingCheckpoint", "data_fingerprint", "params_fingerprint"]

#: Bumped whenever the saved state changes, so that an old file is refused by name.
FORMAT = 4


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


def params_fingerprint(params):
    """Each parameter's value as a digest, to tell one run's settings from another's.

    The digest is joblib's hash of the value as the feature cache keys
    describe it (:func:`skfma.utils._fingerprint.describe`: functions and
    classes of the user's code by their code), the same in every process:
    tensors by their dtype, shape and bytes, and torch modules (a module or
    criterion given as an instance) by their type and ``repr``, not their
    weights, which training changes in place. (joblib's hash of a tensor or
    a module differs between two equal ones.)

    Parameters
    ----------
    params : dict of str to object

    Returns
    -------
    digests : dict of str to str
    """
    return {name: stable_hash(describe(_hashable(value))) for name, value in params.items()}


def _hashable(value):
    """``value`` with its tensors and torch modules, also inside lists, tuples and dicts, as
    values whose hash is the same in every process."""
    if isinstance(value, torch.Tensor):
        data = value.detach().cpu().reshape(-1).view(torch.uint8).numpy()  # bfloat16 too
        return str(value.dtype), tuple(value.shape), data
    if isinstance(value, torch.nn.Module):
        return "torch module", f"{type(value).__module__}.{type(value).__qualname__}", repr(value)
    if type(value) in (list, tuple):
        return type(value)(map(_hashable, value))
    if isinstance(value, dict):
        return {key: _hashable(item) for key, item in value.items()}
    return value


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

    def _named_errors(self, doing):
        return checkpoint_errors(doing, "the training checkpoint", self.file)

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
