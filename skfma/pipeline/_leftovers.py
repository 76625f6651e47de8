"""Temporary files that name the process writing them, so that a later run can remove them.

A process killed while it writes (``kill -9``, a lost machine) leaves its
temporary files behind: a whole output in the feature cache (as large as the
features) or in ``/dev/shm`` (memory until the next reboot). Each such file's
name carries the host and the process id of its writer;
:func:`remove_orphans` removes the files whose writer ran on this host and has
ended, and leaves those of live processes (another run sharing the cache) and
of other hosts (a cache on a network share) alone.
"""

import contextlib
import glob
import os
import socket

__all__ = ["owner_tag", "remove_orphans"]

#: Between the parts of a temporary file's name; hosts' names never hold it.
SEPARATOR = "~"


def owner_tag():
    """``"~host~pid~"``: the part of a temporary file's name that says who writes it."""
    host = socket.gethostname().replace(SEPARATOR, "")
    return f"{SEPARATOR}{host}{SEPARATOR}{os.getpid()}{SEPARATOR}"


def _has_ended(pid):
    """Whether no process ``pid`` runs on this host (False where that cannot be known)."""
    if os.name == "nt":  # os.kill(pid, 0) sends CTRL_C_EVENT on Windows
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it runs, as another user
        return False
    return False


def remove_orphans(pattern):
    """Remove the files matching ``pattern`` whose writer ran on this host and has ended.

    Parameters
    ----------
    pattern : str
        A ``glob`` pattern of temporary files named with :func:`owner_tag`.

    Returns
    -------
    list of str
        The files removed.
    """
    host = socket.gethostname().replace(SEPARATOR, "")
    removed = []
    for path in glob.glob(pattern):
        parts = os.path.basename(path).rsplit(SEPARATOR, 3)
        if len(parts) != 4 or parts[1] != host or not parts[2].isdigit():
            continue
        if _has_ended(int(parts[2])):
            with contextlib.suppress(OSError):
                os.remove(path)
                removed.append(path)
    return removed
