"""Exceptions raised by skfma.

All of them derive from :class:`SkfmaError`, so ``except SkfmaError`` catches
every failure that skfma itself reports.
"""

import os

__all__ = [
    "SkfmaError",
    "AudioDecodeError",
    "CacheError",
    "CheckpointError",
    "DownloadError",
    "MetadataError",
    "ParameterError",
    "ScoringError",
]


class SkfmaError(Exception):
    """Base class of every exception raised by skfma."""


class AudioDecodeError(SkfmaError):
    """An audio file could not be read or decoded.

    Parameters
    ----------
    path : str or os.PathLike
        The file that failed.
    reason : str
        What went wrong, in words (for example ``"file not found"``).

    Attributes
    ----------
    path : str
        The file that failed.
    reason : str
        What went wrong.
    """

    def __init__(self, path, reason):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"cannot decode audio file {self.path!r}: {reason}")

    def __reduce__(self):
        return type(self), (self.path, self.reason)


class ParameterError(SkfmaError, ValueError, TypeError):
    """A parameter has an invalid value or type; the message names it.

    It is also a :class:`ValueError` and a :class:`TypeError`, as
    scikit-learn's ``InvalidParameterError``, so that code catching either
    for an estimator's parameters catches it.
    """


class ScoringError(ParameterError):
    """A search's scorer returned something other than a number: a mistake in ``scoring``.

    The searches raise it through ``error_score``: it is not a failed fit of
    one configuration.
    """


class CacheError(SkfmaError, OSError):
    """The feature cache's folder cannot be written (read-only, full, or not a folder).

    The message names the folder. It is also an :class:`OSError`.
    """


class DownloadError(SkfmaError, OSError):
    """A download, its checksum, or the unpacking of its archive failed.

    The message names the URL or the file. It is also an :class:`OSError`.
    """


class MetadataError(SkfmaError, ValueError):
    """A metadata table (such as the FMA's ``tracks.csv``) is unreadable or malformed.

    It is also a :class:`ValueError`.

    Parameters
    ----------
    path : str or os.PathLike
        The file at fault.
    reason : str
        What is wrong with it, in words.
    column : str, tuple or None, default=None
        The column at fault, if one is (``('set', 'subset')`` for a table
        with two header rows).

    Attributes
    ----------
    path : str
        The file at fault.
    reason : str
        What is wrong.
    column : str, tuple or None
        The column at fault.
    """

    def __init__(self, path, reason, column=None):
        self.path = os.fspath(path)
        self.reason = reason
        self.column = column
        where = "" if column is None else f", column {column!r}"
        super().__init__(f"metadata file {self.path!r}{where}: {reason}")

    def __reduce__(self):
        return type(self), (self.path, self.reason, self.column)


class CheckpointError(SkfmaError, OSError):
    """A training checkpoint could not be written or read.

    The message names the file and the cause (a folder that cannot be
    written, a full disk, a callback that cannot be saved, a damaged file).
    It is also an :class:`OSError`.
    """
