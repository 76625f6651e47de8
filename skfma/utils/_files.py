"""Files written whole or not at all."""

import contextlib
import os
import uuid

__all__ = ["write_atomically"]


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
