"""ClipCache: per-clip results on disk, keyed by the file's identity and the steps' parameters."""

import contextlib
import errno
import io
import os
import zlib
from importlib.metadata import version

import joblib
import numpy as np

from .. import __version__
from ..exceptions import CacheError
from ..utils import write_atomically
from ..utils._fingerprint import describe
from ._outputs import CacheFileOutput

__all__ = ["ClipCache", "file_identity", "output_key"]

#: Parameters that change how a step runs, never what it returns.
EXECUTION_PARAMS = frozenset({"n_jobs", "verbose", "batch_size", "device", "on_error"})

#: Last bytes of every entry: the CRC-32 of the ``.npy`` bytes before them, little-endian.
CRC_BYTES = 4


def output_key(steps):
    """A hex digest of every step's class and output-defining parameters.

    Parameters
    ----------
    steps : list of (str, estimator)

    Returns
    -------
    key : str
        Changes whenever a step's class or any parameter outside
        ``EXECUTION_PARAMS`` changes (step names do not count), and with the
        versions of skfma and librosa, whose fixes may change the outputs.
        Functions and classes of the user's code count by their code
        (:func:`~skfma.pipeline._fingerprint.describe`): a function redefined
        under the same name (a notebook cell run again) changes the key. A
        parameter that names a file (``PretrainedCNNFeatures(weights=
        "finetuned.pt")``) counts with the file's size and modification
        time: the same path saved again changes the key.
    """
    description = [(__version__, version("librosa"))] + [
        (
            describe(type(step)),
            sorted(
                (name, describe(value), _named_file(value))
                for name, value in step.get_params(deep=False).items()
                if name not in EXECUTION_PARAMS
            ),
        )
        for _, step in steps
    ]
    return joblib.hash(description)


def _named_file(value):
    """:func:`file_identity` of the file a path-like parameter names, else None."""
    if not isinstance(value, str | os.PathLike):
        return None
    path = os.path.expanduser(value)
    return file_identity(path) if os.path.isfile(path) else None


def file_identity(path):
    """``(absolute path, size in bytes, modification time in ns, inode)`` of a file, or None.

    The inode tells apart two files of the same size and modification time
    swapped by renaming them (as files unpacked from one archive can be):
    a rename keeps both, and the file at the path is another one.
    """
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (os.path.abspath(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)


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
        self.root = os.path.join(os.fspath(directory), "skfma_audio_features", output_key(steps))

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
        """A whole output as a ``.npy`` memory map in the cache folder.

        Parameters
        ----------
        identities : list
            The clips' :func:`file_identity`, in row order: they name the file.
        shape : tuple of int
        dtype : numpy dtype

        Returns
        -------
        output : skfma.pipeline._outputs.CacheFileOutput
        """
        path = os.path.join(self.root, "outputs", f"{joblib.hash(identities)}.npy")
        return CacheFileOutput(path, shape, dtype, self._writing)

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

        def write(temporary):
            with open(temporary, "wb") as file:
                file.write(payload + zlib.crc32(payload).to_bytes(CRC_BYTES, "little"))

        with self._writing():
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_atomically(path, write)

    @contextlib.contextmanager
    def _writing(self, temporary=None):
        """Turn an OSError into a CacheError naming the folder; remove ``temporary`` then."""
        try:
            yield
        except OSError as error:
            if temporary is not None:
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
