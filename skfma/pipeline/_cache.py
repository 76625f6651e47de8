"""ClipCache: per-clip results on disk, keyed by the file's identity and the steps' parameters."""

import contextlib
import errno
import io
import os
import uuid
import zlib

import joblib
import numpy as np

from ..exceptions import SkfmaError

__all__ = ["ClipCache", "CacheError", "file_identity", "steps_key"]

#: Parameters that change how a step runs, never what it returns.
EXECUTION_PARAMS = frozenset({"n_jobs", "verbose", "batch_size", "device", "on_error"})

#: Last bytes of every entry: the CRC-32 of the ``.npy`` bytes before them, little-endian.
CRC_BYTES = 4


class CacheError(SkfmaError, OSError):
    """The cache folder cannot be written (read-only, full, or not a folder); names it."""


def steps_key(steps):
    """A hex digest of every step's class and output-defining parameters.

    Parameters
    ----------
    steps : list of (str, estimator)

    Returns
    -------
    key : str
        Changes whenever a step's class or any parameter outside
        ``EXECUTION_PARAMS`` changes (step names do not count).
    """
    description = [
        (
            f"{type(step).__module__}.{type(step).__qualname__}",
            sorted(
                (name, value)
                for name, value in step.get_params(deep=False).items()
                if name not in EXECUTION_PARAMS
            ),
        )
        for _, step in steps
    ]
    return joblib.hash(description)


def file_identity(path):
    """``(absolute path, size in bytes, modification time in ns)`` of a file, or None if absent."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)


class ClipCache:
    """One folder of per-clip arrays for one setting of the steps.

    Entries are ``.npy`` bytes followed by their CRC-32, written to a
    temporary file and renamed into place, so that a killed process leaves
    either a whole entry or none, and a truncated or corrupt entry is
    detected (and recomputed by the caller), never returned.

    Parameters
    ----------
    directory : str or os.PathLike
        The cache root (``AudioFeatures(memory=...)``).
    steps : list of (str, estimator)
        The steps whose outputs are stored; their parameters name the folder.
    """

    def __init__(self, directory, steps):
        self.root = os.path.join(os.fspath(directory), "skfma_audio_features", steps_key(steps))

    def path(self, identity):
        """The entry file of the clip with this :func:`file_identity`."""
        key = joblib.hash(identity)
        return os.path.join(self.root, key[:2], f"{key}.npy")

    def load(self, identity, shape, dtype):
        """The stored array of a clip, or None if it is absent, truncated, corrupt or mis-shaped.

        Parameters
        ----------
        identity : tuple
            The clip file's :func:`file_identity`.
        shape : tuple of int
            Expected shape of the clip's result.
        dtype : numpy dtype
            Expected dtype.

        Returns
        -------
        array : ndarray or None
        """
        try:
            with open(self.path(identity), "rb") as file:
                data = file.read()
        except OSError:
            return None
        payload, crc = data[:-CRC_BYTES], data[-CRC_BYTES:]
        if len(data) <= CRC_BYTES or zlib.crc32(payload).to_bytes(CRC_BYTES, "little") != crc:
            return None
        try:
            array = np.load(io.BytesIO(payload), allow_pickle=False)
        except ValueError:
            return None
        if array.shape != tuple(shape) or array.dtype != dtype:
            return None
        return array

    def output_file(self, identities, shape, dtype):
        """A ``.npy`` memory map for a whole output, and the function that publishes it.

        The file (named after the clips' identities) is written under a
        temporary name; ``finish(out)`` flushes it, renames it into place and
        returns it mapped copy-on-write (``mode="c"``: writable in memory,
        never written back).

        Parameters
        ----------
        identities : list
            The clips' :func:`file_identity`, in row order.
        shape : tuple of int
        dtype : numpy dtype

        Returns
        -------
        out : numpy.memmap
            To fill.
        finish : callable
            ``finish(out) -> numpy.memmap``.
        """
        path = os.path.join(self.root, "outputs", f"{joblib.hash(identities)}.npy")
        temporary = f"{path}.{uuid.uuid4().hex}.tmp"
        with self._writing(temporary):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            out = np.lib.format.open_memmap(temporary, mode="w+", dtype=dtype, shape=shape)

        def finish(out):
            out.flush()
            with self._writing(temporary):
                os.replace(temporary, path)
            return np.load(path, mmap_mode="c")

        return out, finish

    def store(self, identity, array):
        """Write a clip's array atomically (temporary file, then rename).

        Raises
        ------
        CacheError
            Naming the cache folder, if it cannot be written.
        """
        path = self.path(identity)
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
        payload = buffer.getvalue()
        temporary = f"{path}.{uuid.uuid4().hex}.tmp"
        with self._writing(temporary):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(temporary, "wb") as file:
                file.write(payload + zlib.crc32(payload).to_bytes(CRC_BYTES, "little"))
            os.replace(temporary, path)

    @contextlib.contextmanager
    def _writing(self, temporary):
        """Turn an OSError into a CacheError naming the folder; remove ``temporary`` then."""
        try:
            yield
        except OSError as error:
            with contextlib.suppress(OSError):
                os.remove(temporary)
            reason = {
                errno.ENOSPC: "the disk is full",
                errno.EROFS: "it is read-only",
                errno.EACCES: "permission denied",
                errno.ENOTDIR: "a path component is a file",
            }.get(error.errno, error.strerror or str(error))
            raise CacheError(
                error.errno, f"cannot write to the feature cache {self.root!r}: {reason}"
            ) from error
