"""Progress bars on stderr (tqdm), shown to people and kept out of logs and tests."""

import sys

from tqdm.auto import tqdm

__all__ = ["progress_bar"]


def progress_bar(*, total, desc, unit, show=None, **kwargs):
    """A tqdm progress bar: count, rate and ETA on stderr.

    By default shown only when stderr is a terminal: silent in pipes, logs
    and tests.

    Parameters
    ----------
    total : int
        Units of work in all.
    desc : str
        What is counted, e.g. ``"AudioFeatures"``.
    unit : str
        Name of one unit, e.g. ``"clip"`` or ``"B"``.
    show : bool or None, default=None
        True always shows the bar, False never; None shows it on a terminal.
    **kwargs
        Passed to ``tqdm`` (``initial``, ``unit_scale``, ...).

    Returns
    -------
    bar : tqdm.tqdm
        Use it as a context manager; ``update(n)`` advances it.
    """
    disable = {True: False, False: True, None: None}[show]  # tqdm: None = only on a terminal
    return tqdm(total=total, desc=desc, unit=unit, disable=disable, file=sys.stderr, **kwargs)
