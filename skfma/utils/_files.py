"""Files written whole or not at all, and a digest of which files a result was made from."""

import contextlib
import hashlib
import os
import shutil
import uuid

from ..exceptions import CheckpointError

__all__ = ["checkpoint_errors", "files_digest", "write_atomically"]


@contextlib.contextmanager
def checkpoint_errors(doing, what, path):
    """Raise any error of the block as a :class:`CheckpointError` naming ``what`` and ``path``.

    A failed write also says the space left on the disk of ``path``'s
    folder: torch's writer, on a full disk, says only "unexpected pos".

    Parameters
    ----------
    doing : {"read", "write"}
    what : str
        The file's role, such as ``"the training checkpoint"``.
    path : str or os.PathLike
    """
    try:
        yield
    except CheckpointError:
        raise
    except Exception as error:
        space = ""
        if doing == "write":
            with contextlib.suppress(OSError):
                free = shutil.disk_usage(os.path.dirname(os.fspath(path))).free
                space = f" ({free:,} bytes free on its disk)"
        raise CheckpointError(
            f"cannot {doing} {what} {os.fspath(path)!r}{space}: {type(error).__name__}: {error}"
        ) from error


def write_atomically(path, write):
    """Call ``write(temporary)``, then rename the temporary file to ``path``.

    A reader of ``path`` sees the old file or the whole new one, never half of
    it; the temporary file (beside ``path``, so the rename stays on one
    filesystem) is removed if ``write`` raises or is interrupted.

    Parameters
    ----------
    path : str
    write : callable
        Writes the content to the file name it is given.
    """
    temporary = f"{path}.{uuid.uuid4().hex}.tmp"
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def files_digest(paths, root):
    """A digest of which files, relative to ``root``, and of what sizes: what a result came from.

    The same for the same files moved or copied elsewhere with their folder
    (paths relative to ``root``; modification times are not part of it), and
    different for other files, another order, or a file of another size
    (most changes of an audio file's content). A missing file counts as
    size -1.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
    root : str or os.PathLike

    Returns
    -------
    digest : str
        Hexadecimal, 32 characters.
    """
    digest = hashlib.blake2b(digest_size=16)
    for path in paths:
        try:
            size = os.stat(path).st_size
        except OSError:
            size = -1
        relative = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
        digest.update(f"{relative}\0{size}\n".encode())
    return digest.hexdigest()
