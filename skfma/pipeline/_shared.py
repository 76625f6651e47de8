"""An output array in shared memory, which local worker processes fill in place."""

import os
import tempfile

import numpy as np
from joblib import effective_n_jobs
from joblib.parallel import BACKENDS, get_active_backend

from ._leftovers import SEPARATOR, owner_tag, remove_orphans

__all__ = ["SharedOutput"]

#: Where shared memory is a file system (Linux).
SHARED_MEMORY = "/dev/shm"

#: Start of the names of the output files in shared memory.
PREFIX = "skfma-output"

#: joblib's backends whose workers are processes of this machine.
LOCAL_PROCESSES = ("loky", "multiprocessing")


class SharedOutput:
    """A ``np.memmap`` in ``/dev/shm`` that worker processes of this machine write rows into.

    Sending each batch's output back through joblib pickles and copies it
    (a few percent of a log-mel extraction's time: ``benchmarks/README.md``);
    workers that write it into shared memory instead send back only their
    failures. Only processes of this machine see this memory, so
    :meth:`create` offers it for joblib's local process backends only (loky,
    multiprocessing): a Dask worker on another machine would write into a
    ``/dev/shm`` of its own.

    Parameters
    ----------
    path : str
        The file in shared memory.
    shape : tuple of int
    dtype : numpy.dtype
    """

    def __init__(self, path, shape, dtype):
        self.path = path
        self.shape = shape
        self.dtype = np.dtype(dtype)
        self.array = np.memmap(path, dtype=self.dtype, mode="w+", shape=shape)

    @classmethod
    def create(cls, shape, dtype, n_jobs):
        """A SharedOutput if local worker processes will run the batches, else None.

        Parameters
        ----------
        shape : tuple of int
            The whole output's shape, clips first.
        dtype : numpy.dtype
        n_jobs : int or None
            As given to joblib.

        Returns
        -------
        SharedOutput or None
            None unless the active joblib backend is loky or multiprocessing
            with more than one worker, ``/dev/shm`` exists and has room for
            twice the output, and the output is not empty. Output files that
            ended processes left in ``/dev/shm`` (``kill -9``) are removed first.
        """
        backend, _ = get_active_backend()
        n_bytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        if (
            n_bytes == 0
            or not isinstance(backend, tuple(BACKENDS[name] for name in LOCAL_PROCESSES))
            or effective_n_jobs(n_jobs) < 2
            or not os.path.isdir(SHARED_MEMORY)
            or not os.access(SHARED_MEMORY, os.W_OK)
        ):
            return None
        stats = os.statvfs(SHARED_MEMORY)
        if stats.f_bavail * stats.f_frsize < 2 * n_bytes:
            return None
        remove_orphans(os.path.join(SHARED_MEMORY, f"{PREFIX}{SEPARATOR}*"))  # left by kill -9
        handle, path = tempfile.mkstemp(
            prefix=f"{PREFIX}{owner_tag()}", suffix=".dat", dir=SHARED_MEMORY
        )
        os.close(handle)
        try:
            return cls(path, shape, dtype)
        except BaseException:
            os.unlink(path)
            raise

    def target(self, rows):
        """What a worker needs to write ``rows`` of the output: ``(path, shape, dtype, rows)``."""
        return self.path, self.shape, self.dtype, rows

    def release(self):
        """Remove the file; the parent's mapping (``array``) stays valid until it is dropped."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def open_rows(target):
    """A worker's view of a :class:`SharedOutput`: the array, and the rows of its batch.

    Parameters
    ----------
    target : tuple
        :meth:`SharedOutput.target` of the batch's rows.

    Returns
    -------
    array : numpy.memmap, shape (n_clips, ...)
        The whole output, mapped read-write; its pages stay in shared memory for the
        parent once the worker drops it.
    rows : list of int
        ``rows[i]`` is the output row of the batch's ``i``-th file.
    """
    path, shape, dtype, rows = target
    return np.memmap(path, dtype=dtype, mode="r+", shape=shape), rows
