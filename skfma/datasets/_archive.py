"""Safe extraction of the FMA zips (bzip2, method 12) and checks against their ``checksums``."""

import lzma
import os
import re
import zipfile
import zlib

from ..exceptions import DownloadError
from ._download import _byte_bar, file_sha1

__all__ = ["extract_zip", "verify_checksums"]


def extract_zip(archive, destination, *, progress=False):
    """Extract every member of a zip under ``destination``, refusing unsafe names.

    Every member name is checked before anything is written: absolute paths,
    drive letters and ``..`` components (anything that would land outside
    ``destination``) are refused. Python's :mod:`zipfile` reads the bzip2
    (method 12) compression of the FMA zips, which many unzip tools cannot.

    Parameters
    ----------
    archive : str
        The zip file.
    destination : str
        The folder to extract into (created if needed).
    progress : bool, default=False
        Show the bytes unpacked so far on stderr.

    Raises
    ------
    DownloadError
        If the archive is not a readable zip, uses an unsupported compression,
        or holds a member that would escape ``destination``; the message names
        the archive and the member.
    """
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            for member in members:
                check_inside(member.filename, destination, archive)
            os.makedirs(destination, exist_ok=True)
            total = sum(member.file_size for member in members)
            name = f"unpacking {os.path.basename(archive)}"
            with _byte_bar(name, total, 0, progress) as bar:
                for member in members:
                    zipped.extract(member, destination)
                    bar.update(member.file_size)
    except (zipfile.BadZipFile, NotImplementedError, EOFError, zlib.error, lzma.LZMAError) as error:
        raise DownloadError(f"cannot extract {archive!r}: {error}") from error
    except OSError as error:
        if error.errno is not None:  # the file system's (no space, no permission): unchanged
            raise
        # bz2's corrupt data ("Invalid data stream"), which the FMA's zips use.
        raise DownloadError(f"cannot extract {archive!r}: {error} (corrupt data)") from error


def check_inside(name, destination, source):
    """Raise DownloadError unless the relative path ``name`` stays inside ``destination``.

    Parameters
    ----------
    name : str
        A member name or listed path (``/`` or ``\\`` separated).
    destination : str
        The folder it must stay in.
    source : str
        The archive or list that holds ``name``, for the message.
    """
    parts = re.split(r"[/\\]", name)
    target = os.path.realpath(os.path.join(destination, *parts))
    root = os.path.realpath(destination)
    if (
        name.startswith(("/", "\\"))
        or re.match(r"[A-Za-z]:", name)
        or ".." in parts
        or not (target == root or target.startswith(root + os.sep))
    ):
        raise DownloadError(
            f"{source!r} holds the unsafe path {name!r}, which would land outside "
            f"{destination!r}; nothing was extracted from it."
        )


def verify_checksums(directory, *, checksums_file="checksums"):
    """Check the files of ``directory`` against its ``sha1sum``-format list.

    The FMA zips hold a ``checksums`` file whose lines read
    ``<40 hex digits>  NNN/NNNNNN.mp3`` (paths relative to the folder that
    holds it).

    Parameters
    ----------
    directory : str
        The extracted folder.
    checksums_file : str, default="checksums"
        The list's name inside ``directory``.

    Returns
    -------
    n_files : int
        How many files were checked.

    Raises
    ------
    DownloadError
        If the list is missing or malformed, or a listed file is missing or has
        another SHA-1; the message names the files (up to ten).
    """
    listing = os.path.join(directory, checksums_file)
    if not os.path.isfile(listing):
        raise DownloadError(f"cannot verify {directory!r}: no checksums file {listing!r}.")
    failures, n_files = [], 0
    with open(listing, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            match = re.fullmatch(r"([0-9a-fA-F]{40}) [ *](.+)", line.rstrip("\r\n"))
            if match is None:
                raise DownloadError(f"{listing!r} line {number} is not '<sha1>  <path>': {line!r}")
            expected, name = match.groups()
            check_inside(name, directory, listing)
            path = os.path.join(directory, *re.split(r"[/\\]", name))
            n_files += 1
            if not os.path.isfile(path):
                failures.append(f"{name} (missing)")
            elif file_sha1(path) != expected.lower():
                failures.append(f"{name} (SHA-1 differs)")
    if failures:
        shown = ", ".join(failures[:10]) + (", ..." if len(failures) > 10 else "")
        raise DownloadError(
            f"{len(failures)} of {n_files} files in {directory!r} do not match {listing!r}: {shown}"
        )
    return n_files
