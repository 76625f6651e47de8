"""Files written whole or not at all, and a digest of which files a result was made from."""

import contextlib
import hashlib
import os
import uuid

__all__ = ["files_digest", "write_atomically"]


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
