"""HTTP download with resume (Range), retries, a progress bar on stderr, and SHA-1 checks."""

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request

from .._progress import progress_bar
from ..exceptions import DownloadError

__all__ = ["download_file", "file_sha1"]

CHUNK_SIZE = 1 << 20

#: Seconds to wait before the first resumption; doubled for each next one (at most 30 s).
RETRY_DELAY = 1.0


class _Interrupted(Exception):
    """The transfer stopped early; what was received is kept in the ``.part`` file."""


def download_file(url, path, *, sha1=None, timeout=60.0, n_retries=3, progress=None):
    """Download ``url`` to ``path`` through ``path + ".part"``, resuming and verifying it.

    Bytes go to ``PATH.part``; a ``.part`` left by an earlier, interrupted call
    is resumed with an HTTP ``Range`` request (a server that ignores it sends
    the whole file again). A transfer cut off by the network is resumed up to
    ``n_retries`` times, after 1, 2, 4, ... seconds. Once complete, the file's
    SHA-1 is checked and only then is it renamed to ``path``, so ``path`` never
    holds a partial file.

    Parameters
    ----------
    url : str
        What to download.
    path : str
        Where the complete file goes.
    sha1 : str or None, default=None
        Expected SHA-1 (40 hex digits); ``None`` skips the check.
    timeout : float, default=60.0
        Seconds to wait for the server before giving up on a connection or read.
    n_retries : int, default=3
        How many times an interrupted transfer is resumed within this call.
    progress : bool or None, default=None
        Show a progress bar (tqdm) on stderr: always, never, or (None) when
        stderr is a terminal.

    Raises
    ------
    DownloadError
        If the server answers with an HTTP error, the transfer is still
        interrupted after ``n_retries`` resumptions (the ``.part`` file is
        kept for the next call), or the SHA-1 differs (the ``.part`` file is
        removed). The message names the URL.
    """
    part = path + ".part"
    for attempt in range(n_retries + 1):
        try:
            _transfer(url, part, timeout=timeout, progress=progress)
            break
        except _Interrupted as error:
            if attempt == n_retries:
                received = os.path.getsize(part) if os.path.exists(part) else 0
                raise DownloadError(
                    f"download of {url} interrupted ({error}) after {n_retries} retries; "
                    f"the {received} bytes received are kept in {part!r} and the next call "
                    "resumes from there."
                ) from None
            time.sleep(min(RETRY_DELAY * 2**attempt, 30.0))
    if sha1 is not None:
        actual = file_sha1(part)
        if actual != sha1.lower():
            os.remove(part)
            raise DownloadError(
                f"SHA-1 of {url} is {actual}, expected {sha1}: the download is corrupt or not "
                "the published file, and was deleted."
            )
    os.replace(part, path)


def _transfer(url, part, *, timeout, progress):
    """Append the rest of ``url`` to ``part``; raise ``_Interrupted`` if it stops early."""
    offset = os.path.getsize(part) if os.path.exists(part) else 0
    request = urllib.request.Request(url, headers={"User-Agent": "skfma"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            return  # nothing left to fetch: the .part file is already complete
        raise DownloadError(f"cannot download {url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise _Interrupted(f"cannot connect: {getattr(error, 'reason', error)}") from None
    with response:
        if offset and response.status != 206:
            offset = 0  # the server ignored the Range header: start again
        elif offset and not response.headers.get("Content-Range", "").startswith(
            f"bytes {offset}-"
        ):
            raise DownloadError(
                f"cannot resume {url}: asked for bytes {offset}- and got Content-Range "
                f"{response.headers.get('Content-Range')!r}; delete {part!r} to start again."
            )
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        done = offset
        with (
            _byte_bar(os.path.basename(url), total, offset, progress) as bar,
            open(part, "ab" if offset else "wb") as file,
        ):
            while chunk := _read(response, done):
                file.write(chunk)
                done += len(chunk)
                bar.update(len(chunk))
    if total is not None and done < total:
        raise _Interrupted(f"connection closed after {done} of {total} bytes")


def _read(response, done):
    """The next chunk of ``response`` (``b""`` at its end), or ``_Interrupted``."""
    try:
        return response.read(CHUNK_SIZE)
    except (OSError, http.client.HTTPException) as error:
        raise _Interrupted(f"connection lost after {done} bytes: {error}") from None


def _byte_bar(name, total, start, progress):
    """A progress bar in bytes (KiB, MiB, ...), starting at ``start``; see ``download_file``."""
    return progress_bar(
        total=total,
        desc=name,
        unit="B",
        show=progress,
        initial=start,
        unit_scale=True,
        unit_divisor=1024,
    )


def file_sha1(path):
    """The SHA-1 of a file, as 40 lowercase hex digits."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha1").hexdigest()
