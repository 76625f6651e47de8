"""Seeds for torch, drawn from scikit-learn's ``random_state`` parameters."""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["torch_seed"]


def torch_seed(random_state):
    """An int seed for ``torch.manual_seed``, drawn from ``random_state``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        As scikit-learn takes it: an int gives the same seed every call, a
        ``RandomState`` advances, ``None`` draws from NumPy's global generator.

    Returns
    -------
    seed : int
        In ``[0, 2**31 - 1)``.
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
