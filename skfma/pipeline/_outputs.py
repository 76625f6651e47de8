"""Where AudioFeatures puts its rows: one interface, three kinds of output.

``AudioFeatures.transform`` runs the same way whatever holds its output:

1. :func:`allocate_output` makes the :class:`Output`, whose ``array`` will hold
   one row per clip;
2. each batch carries :meth:`Output.batch_rows`, a small picklable object that
   the worker opens, writes one row per clip into and finishes: it gives back
   the batch's rows, or None where the worker wrote them in place;
3. the parent hands that to :meth:`Output.receive`;
4. after the last batch the parent returns :meth:`Output.publish`; after an
   error it calls :meth:`Output.discard`.

The three kinds:

- :class:`Output`: an ndarray in the parent; workers send their rows back;
- :class:`SharedMemoryOutput`: a file in ``/dev/shm`` that worker processes of
  this machine write their rows into, sending back nothing;
- :class:`CacheFileOutput`: a ``.npy`` file in the feature cache, memory-mapped
  and renamed into place when complete, for outputs that may exceed memory.
"""

import contextlib
import os
import tempfile
import uuid

import numpy as np
from joblib import effective_n_jobs
from joblib.parallel import BACKENDS, get_active_backend

from ._leftovers import SEPARATOR, owner_tag, remove_orphans

__all__ = [
    "CacheFileOutput",
    "Output",
    "ReturnedRows",
    "SharedMemoryOutput",
    "SharedRows",
    "allocate_output",
]

#: Where shared memory is a file system (Linux).
SHARED_MEMORY = "/dev/shm"

#: Start of the names of the output files in shared memory.
PREFIX = "skfma-output"

#: joblib's backends whose workers are processes of this machine.
LOCAL_PROCESSES = ("loky", "multiprocessing")


def allocate_output(shape, dtype, *, n_jobs, cache=None, identities=None):
    """The output of one ``AudioFeatures.transform``.

    Parameters
    ----------
    shape : tuple of int
        The whole output's shape, clips first.
    dtype : numpy.dtype
    n_jobs : int or None
        As given to joblib.
    cache : ClipCache or None, default=None
        The per-clip cache, when there is one.
    identities : list or None, default=None
        The clips' ``file_identity``, in row order (with ``cache``).

    Returns
    -------
    output : Output
        With a cache, a 3-D output (clips x bands x frames: log-mels for the
        nets, which may exceed memory) is a :class:`CacheFileOutput`;
        otherwise a :class:`SharedMemoryOutput` where local worker processes
        will fill it and ``/dev/shm`` has room, else an in-memory
        :class:`Output`.
    """
    if cache is not None and len(shape) == 3:
        return cache.output_file(identities, shape, dtype)
    shared = SharedMemoryOutput.create(shape, dtype, n_jobs)
    return Output(np.empty(shape, dtype)) if shared is None else shared


class Output:
    """An output held in the parent's memory, which workers send their rows to.

    The base of the other kinds: they override what differs.

    Parameters
    ----------
    array : ndarray, shape (n_clips, ...)
        Where the rows go.
    """

    def __init__(self, array):
        self.array = array

    def batch_rows(self, rows):
        """What a worker needs to write the rows of its batch.

        Parameters
        ----------
        rows : list of int
            ``rows[i]`` is the output row of the batch's ``i``-th clip.

        Returns
        -------
        ReturnedRows or SharedRows
        """
        return ReturnedRows(len(rows), self.array.shape[1:], self.array.dtype)

    def receive(self, rows, values):
        """Put what a worker's :meth:`ReturnedRows.finish` gave back into ``rows``."""
        self.array[rows] = values

    def publish(self):
        """The complete output, to return to the caller."""
        return self.array

    def discard(self):
        """Free what the output holds outside this process, after an error."""


class SharedMemoryOutput(Output):
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
        super().__init__(np.memmap(path, dtype=np.dtype(dtype), mode="w+", shape=shape))

    @classmethod
    def create(cls, shape, dtype, n_jobs):
        """A SharedMemoryOutput if local worker processes will run the batches, else None.

        Parameters
        ----------
        shape : tuple of int
            The whole output's shape, clips first.
        dtype : numpy.dtype
        n_jobs : int or None
            As given to joblib.

        Returns
        -------
        SharedMemoryOutput or None
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

    def batch_rows(self, rows):
        """The worker writes its rows in place: see :class:`SharedRows`."""
        return SharedRows(self.path, self.array.shape, self.array.dtype, rows)

    def receive(self, rows, values):
        """Nothing to do: the worker wrote the rows (``values`` is None)."""

    def publish(self):
        """Remove the file and return a plain ndarray over its pages (freed with it)."""
        self.discard()
        return np.asarray(self.array)

    def discard(self):
        """Remove the file; the parent's mapping (``array``) stays valid until it is dropped."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


class CacheFileOutput(Output):
    """An output written to a ``.npy`` file under a temporary name, then renamed into place.

    The temporary name carries this process's host and id; creating an output
    removes those that ended processes left in its folder (``kill -9``).

    Parameters
    ----------
    path : str
        Where the finished file goes.
    shape : tuple of int
    dtype : numpy dtype
    writing : callable
        Context manager factory turning an OSError into a CacheError, given the
        temporary file to remove (``ClipCache._writing``).
    """

    def __init__(self, path, shape, dtype, writing):
        self.path = path
        self.temporary = f"{path}.tmp{owner_tag()}{uuid.uuid4().hex}"
        self._writing = writing
        with writing(self.temporary):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            # Outputs a killed run was writing (as large as the features), not those of live ones.
            remove_orphans(os.path.join(os.path.dirname(path), f"*.npy.tmp{SEPARATOR}*"))
            super().__init__(np.lib.format.open_memmap(self.temporary, "w+", dtype, shape))

    def publish(self):
        """Flush, rename into place and return the file mapped copy-on-write (``mode="c"``)."""
        self.array.flush()
        with self._writing(self.temporary):
            os.replace(self.temporary, self.path)
        return np.load(self.path, mmap_mode="c")

    def discard(self):
        """Remove the unfinished file."""
        with contextlib.suppress(OSError):
            os.remove(self.temporary)


class ReturnedRows:
    """A worker's batch of rows in a buffer of its own, sent back to the parent.

    Parameters
    ----------
    n_rows : int
        Clips in the batch.
    shape : tuple of int
        One clip's row.
    dtype : numpy.dtype
    """

    def __init__(self, n_rows, shape, dtype):
        self.n_rows = n_rows
        self.shape = shape
        self.dtype = dtype
        self._values = None

    def open(self):
        """Allocate the batch's buffer (in the worker, so that it is not pickled there)."""
        self._values = np.empty((self.n_rows, *self.shape), self.dtype)

    def write(self, index, row):
        """Write the batch's ``index``-th row; return it as stored (in the output's dtype)."""
        self._values[index] = row
        return self._values[index]

    def finish(self):
        """The batch's rows, for :meth:`Output.receive`."""
        values, self._values = self._values, None
        return values


class SharedRows:
    """A worker's batch of rows written straight into a :class:`SharedMemoryOutput`.

    Each clip's row goes into shared memory: no batch buffer to fault in, copy
    and send back.

    Parameters
    ----------
    path : str
        The output's file in shared memory.
    shape : tuple of int
        The whole output's shape, clips first.
    dtype : numpy.dtype
    rows : list of int
        ``rows[i]`` is the output row of the batch's ``i``-th clip.
    """

    def __init__(self, path, shape, dtype, rows):
        self.path = path
        self.shape = shape
        self.dtype = dtype
        self.rows = rows
        self._array = None

    def open(self):
        """Map the whole output read-write."""
        self._array = np.memmap(self.path, dtype=self.dtype, mode="r+", shape=self.shape)

    def write(self, index, row):
        """Write the batch's ``index``-th row; return it as stored."""
        self._array[self.rows[index]] = row
        return self._array[self.rows[index]]

    def finish(self):
        """Unmap the output (its rows stay in shared memory, not counted as resident); None."""
        self._array = None
