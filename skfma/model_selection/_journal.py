"""A search's finished trials on disk, so that an interrupted search goes on after them."""

import os
import pickle

import numpy as np
from joblib import hash as stable_hash
from sklearn.utils import _safe_indexing

from ..exceptions import ParameterError
from ..utils import ensure_writable_folder, expand_path, write_atomically
from ..utils._files import checkpoint_errors
from ..utils._fingerprint import describe
from ._fold import _n_samples
from ._space import SearchSpace

__all__ = ["SearchJournal", "search_fingerprint"]

#: Bumped whenever the saved records change, so that an old journal is refused by name.
FORMAT = 1

#: The journal's file in the search's ``checkpoint`` folder.
FILENAME = "search.pkl"

#: Settings of a search that may differ between a run and the one it goes on with: more
#: trials, another verbosity, other workers, a refit asked or not, the folder itself.
RESUMABLE_CHANGES = frozenset({"checkpoint", "n_trials", "verbose", "n_jobs", "refit"})


def search_fingerprint(search, X, y, folds):
    """What identifies a search's run: its class and settings, and the data it splits.

    Parameters
    ----------
    search : BaseOptunaSearchCV
    X : array-like of shape (n_samples, ...)
    y : array-like or None
    folds : list of (ndarray, ndarray)
        The training and test indices of each fold.

    Returns
    -------
    fingerprint : dict of str to str
        ``"search"`` (its class), ``"data"`` (the number of samples, three of
        them, the labels and the folds) and one entry per setting that must
        not change, each a digest.
    """
    n = _n_samples(X)
    rows = sorted({0, n // 2, n - 1})
    data = (n, _safe_indexing(X, rows), None if y is None else np.asarray(y), folds)
    params = search.get_params(deep=False)
    params["param_distributions"] = SearchSpace(params["param_distributions"]).description()
    settings = {
        name: stable_hash(describe(value))
        for name, value in params.items()
        if name not in RESUMABLE_CHANGES
    }
    return {"search": type(search).__qualname__, "data": stable_hash(data), **settings}


class SearchJournal:
    """The finished trials of a search, rewritten whole after each one.

    Parameters
    ----------
    folder : str or os.PathLike
        The search's ``checkpoint``: created if needed; holds ``search.pkl``
        (and the refit net's own checkpoint).
    """

    def __init__(self, folder):
        self.folder = expand_path("checkpoint", folder)
        self.file = os.path.join(self.folder, FILENAME)

    def _named_errors(self, doing):
        return checkpoint_errors(doing, "the search's journal", self.file)

    def load(self, fingerprint):
        """The saved trials' records, oldest first ([] without a journal).

        Raises
        ------
        ParameterError
            Naming the folder and the settings that differ, if the journal is
            another search's (other settings or data).
        CheckpointError
            Naming the file, if it cannot be read or is not a journal of
            this version of skfma.
        """
        with self._named_errors("write"):
            ensure_writable_folder(self.folder)
        if not os.path.exists(self.file):
            return []
        with self._named_errors("read"), open(self.file, "rb") as file:
            saved = pickle.load(file)  # written by save(), in the user's own folder
            if not isinstance(saved, dict) or saved.get("format") != FORMAT:
                raise ValueError(
                    f"not a search journal of this version of skfma (format {FORMAT}); delete "
                    "it to search from the start"
                )
        differ = sorted(
            name
            for name in fingerprint.keys() | saved["run"].keys()
            if fingerprint.get(name) != saved["run"].get(name)
        )
        if differ:
            raise ParameterError(
                f"checkpoint={self.folder!r} holds the trials of another search (its "
                f"{', '.join(differ)} {'differs' if len(differ) == 1 else 'differ'} from this "
                "one's): give each search a folder of its own, or delete the folder to search "
                "from the start."
            )
        return saved["records"]

    def save(self, fingerprint, records):
        """Write the records of the trials finished so far, atomically."""

        def write(path):
            with open(path, "wb") as file:
                pickle.dump({"format": FORMAT, "run": fingerprint, "records": records}, file)

        with self._named_errors("write"):
            write_atomically(self.file, write)
