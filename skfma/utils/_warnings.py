"""Warnings that point at the user's line, whichever wrappers lie between."""

import importlib.util
import os
import sys
import warnings

__all__ = ["warn_user"]

#: Packages whose frames a warning skips: skfma's own, and those that call skfma's code
#: for the user (scikit-learn's set_output wrapper, Pipeline and searches; joblib's Memory
#: and Parallel, through which a Pipeline's steps run; skorch's training loop).
_LIBRARY_FOLDERS = tuple(
    os.path.join(folder, "")
    for name in (__name__.split(".")[0], "sklearn", "joblib", "skorch")
    if (spec := importlib.util.find_spec(name)) is not None
    for folder in spec.submodule_search_locations or ()
)


def warn_user(message, category=UserWarning):
    """``warnings.warn`` with the stack level of the first caller outside the libraries.

    A fixed ``stacklevel`` names the wrong line as soon as another wrapper
    sits between the user and the warning (scikit-learn's ``set_output``
    wrapper around ``transform``, a Pipeline, a decorator of skfma's): the
    level is counted here, frame by frame, up to the first frame whose file
    lies outside skfma, scikit-learn, joblib and skorch (Python 3.12's
    ``skip_file_prefixes``, on 3.11).

    Parameters
    ----------
    message : str
    category : type of Warning, default=UserWarning
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_FOLDERS):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)  # + 1: this function's own frame
