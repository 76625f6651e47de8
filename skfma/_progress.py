"""Progress bars on stderr (tqdm), shown to people and kept out of logs and tests."""

import sys

from tqdm.auto import tqdm

__all__ = ["progress_bar"]


def progress_bar(*, total, desc, unit, verbose=0, **kwargs):
    """A tqdm progress bar: count, rate and ETA on stderr.

    Shown when ``verbose > 0`` or stderr is a terminal; silent in pipes,
    logs and tests otherwise.

    Parameters
    ----------
    total : int
        Units of work in all.
    desc : str
        What is counted, e.g. ``"AudioFeatures"``.
    unit : str
        Name of one unit, e.g. ``"clip"`` or ``"B"``.
    verbose : int, default=0
        Above 0, show the bar even when stderr is not a terminal.
    **kwargs
        Passed to ``tqdm`` (``initial``, ``unit_scale``, ...).

    Returns
    -------
    bar : tqdm.tqdm
        Use it as a context manager; ``update(n)`` advances it.
    """
    disable = not (verbose > 0 or sys.stderr.isatty())
    return tqdm(total=total, desc=desc, unit=unit, disable=disable, file=sys.stderr, **kwargs)
