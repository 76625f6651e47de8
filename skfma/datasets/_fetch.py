"""Downloading and unpacking the FMA into a data home."""

import functools
import os
import re
import shutil
from datetime import UTC, datetime

from ..exceptions import DownloadError, ParameterError
from ..utils import (
    check_bool,
    check_choice,
    check_int,
    check_positive,
    expand_path,
    validate_arguments,
)
from ._archive import extract_zip, verify_checksums
from ._download import download_file, file_sha1

__all__ = ["fetch_fma", "get_data_home", "FMA_URL", "FMA_SHA1"]

#: Where the FMA maintainers publish the zips.
FMA_URL = "https://os.unil.cloud.switch.ch/fma/"

#: Published SHA-1 of each zip (https://github.com/mdeff/fma, README).
FMA_SHA1 = {
    "metadata": "f0df49ffe5f2a6008d7dc83c6915b31835dfe733",
    "small": "ade154f733639d52e35e32f5593efe5be76c6d70",
    "medium": "c67b69ea232021025fca9231fc1c7c1a063ab50b",
    "large": "497109f4dd721066b5ce5e5f250ec604dc78939e",
    "full": "0f0ace23fbe9ba30ecb7e95f763e435ea802b8ab",
}

#: Written last into an unpacked folder; its presence means the folder is complete.
COMPLETE_MARKER = ".skfma_complete"


@validate_arguments({"data_home": functools.partial(expand_path, allow_none=True)})
def get_data_home(data_home=None):
    """The folder where :func:`fetch_fma` puts its downloads, created if needed.

    Parameters
    ----------
    data_home : str, os.PathLike or None, default=None
        The folder. ``None`` takes the environment variable ``SKFMA_DATA``, or
        else ``~/skfma_data``. ``~`` is expanded.

    Returns
    -------
    data_home : str
    """
    if data_home is None:
        data_home = expand_path("SKFMA_DATA", os.environ.get("SKFMA_DATA", "~/skfma_data"))
    if os.path.exists(data_home) and not os.path.isdir(data_home):
        raise ParameterError(f"data_home {data_home!r} is a file, not a folder.")
    os.makedirs(data_home, exist_ok=True)
    return data_home


def _check_url(name, value):
    if not isinstance(value, str) or not value:
        raise ParameterError(f"{name} must be the URL of the archives' folder; got {value!r}.")
    return value


def _check_sha1(name, value):
    if value is not None and not (
        isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F]{40}", value)
    ):
        raise ParameterError(f"{name} must be 40 hexadecimal digits or None; got {value!r}.")
    return value


@validate_arguments(
    {
        "subset": functools.partial(check_choice, choices=tuple(FMA_SHA1)),
        "data_home": functools.partial(expand_path, allow_none=True),
        "base_url": _check_url,
        "sha1": _check_sha1,
        "verify_files": check_bool,
        "keep_archive": check_bool,
        "n_retries": functools.partial(check_int, minimum=0),
        "timeout": check_positive,
        "progress": functools.partial(check_bool, allow_none=True),
    }
)
def fetch_fma(
    subset="metadata",
    *,
    data_home=None,
    base_url=FMA_URL,
    sha1=None,
    verify_files=False,
    keep_archive=False,
    n_retries=3,
    timeout=60.0,
    progress=None,
):
    """Download and unpack a part of the FMA into ``DATA_HOME/fma_{subset}``.

    The zip ``BASE_URL/fma_{subset}.zip`` is downloaded to
    ``DATA_HOME/fma_{subset}.zip`` (through a ``.part`` file that a later call
    resumes with an HTTP ``Range`` request), checked against its published
    SHA-1, and unpacked (bzip2, method 12, read by :mod:`zipfile`) into a
    hidden temporary folder that is renamed to ``fma_{subset}`` once complete,
    with a marker file written last: an interrupted call never leaves anything
    that looks complete, and a call for a folder already complete does nothing
    (not even connect). Members that would land outside the folder are refused.
    After this, :func:`load_fma` reads ``DATA_HOME``; it needs ``metadata``
    and one audio subset.

    Parameters
    ----------
    subset : {"metadata", "small", "medium", "large", "full"}, default="metadata"
        What to fetch: ``metadata`` (``tracks.csv``, ``genres.csv``,
        ``features.csv``, ``echonest.csv``; 342 MiB), or the MP3 clips of 30 s
        of ``small`` (8,000 tracks, 7.2 GiB), ``medium`` (25,000, 22 GiB),
        ``large`` (106,574, 93 GiB), or the whole tracks of ``full`` (879 GiB).
        Unpacking needs as much space again, unless the zip is deleted first
        (it is deleted after unpacking unless ``keep_archive=True``).
    data_home : str, os.PathLike or None, default=None
        The download folder; see :func:`get_data_home`.
    base_url : str, default=FMA_URL
        The folder URL of the zips (a mirror, or a local server in tests).
    sha1 : str or None, default=None
        Expected SHA-1 of the zip; ``None`` uses the published value of
        ``subset`` (``FMA_SHA1``).
    verify_files : bool, default=False
        Before completing, check every unpacked file against the ``checksums``
        file of the zip (``<sha1>  NNN/NNNNNN.mp3`` lines). Reads all the data
        once more.
    keep_archive : bool, default=False
        Keep the zip after unpacking it.
    n_retries : int, default=3
        How many times an interrupted transfer is resumed within this call.
    timeout : float, default=60.0
        Seconds to wait for the server on connecting or reading.
    progress : bool or None, default=None
        Show progress bars (tqdm) on stderr while downloading and unpacking:
        always, never, or (None) when stderr is a terminal.

    Returns
    -------
    path : str
        The unpacked folder, ``DATA_HOME/fma_{subset}``.

    Raises
    ------
    DownloadError
        If the download fails (after ``n_retries`` resumptions the partial
        file is kept for the next call), the SHA-1 of the zip or of an unpacked
        file differs, the zip holds an unsafe member, or ``fma_{subset}``
        exists without having been completed by this function, or was
        completed from a zip of another SHA-1 than ``sha1`` asks for. The
        message names the URL or the file.

    See Also
    --------
    load_fma : the paths and labels of the unpacked data.

    Examples
    --------
    >>> from skfma.datasets import fetch_fma, get_data_home, load_fma
    >>> fetch_fma("metadata")  # doctest: +SKIP
    '/home/me/skfma_data/fma_metadata'
    >>> fetch_fma("small")  # doctest: +SKIP
    '/home/me/skfma_data/fma_small'
    >>> fma = load_fma(get_data_home(), subset="small")  # doctest: +SKIP
    """
    data_home = get_data_home(data_home)
    name = f"fma_{subset}"
    folder = os.path.join(data_home, name)
    expected = (sha1 or FMA_SHA1[subset]).lower()
    marker = os.path.join(folder, COMPLETE_MARKER)
    if os.path.exists(marker):
        unpacked = _unpacked_sha1(marker)
        if unpacked != expected:
            raise DownloadError(
                f"{folder!r} was unpacked from a zip of SHA-1 {unpacked}, not the {expected} "
                "asked for (another release or mirror): delete it to fetch that one, or use "
                "another data_home."
            )
        return folder
    if os.path.exists(folder):
        raise DownloadError(
            f"{folder!r} exists but was not completed by fetch_fma; delete it to fetch again "
            "(a complete copy unpacked by hand can be read by load_fma as it is)."
        )
    url = base_url.rstrip("/") + f"/{name}.zip"
    archive = os.path.join(data_home, f"{name}.zip")
    if not os.path.exists(archive):
        download_file(
            url, archive, sha1=expected, timeout=timeout, n_retries=n_retries, progress=progress
        )
    elif file_sha1(archive) != expected:
        raise DownloadError(
            f"{archive!r} is not the published {name}.zip (its SHA-1 is not {expected}); "
            "delete it to download it again."
        )
    _unpack(archive, folder, url=url, sha1=expected, verify_files=verify_files, progress=progress)
    if not keep_archive:
        os.remove(archive)
    return folder


def _unpacked_sha1(marker):
    """The SHA-1 of the zip a complete folder was unpacked from (its marker's ``sha1`` line)."""
    with open(marker, encoding="utf-8") as file:
        for line in file:
            if line.startswith("sha1 "):
                return line.split()[1].lower()
    return None


def _unpack(archive, folder, *, url, sha1, verify_files, progress):
    """Unpack ``archive`` into ``folder`` atomically: temporary folder, marker, rename."""
    name = os.path.basename(folder)
    temporary = os.path.join(os.path.dirname(folder), f".{name}.partial")
    if os.path.exists(temporary):
        shutil.rmtree(temporary)  # left by an interrupted call
    try:
        extract_zip(archive, temporary, progress=progress)
        # The FMA zips hold one top folder named like the zip; unwrap it.
        nested = os.path.join(temporary, name)
        source = nested if os.listdir(temporary) == [name] and os.path.isdir(nested) else temporary
        if verify_files:
            verify_checksums(source)
        with open(os.path.join(source, COMPLETE_MARKER), "w", encoding="utf-8") as marker:
            marker.write(f"{url}\nsha1 {sha1}\nunpacked {datetime.now(UTC).isoformat()}\n")
        os.rename(source, folder)
    finally:
        if os.path.exists(temporary):
            shutil.rmtree(temporary)
