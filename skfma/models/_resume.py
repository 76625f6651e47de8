"""Resuming a fit after a crash: the whole training state, saved after every epoch."""

import contextlib
import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from ..exceptions import CheckpointError
from ..utils import ensure_writable_folder, expand_path

__all__ = ["TrainingCheckpoint", "data_fingerprint", "params_fingerprint"]

#: Bumped whenever the saved state changes, so that an old file is refused by name.
FORMAT = 2


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
    """Each parameter's value as a short, stable text, to tell one run's settings from another's.

    Classes and functions by their qualified names, arrays and tensors by a
    digest of their values, estimators by their parameters, other objects
    by their ``repr``, or where that names a memory address by their type
    and public attributes (three levels deep).

    Parameters
    ----------
    params : dict of str to object

    Returns
    -------
    described : dict of str to str
    """
    return {name: _describe(value) for name, value in params.items()}


def _describe(value, depth=0):
    def inner(item):
        return _describe(item, depth + 1)

    if isinstance(value, (str, bytes, int, float, complex, np.generic)) or value is None:
        return repr(value)
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__}({', '.join(map(inner, value))})"
    if isinstance(value, dict):
        items = sorted((inner(key), inner(item)) for key, item in value.items())
        return "{" + ", ".join(f"{key}: {item}" for key, item in items) + "}"
    if isinstance(value, (np.ndarray, torch.Tensor)):
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        digest = hashlib.blake2b(np.ascontiguousarray(array).tobytes(), digest_size=8)
        return f"{type(value).__name__}{array.shape} {array.dtype} {digest.hexdigest()}"
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        return f"{value.__module__}.{value.__qualname__}"
    name = f"{type(value).__module__}.{type(value).__qualname__}"
    if depth >= 3:
        return name
    if hasattr(value, "get_params"):
        return f"{name}({inner(value.get_params(deep=False))})"
    text = repr(value)
    if " at 0x" not in text:
        return text
    if not hasattr(value, "__dict__"):
        return name
    attributes = {key: item for key, item in vars(value).items() if not key.startswith("_")}
    return f"{name}({inner(attributes)})"


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
